/**
 * `/subscriptions list|pause|resume|delivery`: a user's topic subscriptions, privately. Delivery is by DM, or
 * `here`: in this server's subscription channel with a mention, where a server admin allowed one
 * (`/highlights subscriptions-channel`). The messages themselves are sent by src/discord/subscription-delivery.ts.
 */
import { MessageFlags, SlashCommandBuilder, type APIEmbed, type ChatInputCommandInteraction } from 'discord.js';
import type { App } from '../src/app.ts';
import type { BotContext } from '../src/discord/command.ts';
import { UserError } from '../src/discord/command.ts';
import { escapeText, plainText } from '../src/discord/escape.ts';
import { COLORS } from '../src/discord/present.ts';
import { notify, NO_MENTIONS } from '../src/discord/reply.ts';

export const data = new SlashCommandBuilder()
  .setName('subscriptions')
  .setDescription('Your topic subscriptions: list them, pause or resume them, choose where they arrive')
  .addSubcommand((s) => s.setName('list').setDescription('Your topics and how you get them (only you see this)'))
  .addSubcommand((s) => s.setName('pause').setDescription('Stop the messages for now; your topics are kept'))
  .addSubcommand((s) => s.setName('resume').setDescription('Get the messages again'))
  .addSubcommand((s) =>
    s
      .setName('delivery')
      .setDescription("By DM, or in this server's subscription channel with a mention (where an admin allows it)")
      .addStringOption((o) =>
        o
          .setName('mode')
          .setDescription('Where your matches arrive')
          .setRequired(true)
          .addChoices(
            { name: 'by DM (default)', value: 'dm' },
            { name: "here: this server's subscription channel", value: 'here' },
          ),
      ),
  )
  .toJSON();

/** Where this user's messages go now, in words (`by DM`, `in #channel with a mention`), with any caveat. */
export function deliveryText(app: App, userId: string): string {
  const s = app.subscriptions.subscriber(userId);
  if (s?.delivery === 'channel' && s.guildId) {
    const channel = app.guildSettings.subscriptionChannel(s.guildId);
    if (channel) return `in <#${channel}> with a mention of you`;
    return 'by DM (the server you chose no longer allows them in a channel)';
  }
  if (s?.dmClosedAt) return 'by DM (the last one was refused: allow DMs from server members, or I cannot reach you)';
  return 'by DM';
}

function listEmbed(app: App, userId: string): APIEmbed {
  const subs = app.subscriptions;
  const topics = subs.list(userId);
  const s = subs.subscriber(userId);
  const status = s?.paused
    ? 'Paused: nothing is sent until `/subscriptions resume`.'
    : `Active: new papers ${deliveryText(app, userId)}, at most one message per digest day.`;
  return {
    title: `Your topics (${topics.length}/${subs.maxTopics})`,
    color: COLORS.list,
    description: [topics.map((t, n) => `**${n + 1}.** ${escapeText(t.topic)}`).join('\n'), '', status].join('\n'),
    footer: {
      text: plainText(
        '/subscribe to add a topic · /unsubscribe to remove one · /subscriptions pause, resume or delivery',
      ),
    },
  };
}

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const subs = ctx.app.subscriptions;
  const userId = i.user.id;
  const sub = i.options.getSubcommand();
  if (sub === 'list') {
    if (!subs.list(userId).length) {
      await notify(
        i,
        'You follow no topics yet. Follow one with `/subscribe`, e.g. `/subscribe topic:speculative decoding`.',
      );
      return;
    }
    await i.reply({
      embeds: [listEmbed(ctx.app, userId)],
      flags: MessageFlags.Ephemeral,
      allowedMentions: NO_MENTIONS,
    });
    return;
  }
  if (sub === 'pause' || sub === 'resume') {
    const paused = sub === 'pause';
    const was = subs.subscriber(userId)?.paused;
    subs.setPaused(userId, paused);
    if (was === paused)
      await notify(i, paused ? 'Your subscriptions were already paused.' : 'Your subscriptions were not paused.');
    else if (paused)
      await notify(i, 'Paused: you get no messages until `/subscriptions resume`. Your topics are kept.');
    else
      await notify(
        i,
        `Resumed: new papers on your topics come ${deliveryText(ctx.app, userId)}, starting with the next digest day.`,
      );
    return;
  }
  // delivery
  const mode = i.options.getString('mode', true);
  if (mode === 'dm') {
    subs.setDelivery(userId, 'dm');
    await notify(
      i,
      'Your matches now come by DM. Allow DMs from server members (Privacy Settings) so that I can reach you.',
    );
    return;
  }
  if (!i.guildId) throw new UserError("`here` means a server's subscription channel: use it in that server.");
  subs.setDelivery(userId, 'channel', i.guildId);
  await notify(
    i,
    `Your matches now come ${deliveryText(ctx.app, userId)}. Back to DMs: \`/subscriptions delivery mode:dm\`.`,
  );
}
