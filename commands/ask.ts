/** `/ask question [since] [until]`: a cited answer from the digest. */
import { SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../src/discord/command.ts';
import { parseRange } from '../src/discord/options.ts';
import { answerMessages } from '../src/discord/present.ts';
import { notify, sendEmbeds } from '../src/discord/reply.ts';

export const data = new SlashCommandBuilder()
  .setName('ask')
  .setDescription('Ask a question about the Hugging Face Daily Papers digest; the answer cites its papers')
  .addStringOption((o) =>
    o.setName('question').setDescription('What you want to know').setRequired(true).setMinLength(3).setMaxLength(500),
  )
  .addStringOption((o) =>
    o.setName('since').setDescription('Only papers from this digest day on: YYYY-MM-DD, today, yesterday or 7d'),
  )
  .addStringOption((o) =>
    o.setName('until').setDescription('Only papers up to this digest day: YYYY-MM-DD, today, yesterday or 7d'),
  )
  .toJSON();

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const question = i.options.getString('question', true);
  const range = parseRange(i.options.getString('since'), i.options.getString('until'), ctx.now());
  const waitMs = ctx.askCooldown.take(i.user.id);
  if (waitMs > 0) {
    await notify(
      i,
      `You can ask again in ${Math.ceil(waitMs / 1000)} s (one question every ${ctx.askCooldown.seconds} s per person).`,
    );
    return;
  }
  await i.deferReply();
  const conversation = `${i.channelId}:${i.user.id}`;
  const answer = await ctx.answerLimit(async () => {
    // Answering is CPU work on this thread: interactions that arrived meanwhile are acknowledged first, so
    // they get their deferral within Discord's 3 s however many questions are queued.
    await ctx.acksFirst();
    return (await ctx.asker()).ask(question, { ...range, previous: ctx.recentAnswers.get(conversation) });
  });
  // What this answer showed, so that "the second one" or "which of these have code?" can refer to it next.
  const shown = answer.outcome === 'answer' ? answer.citations.map((c) => c.paper) : answer.closest.map((c) => c.paper);
  if (shown.length) ctx.recentAnswers.set(conversation, shown);
  await sendEmbeds(i, answerMessages(answer, range));
}
