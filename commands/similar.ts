/** `/similar paper`: the papers nearest to a paper, with autocomplete on titles. */
import {
  SlashCommandBuilder,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import type { BotContext } from '../src/discord/command.ts';
import { UserError } from '../src/discord/command.ts';
import { isOwner, pageButtons, parsePageId } from '../src/discord/paginate.ts';
import { pageOf, similarEmbed } from '../src/discord/present.ts';
import { NO_MENTIONS, notify, sendEmbeds } from '../src/discord/reply.ts';
import type { Paper } from '../src/types.ts';
import { paperChoices, resolvePaper } from './paper.ts';

const RESULTS = 20;
const PER_PAGE = 5;

export const data = new SlashCommandBuilder()
  .setName('similar')
  .setDescription('Papers of the digest nearest to a paper')
  .addStringOption((o) =>
    o
      .setName('paper')
      .setDescription('arXiv id, link, or part of the title')
      .setRequired(true)
      .setAutocomplete(true)
      .setMaxLength(300),
  )
  .toJSON();

async function page(ctx: BotContext, paper: Paper, n: number, owner: string) {
  const hits = (await ctx.app.retriever()).similar(paper.id, { k: RESULTS });
  if (!hits) throw new UserError('That paper is not in the search index yet; try again after the next ingest.');
  const { items, info } = pageOf(hits, n, PER_PAGE);
  const state = { page: info.page, pages: info.pages, owner, args: [paper.id] };
  return {
    embeds: [similarEmbed(paper, items, info, PER_PAGE)],
    components: pageButtons('similar', state),
    disabled: pageButtons('similar', state, { disabled: true }),
  };
}

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const paper = resolvePaper(ctx.app, i.options.getString('paper', true));
  await i.deferReply();
  await ctx.acksFirst();
  const p = await page(ctx, paper, 0, i.user.id);
  const id = await sendEmbeds(i, [p.embeds], p.components);
  ctx.pages.arm(id, i, p.disabled);
}

export async function autocomplete(i: AutocompleteInteraction, ctx: BotContext): Promise<void> {
  await i.respond(paperChoices(ctx.app, i.options.getFocused()));
}

export async function button(i: ButtonInteraction, ctx: BotContext): Promise<void> {
  const s = parsePageId(i.customId);
  const paper = s?.args[0] ? ctx.app.store.get(s.args[0]) : undefined;
  if (!s || !paper) throw new UserError('This button no longer does anything.');
  if (!isOwner(i, s))
    return notify(i, 'Only the person who ran this command can turn its pages. Run `/similar` yourself to browse.');
  const p = await page(ctx, paper, s.page, s.owner);
  await i.update({ embeds: p.embeds, components: p.components, allowedMentions: NO_MENTIONS });
  ctx.pages.arm(i.message.id, i, p.disabled);
}
