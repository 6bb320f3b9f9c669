/** `/unsubscribe topic`: stop following a topic; autocomplete offers the user's own topics. */
import { SlashCommandBuilder, type AutocompleteInteraction, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../src/discord/command.ts';
import { escapeText, plainText, truncate } from '../src/discord/escape.ts';
import { fold } from '../src/subscriptions/topic.ts';
import { notify } from '../src/discord/reply.ts';

export const data = new SlashCommandBuilder()
  .setName('unsubscribe')
  .setDescription('Stop following one of your topics')
  .addStringOption((o) =>
    o
      .setName('topic')
      .setDescription('One of your topics (see /subscriptions list)')
      .setRequired(true)
      .setAutocomplete(true)
      .setMaxLength(300),
  )
  .toJSON();

/** A choice value holds 100 characters; a longer topic (astral characters count twice) is chosen by its id. */
const BY_ID = /^#(\d+)$/;

export async function autocomplete(i: AutocompleteInteraction, ctx: BotContext): Promise<void> {
  const typed = fold(i.options.getFocused()).trim();
  const topics = ctx.app.subscriptions.list(i.user.id).filter((s) => !typed || fold(s.topic).includes(typed));
  await i.respond(
    topics.slice(0, 25).map((s) => ({
      name: truncate(plainText(s.topic), 100) || `#${s.id}`,
      value: s.topic.length <= 100 ? s.topic : `#${s.id}`,
    })),
  );
}

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const subs = ctx.app.subscriptions;
  const typed = i.options.getString('topic', true);
  const id = BY_ID.exec(typed.trim())?.[1];
  const topic = (id && subs.list(i.user.id).find((s) => s.id === Number(id))?.topic) || typed;
  const removed = subs.unsubscribe(i.user.id, topic); // a SubscriptionError is shown to the user as is (router)
  const left = subs.list(i.user.id).length;
  await notify(
    i,
    `Unsubscribed from **${escapeText(removed.topic)}**. ` +
      (left
        ? `You follow ${left} other topic${left === 1 ? '' : 's'} (\`/subscriptions list\`).`
        : 'You follow no topics now: no more messages.'),
  );
}
