/**
 * `/highlights set|show|off|preview|subscriptions-channel`: a server's daily highlights post, and the channel where
 * members may choose to get their topic-subscription matches (admins only: Manage Server).
 * Settings live in SQLite; the scheduler (src/highlights/scheduler.ts) does the posting.
 */
import { isTimeZone } from '../src/dates.ts';
import {
  ChannelType,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type ChatInputCommandInteraction,
} from 'discord.js';
import { buildHighlights } from '../src/highlights/build.ts';

import { firstPostAtOrAfter } from '../src/highlights/scheduler.ts';
import type { BotContext } from '../src/discord/command.ts';
import { UserError } from '../src/discord/command.ts';
import { highlightsEmbed } from '../src/discord/highlights-post.ts';
import { notify, NO_MENTIONS } from '../src/discord/reply.ts';

export const data = new SlashCommandBuilder()
  .setName('highlights')
  .setDescription("This server's Daily Papers settings: the daily highlights post, the subscriptions channel")
  .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
  .setContexts(InteractionContextType.Guild)
  .addSubcommand((s) =>
    s
      .setName('set')
      .setDescription('Post the highlights every day in a channel, at a local time')
      .addChannelOption((o) =>
        o
          .setName('channel')
          .setDescription('Where to post')
          .addChannelTypes(ChannelType.GuildText, ChannelType.GuildAnnouncement)
          .setRequired(true),
      )
      .addStringOption((o) =>
        o.setName('time').setDescription('Local time, HH:MM (24 h), e.g. 09:00').setRequired(true).setMaxLength(5),
      )
      .addStringOption((o) =>
        o
          .setName('timezone')
          .setDescription('IANA time zone, e.g. Europe/Paris, America/New_York, UTC')
          .setRequired(true)
          .setMaxLength(64),
      )
      .addIntegerOption((o) =>
        o.setName('count').setDescription('How many papers (default 5)').setMinValue(1).setMaxValue(10),
      ),
  )
  .addSubcommand((s) => s.setName('show').setDescription('The current settings and the last posts'))
  .addSubcommand((s) => s.setName('off').setDescription('Stop posting highlights'))
  .addSubcommand((s) => s.setName('preview').setDescription("Show me (only me) the latest digest's highlights"))
  .addSubcommand((s) =>
    s
      .setName('subscriptions-channel')
      .setDescription('Let members get their topic matches in a channel, with a mention (leave out: DMs only)')
      .addChannelOption((o) =>
        o.setName('channel').setDescription('Where topic matches may be posted').addChannelTypes(ChannelType.GuildText),
      ),
  )
  .toJSON();

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

export async function execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const guildId = i.guildId;
  if (!guildId) throw new UserError('Highlights are set per server: use this command in a server.');
  const store = ctx.app.highlights;
  const settings = ctx.app.guildSettings;
  const sub = i.options.getSubcommand();
  const notices = store.takeNotices(guildId, ctx.now());
  const withNotices = (text: string) =>
    notices.length ? `${text}\n\n**Earlier problems:**\n${notices.map((n) => `- ${n}`).join('\n')}` : text;

  if (sub === 'set') {
    const channel = i.options.getChannel('channel', true);
    const time = i.options.getString('time', true).trim();
    const tz = i.options.getString('timezone', true).trim();
    const count = i.options.getInteger('count') ?? 5;
    const m = TIME.exec(time);
    if (!m) throw new UserError(`"${time}" is not a time: use HH:MM on a 24-hour clock, e.g. 09:00 or 17:30.`);
    if (!isTimeZone(tz)) {
      throw new UserError(
        `"${tz}" is not a time zone I know. Use an IANA name such as Europe/Paris, America/New_York, Asia/Tokyo or UTC.`,
      );
    }
    const postTime = `${m[1]!.padStart(2, '0')}:${m[2]}`;
    const s = settings.setSettings({ guildId, channelId: channel.id, postTime, timeZone: tz, count }, ctx.now());
    const next = firstPostAtOrAfter(s, ctx.now());
    await notify(
      i,
      withNotices(
        `Daily highlights: top ${count} papers in <#${channel.id}> at ${postTime} ${tz} (next check <t:${Math.floor(next.getTime() / 1000)}:f>). Each digest day is posted once.`,
      ),
    );
    return;
  }
  if (sub === 'subscriptions-channel') {
    const channel = i.options.getChannel('channel');
    const had = ctx.app.guildSettings.subscriptionChannel(guildId);
    ctx.app.guildSettings.setSubscriptionChannel(guildId, channel?.id ?? null, ctx.now());
    await notify(
      i,
      withNotices(
        channel
          ? `Members may now get their topic matches in <#${channel.id}>, with a mention of them only: each chooses it with \`/subscriptions delivery mode:here\`. The others keep DMs.`
          : had
            ? 'Topic matches are no longer posted in a channel here: members who chose it get them by DM again.'
            : 'Topic matches were not posted in a channel here; members get them by DM.',
      ),
    );
    return;
  }
  if (sub === 'show') {
    const s = settings.settings(guildId);
    const subsChannel = ctx.app.guildSettings.subscriptionChannel(guildId);
    const subsLine = subsChannel ? `\nTopic subscriptions may be posted in <#${subsChannel}>.` : '';
    if (!s?.enabled) {
      await notify(
        i,
        withNotices(`Highlights are off in this server. Turn them on with \`/highlights set\`.${subsLine}`),
      );
      return;
    }
    const last = store.posts(guildId).slice(-3).reverse();
    const posts = last.length
      ? last.map((p) => `- ${p.day}: ${p.status}${p.error ? ` (${p.error})` : ''}`).join('\n')
      : '- none yet';
    await notify(
      i,
      withNotices(
        `Top ${s.count} papers in <#${s.channelId}> at ${s.postTime} ${s.timeZone}.\nLast posts:\n${posts}${subsLine}`,
      ),
    );
    return;
  }
  if (sub === 'off') {
    const was = settings.disable(guildId, ctx.now());
    await notify(
      i,
      withNotices(
        was ? 'Highlights are off. Turn them back on with `/highlights set`.' : 'Highlights were already off.',
      ),
    );
    return;
  }
  // preview
  const day = ctx.app.store.latestDay();
  if (!day) throw new UserError('The digest is empty: no papers have been ingested yet.');
  const count = settings.settings(guildId)?.count ?? 5;
  const h = buildHighlights(ctx.app.store, await ctx.app.vectors(), day, count);
  await i.reply({
    content: notices.length ? withNotices('Preview:') : undefined,
    embeds: [highlightsEmbed(h)],
    flags: MessageFlags.Ephemeral,
    allowedMentions: NO_MENTIONS,
  });
}
