/** `/search query [since] [until]`: ranked papers, five a page. */
import { SlashCommandBuilder, type ButtonInteraction, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../src/discord/command.ts';
import { UserError } from '../src/discord/command.ts';
import { parseRange } from '../src/discord/options.ts';
import { isOwner, pageButtons, parsePageId } from '../src/discord/paginate.ts';
import { pageOf, searchEmbed } from '../src/discord/present.ts';
import { NO_MENTIONS, notify, sendEmbeds } from '../src/discord/reply.ts';
import type { DateRange } from '../src/types.ts';

const RESULTS = 25;
const PER_PAGE = 5;

export const data = new SlashCommandBuilder()
  .setName('search')
  .setDescription('Search the digest (meaning and keywords)')
  .addStringOption((o) => o.setName('query').setDescription('What to look for').setRequired(true).setMaxLength(300))
  .addStringOption((o) =>
    o.setName('since').setDescription('Only papers from this digest day on: YYYY-MM-DD, today, yesterday or 7d'),
  )
  .addStringOption((o) =>
    o.setName('until').setDescription('Only papers up to this digest day: YYYY-MM-DD, today, yesterday or 7d'),
  )
  .toJSON();

async function page(ctx: BotContext, query: string, range: DateRange, n: number, owner: string) {
  const hits = await (await ctx.app.retriever()).search(query, { k: RESULTS, ...range });
  const { items, info } = pageOf(hits, n, PER_PAGE);
  const state = { page: info.page, pages: info.pages, owner, args: [range.since ?? '', range.until ?? ''] };
  return {
    embeds: [searchEmbed(query, items, info, PER_PAGE, range)],
    components: pageButtons('search', state),
    disabled: pageButtons('search', state, { disabled: true }),
  };
}

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const query = i.options.getString('query', true);
  const range = parseRange(i.options.getString('since'), i.options.getString('until'), ctx.now());
  await i.deferReply();
  await ctx.acksFirst();
  const p = await page(ctx, query, range, 0, i.user.id);
  const id = await sendEmbeds(i, [p.embeds], p.components);
  ctx.pages.arm(id, i, p.disabled);
}

export async function button(i: ButtonInteraction, ctx: BotContext): Promise<void> {
  const s = parsePageId(i.customId);
  if (!s) throw new UserError('This button no longer does anything.');
  if (!isOwner(i, s))
    return notify(i, 'Only the person who ran this search can turn its pages. Run `/search` yourself to browse.');
  // The query travels in the embed's title link (the HF search URL); dates and page in the custom_id.
  const link = i.message.embeds[0]?.url;
  const query = link ? new URL(link).searchParams.get('q') : null;
  if (!query) throw new UserError('This result list can no longer be paged; run `/search` again.');
  const [since = '', until = ''] = s.args;
  const range: DateRange = { ...(since ? { since } : {}), ...(until ? { until } : {}) };
  const p = await page(ctx, query, range, s.page, s.owner);
  await i.update({ embeds: p.embeds, components: p.components, allowedMentions: NO_MENTIONS });
  ctx.pages.arm(i.message.id, i, p.disabled);
}
