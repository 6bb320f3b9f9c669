/** `/help`: every command, one line each, privately. */
import { MessageFlags, SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../src/discord/command.ts';
import { helpEmbed } from '../src/discord/present.ts';
import { NO_MENTIONS } from '../src/discord/reply.ts';

export const data = new SlashCommandBuilder()
  .setName('help')
  .setDescription('Every command of this bot, one line each')
  .toJSON();

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  await i.reply({ embeds: [helpEmbed(ctx.commands)], flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS });
}
