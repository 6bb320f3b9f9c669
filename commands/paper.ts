/** `/paper id_or_title`: one paper, with autocomplete on titles. */
import { SlashCommandBuilder, type AutocompleteInteraction, type ChatInputCommandInteraction } from 'discord.js';
import type { App } from '../src/app.ts';
import type { BotContext } from '../src/discord/command.ts';
import { UserError } from '../src/discord/command.ts';
import { escapeText, plainText, truncate } from '../src/discord/escape.ts';
import { paperEmbed } from '../src/discord/present.ts';
import { NO_MENTIONS } from '../src/discord/reply.ts';
import type { Paper } from '../src/types.ts';

export const data = new SlashCommandBuilder()
  .setName('paper')
  .setDescription('Show one paper of the digest')
  .addStringOption((o) =>
    o
      .setName('id_or_title')
      .setDescription('arXiv id, link, or part of the title')
      .setRequired(true)
      .setAutocomplete(true)
      .setMaxLength(300),
  )
  .toJSON();

/** Autocomplete choices for a paper option: titles containing what was typed (latest digest when empty). */
export function paperChoices(app: App, typed: string): { name: string; value: string }[] {
  // Choice names hold at most 100 characters: the title gives way, the day stays.
  return app.store
    .findByTitle(typed, 25)
    .map((p) => ({ name: `${truncate(plainText(p.title), 100 - ` (${p.date})`.length)} (${p.date})`, value: p.id }));
}

/** A paper from an id, an arXiv/HF link, or a title (or part of one). */
export function resolvePaper(app: App, input: string): Paper {
  const text = input.trim();
  const fromLink =
    /(?:arxiv\.org\/(?:abs|pdf)|huggingface\.co\/papers)\/([\w.-]+?)(?:v\d+)?(?:\.pdf)?(?:[?#/]|$)/i.exec(text)?.[1];
  const paper = app.store.get(fromLink ?? text) ?? app.store.findByTitle(text, 1)[0];
  if (!paper)
    throw new UserError(
      `No paper in the digest matches "${escapeText(truncate(text, 80))}". Pick one from the suggestions while typing.`,
    );
  return paper;
}

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const paper = resolvePaper(ctx.app, i.options.getString('id_or_title', true));
  await i.reply({ embeds: [paperEmbed(paper)], allowedMentions: NO_MENTIONS });
}

export async function autocomplete(i: AutocompleteInteraction, ctx: BotContext): Promise<void> {
  await i.respond(paperChoices(ctx.app, i.options.getFocused()));
}
