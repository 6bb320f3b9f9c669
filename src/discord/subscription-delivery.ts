/**
 * Topic subscriptions in Discord: the message a subscriber gets for a digest day (one embed listing each new paper
 * that matched, with the topics and why), sent by DM or in the server's subscription channel with a mention of
 * that user only, and `deliverDay`, which plans a day and sends every message once:
 *
 *   planNotifications -> for each user: claimDelivery -> send -> finishDelivery (the papers are recorded as told)
 *
 * Failures stay with their user: a DM refused by Discord (50007, DMs closed or no shared server) is recorded with
 * `markDmClosed` (no more DMs until the user runs a command, who is then told why), a channel that is gone or
 * forbidden is recorded and told to the user, anything else is recorded as failed for that day and logged. A
 * rate limit (429) is waited out by discord.js itself. A day is final once sent or failed: it is never retried.
 */
import { DiscordAPIError, HTTPError, type APIEmbed, type Client, type MessageCreateOptions } from 'discord.js';
import pLimit from 'p-limit';
import type { App } from '../app.ts';
import type { Logger } from '../log.ts';
import { paperUrl } from '../sources/normalize.ts';
import { planNotifications, type PlannedNotification, type PlannedPaper } from '../subscriptions/plan.ts';
import { escapeText, maskedLink, plainText, truncate } from './escape.ts';
import { COLORS, paperMeta } from './present.ts';
import { NO_MENTIONS } from './reply.ts';
import { LIMITS } from './split.ts';


/** Topics shown per paper; more are counted. */
const TOPICS_PER_PAPER = 3;
/** Room kept in the description for the "and N more" line. */
const MORE_RESERVE = 160;
/** Users served at once: a long rate limit on one DM channel does not hold up everyone else. */
const DEFAULT_CONCURRENCY = 4;

export const SUBSCRIPTION_FOOTER = 'HF Daily Papers topic subscriptions';

function paperEntry(n: number, pp: PlannedPaper): string {
  const p = pp.paper;
  const topics = pp.topics.slice(0, TOPICS_PER_PAPER).map((t) => `↳ **${escapeText(t.topic)}**: ${escapeText(t.reason)}`);
  const more = pp.topics.length - TOPICS_PER_PAPER;
  if (more > 0) topics.push(`↳ and ${more} more of your topics`);
  return [`**${n}.** ${maskedLink(truncate(p.title, 200), paperUrl(p))}`, paperMeta(p), ...topics].join('\n');
}

/**
 * The embed of one notification, and the papers it shows: as many as fit in one embed, best first; the rest are
 * counted with a pointer to `/digest`. Only the papers shown are recorded as told.
 */
export function subscriptionEmbed(n: PlannedNotification): { embed: APIEmbed; shown: PlannedPaper[] } {
  const budget = LIMITS.description - MORE_RESERVE;
  const entries: string[] = [];
  const shown: PlannedPaper[] = [];
  let length = 0;
  for (const pp of n.papers) {
    const entry = paperEntry(shown.length + 1, pp);
    if (shown.length && length + entry.length + 2 > budget) break;
    entries.push(entry);
    shown.push(pp);
    length += entry.length + 2;
  }
  const rest = n.papers.length - shown.length;
  if (rest > 0) entries.push(`…and ${rest} more matching paper${rest === 1 ? '' : 's'}: \`/digest date:${n.day}\` lists the whole day.`);
  const embed: APIEmbed = {
    title: `New papers on your topics: ${n.day}`,
    url: `https://huggingface.co/papers/date/${n.day}`,
    description: truncate(entries.join('\n\n'), LIMITS.description),
    color: COLORS.paper,
    footer: {
      text: plainText(`${SUBSCRIPTION_FOOTER} · ${n.day} · ${shown.length} paper${shown.length === 1 ? '' : 's'} · /subscriptions to pause or change, /unsubscribe to stop`),
    },
  };
  return { embed, shown };
}

/** Why a message could not be delivered, as far as the user's settings are concerned. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    readonly kind: 'dm-closed' | 'channel-unavailable',
    message: string,
    readonly channelId?: string,
  ) {
    super(message);
  }
}

/** One line for the ledger and the log: `DiscordAPIError 50013: Missing Permissions`, `HTTPError 500: ...`. */
function describeError(err: unknown): string {
  if (err instanceof DiscordAPIError) return `DiscordAPIError ${err.code}: ${err.message}`;
  if (err instanceof HTTPError) return `HTTPError ${err.status}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

const codeOf = (err: unknown): number | string | undefined => (err instanceof DiscordAPIError ? err.code : undefined);

/** Discord's answers that mean a channel will not take this message: unknown channel or guild, missing access or permissions. */
const CHANNEL_UNAVAILABLE = new Set<number | string>([10003, 10004, 50001, 50013]);

async function sendDm(client: Client, userId: string, payload: MessageCreateOptions): Promise<string> {
  try {
    return (await client.users.send(userId, { ...payload, allowedMentions: NO_MENTIONS })).id;
  } catch (err) {
    if (codeOf(err) === 50007) throw new DeliveryError('dm-closed', 'Discord refused the DM (50007: DMs closed or no shared server)');
    throw err;
  }
}

/**
 * Sends one planned notification; returns the message id and the papers shown. Channel delivery mentions the
 * user, and only them; a user who left that server gets a DM instead.
 */
export async function sendNotification(client: Client, n: PlannedNotification): Promise<{ messageId: string; shown: PlannedPaper[] }> {
  const { embed, shown } = subscriptionEmbed(n);
  const count = `${shown.length} new paper${shown.length === 1 ? '' : 's'}`;
  if (n.target.kind === 'dm') {
    const messageId = await sendDm(client, n.userId, { content: `${count} on your topics in the ${n.day} digest.`, embeds: [embed] });
    return { messageId, shown };
  }
  const { guildId, channelId } = n.target;
  const unavailable = (why: string) => new DeliveryError('channel-unavailable', why, channelId);
  try {
    const guild = client.guilds.cache.get(guildId) ?? (await client.guilds.fetch(guildId));
    const member = await guild.members.fetch({ user: n.userId, force: true }).catch((err: unknown) => {
      if (codeOf(err) === 10007) return undefined; // Unknown Member: they left the server
      throw err;
    });
    if (!member) {
      const messageId = await sendDm(client, n.userId, { content: `${count} on your topics in the ${n.day} digest.`, embeds: [embed] });
      return { messageId, shown };
    }
    const channel = await client.channels.fetch(channelId);
    if (!channel?.isSendable()) throw unavailable('not a channel the bot can post in');
    const msg = await channel.send({
      content: `<@${n.userId}> ${count} on your topics in the ${n.day} digest.`,
      embeds: [embed],
      allowedMentions: { users: [n.userId] },
    });
    return { messageId: msg.id, shown };
  } catch (err) {
    if (err instanceof DeliveryError) throw err;
    const code = codeOf(err);
    if (code !== undefined && CHANNEL_UNAVAILABLE.has(code)) throw unavailable(`channel or server unavailable (${code})`);
    throw err;
  }
}

export interface DeliveryReport {
  day: string;
  /** Users with new matching papers that day. */
  planned: number;
  sent: number;
  /** DMs refused (50007): recorded, the user is told on their next command. */
  dmClosed: number;
  failed: number;
  /** Already sent, failed or being sent by another run. */
  skipped: number;
}

/**
 * Tells every active subscriber about a digest day's new papers on their topics: one message per user, each paper
 * once per user ever, whatever the number of runs, re-ingests or restarts (the ledger in SubscriptionStore).
 * Call it after the day was ingested; it never throws for one user's failure.
 */
export async function deliverDay(app: App, client: Client, day: string, log: Logger, opts: { concurrency?: number } = {}): Promise<DeliveryReport> {
  const subs = app.subscriptions;
  await app.corpusChanged(); // the day was just ingested: word statistics and topic profiles changed
  const matcher = await app.topicMatcher();
  const plan = await planNotifications({ subscriptions: subs, papers: app.store }, matcher, day, {
    onInvalidTopic: (userId, topic, error) => log.warn('subscriptions.invalid_topic', { user: userId, topic, error: error.message }),
  });
  const report: DeliveryReport = { day, planned: plan.length, sent: 0, dmClosed: 0, failed: 0, skipped: 0 };
  const limit = pLimit(opts.concurrency ?? DEFAULT_CONCURRENCY);

  const deliver = async (n: PlannedNotification): Promise<void> => {
    if (!subs.claimDelivery(n.userId, day)) {
      report.skipped++;
      return;
    }
    try {
      const { messageId, shown } = await sendNotification(client, n);
      subs.finishDelivery(n.userId, day, { status: 'sent', messageId, paperIds: shown.map((p) => p.paper.id) });
      report.sent++;
      log.info('subscriptions.sent', { user: n.userId, day, target: n.target.kind, papers: shown.length });
    } catch (err) {
      const message = describeError(err);
      subs.finishDelivery(n.userId, day, { status: 'failed', error: message });
      if (err instanceof DeliveryError && err.kind === 'dm-closed') {
        subs.markDmClosed(n.userId);
        report.dmClosed++;
        log.warn('subscriptions.dm_closed', { user: n.userId, day });
        return;
      }
      report.failed++;
      if (err instanceof DeliveryError && err.kind === 'channel-unavailable') {
        subs.addNotice(
          n.userId,
          `I could not post your topic matches of ${day} in <#${err.channelId}>: the channel is gone or I may not post there. ` +
            'Ask a server admin, or get them by DM with `/subscriptions delivery mode:dm`.',
        );
      }
      log.warn('subscriptions.failed', { user: n.userId, day, target: n.target.kind, error: message });
    }
  };

  await Promise.all(
    plan.map((n) =>
      limit(async () => {
        try {
          await deliver(n);
        } catch (err) {
          // The ledger itself failed (SQLite): this user is left out, the others go on.
          report.failed++;
          log.warn('subscriptions.failed', { user: n.userId, day, error: (err as Error).message });
        }
      }),
    ),
  );
  if (report.planned) log.info('subscriptions.done', { ...report });
  return report;
}
