/** `/digest [date]`: one day's papers ranked by upvotes (default: the latest digest), ten a page. */
import { SlashCommandBuilder, type ButtonInteraction, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../src/discord/command.ts';
import { UserError } from '../src/discord/command.ts';
import { parseDay } from '../src/discord/options.ts';
import { isOwner, pageButtons, parsePageId } from '../src/discord/paginate.ts';
import { digestEmbed, pageOf } from '../src/discord/present.ts';
import { NO_MENTIONS, notify, sendEmbeds } from '../src/discord/reply.ts';

const PER_PAGE = 8;

export const data = new SlashCommandBuilder()
  .setName('digest')
  .setDescription("A day's Daily Papers, most upvoted first")
  .addStringOption((o) =>
    o.setName('date').setDescription('Digest day: YYYY-MM-DD, today, yesterday or 7d (default: the latest)'),
  )
  .toJSON();

function page(ctx: BotContext, day: string, n: number, owner: string) {
  const papers = ctx.app.store.papersBetween({ since: day, until: day });
  const { items, info } = pageOf(papers, n, PER_PAGE);
  const state = { page: info.page, pages: info.pages, owner, args: [day] };
  return {
    count: papers.length,
    embeds: [digestEmbed(day, items, info, PER_PAGE)],
    components: pageButtons('digest', state),
    disabled: pageButtons('digest', state, { disabled: true }),
  };
}

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const asked = parseDay(i.options.getString('date'), 'date', ctx.now());
  const day = asked ?? ctx.app.store.latestDay();
  if (!day) throw new UserError('The digest is empty: no papers have been ingested yet.');
  const p = page(ctx, day, 0, i.user.id);
  if (!p.count) {
    const before = ctx.app.store.latestDay(day);
    throw new UserError(
      `No digest for ${day} (weekends have none).${before ? ` The latest one before it is ${before}: try \`/digest date:${before}\`.` : ''}`,
    );
  }
  const id = await sendEmbeds(i, [p.embeds], p.components);
  ctx.pages.arm(id, i, p.disabled);
}

export async function button(i: ButtonInteraction, ctx: BotContext): Promise<void> {
  const s = parsePageId(i.customId);
  const day = s?.args[0];
  if (!s || !day) throw new UserError('This button no longer does anything.');
  if (!isOwner(i, s))
    return notify(i, 'Only the person who opened this digest can turn its pages. Run `/digest` yourself to browse.');
  const p = page(ctx, day, s.page, s.owner);
  await i.update({ embeds: p.embeds, components: p.components, allowedMentions: NO_MENTIONS });
  ctx.pages.arm(i.message.id, i, p.disabled);
}
