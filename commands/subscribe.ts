/**
 * `/subscribe topic [mode]`: follow a topic; each new digest day's papers on it are sent to the user (one message a
 * day for all their topics). A topic is plain words (`speculative decoding`), `keyword:"exact phrase"` or
 * `author:"Jane Doe"`; `mode` writes the form for them. At most 25 topics of 100 characters each.
 */
import { SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../src/discord/command.ts';
import { UserError } from '../src/discord/command.ts';
import { escapeText } from '../src/discord/escape.ts';
import { parseTopic, MAX_TOPIC_LENGTH, type Topic } from '../src/subscriptions/topic.ts';
import { UserFacingError } from '../src/errors.ts';
import { notify } from '../src/discord/reply.ts';
import { deliveryText } from './subscriptions.ts';

export const data = new SlashCommandBuilder()
  .setName('subscribe')
  .setDescription("Get each new digest day's papers on a topic (one private message a day)")
  .addStringOption((o) =>
    o
      .setName('topic')
      .setDescription('e.g. speculative decoding, keyword:"world model" or author:"Jane Doe" (100 characters at most)')
      .setRequired(true)
      // Longer than a topic may be, so that a too-long one gets an explanation rather than a greyed-out button.
      .setMaxLength(300),
  )
  .addStringOption((o) =>
    o
      .setName('mode')
      .setDescription('How the topic is matched (default: by its words and meaning)')
      .addChoices(
        { name: 'words and meaning (default)', value: 'topic' },
        { name: 'keyword: the exact phrase', value: 'keyword' },
        { name: 'author: papers by this person', value: 'author' },
      ),
  )
  .toJSON();

const QUOTES = /^["\u201c\u201d\u201e\u00ab\u00bb]+|["\u201c\u201d\u201e\u00ab\u00bb]+$/g;
const FORM = /^\s*(keyword|kw|author)\s*:/i;

/** The topic as stored: `mode` keyword/author writes the form around plain text (a form already written must agree). */
export function topicWithMode(text: string, mode: string | null): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (!mode || mode === 'topic') return t;
  const form = FORM.exec(t)?.[1]?.toLowerCase();
  if (form) {
    const kind = form === 'author' ? 'author' : 'keyword';
    if (kind !== mode)
      throw new UserError(
        `"${escapeText(t)}" is written as a ${kind} topic but mode is ${mode}: leave out one of the two.`,
      );
    return t;
  }
  return `${mode}:"${t.replace(QUOTES, '').trim()}"`;
}

function explain(t: Topic): string {
  if (t.kind === 'author') return `papers with ${escapeText(t.name)} among the authors`;
  if (t.kind === 'keyword') return `papers whose title, abstract or keywords contain "${escapeText(t.phrase)}"`;
  return 'papers about it (by its words in the title, keywords and abstract, and by meaning)';
}

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const subs = ctx.app.subscriptions;
  const mode = i.options.getString('mode');
  const topic = topicWithMode(i.options.getString('topic', true), mode);
  let result: ReturnType<typeof subs.subscribe>;
  try {
    result = subs.subscribe(i.user.id, topic);
  } catch (err) {
    if (err instanceof UserFacingError && mode && mode !== 'topic' && [...topic].length > MAX_TOPIC_LENGTH) {
      throw new UserError(`${escapeText(err.message)} (mode ${mode} stores it as ${mode}:"…", which counts too)`);
    }
    throw err;
  }
  const { subscription, count } = result;
  const parsed = parseTopic(subscription.topic);
  const lines = [
    `Subscribed to **${escapeText(subscription.topic)}** (${count}/${subs.maxTopics} topics): ${explain(parsed)}.`,
    `Each new digest day, the papers on any of your topics come ${deliveryText(ctx.app, i.user.id)}, in one message; a paper is never sent twice.`,
  ];
  if (subs.subscriber(i.user.id)?.paused)
    lines.push('Your subscriptions are paused: `/subscriptions resume` to get the messages.');
  await notify(i, lines.join('\n'));
}
