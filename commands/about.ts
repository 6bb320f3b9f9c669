/** `/about`: what the bot knows (days, papers, date range, model, answerer). */
import { MessageFlags, SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../src/discord/command.ts';
import { aboutEmbed } from '../src/discord/present.ts';
import { NO_MENTIONS } from '../src/discord/reply.ts';

export const data = new SlashCommandBuilder()
  .setName('about')
  .setDescription('What this bot knows: papers, days, model, answerer')
  .toJSON();

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const s = ctx.app.store.stats();
  const llm = ctx.app.config.llm;
  const answerer =
    llm.provider === 'extractive'
      ? 'extractive (quotes the abstracts; no language model)'
      : `${llm.provider}${llm.model ? `: ${llm.model}` : ''}`;
  await i.reply({
    embeds: [aboutEmbed({ ...s, model: ctx.app.indexModel()?.model ?? null, answerer }, ctx.commands)],
    flags: MessageFlags.Ephemeral,
    allowedMentions: NO_MENTIONS,
  });
}
