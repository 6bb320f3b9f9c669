/**
 * Topic subscriptions in Discord: the message a subscriber gets for a digest day (one embed listing each new paper
 * that matched, with the topics and why in words), and the sender that delivers it by DM or in the server's
 * subscription channel with a mention of that user only. The delivery loop (claim, send, finish) is
 * src/subscriptions/delivery.ts; this file turns Discord's answers into its DeliveryError kinds: a DM refused
 * (50007, DMs closed or no shared server) is `dm-closed`, a channel that is gone or forbidden is
 * `channel-unavailable`, anything else `failed`. A rate limit (429) is waited out by discord.js itself.
 */
import { DiscordAPIError, HTTPError, type APIEmbed, type Client, type MessageCreateOptions } from 'discord.js';
import { paperUrl } from '../sources/normalize.ts';
import { DeliveryError, type SubscriptionSender } from '../subscriptions/delivery.ts';
import type { PlannedNotification, PlannedPaper } from '../subscriptions/plan.ts';
import { escapeText, maskedLink, plainText, truncate } from './escape.ts';
import { COLORS, paperMeta } from './present.ts';
import { NO_MENTIONS } from './reply.ts';
import { LIMITS } from './split.ts';

/** Topics shown per paper; more are counted. */
const TOPICS_PER_PAPER = 3;
/** Room kept in the description for the "and N more" line. */
const MORE_RESERVE = 160;

export const SUBSCRIPTION_FOOTER = 'HF Daily Papers topic subscriptions';

function paperEntry(n: number, pp: PlannedPaper): string {
  const p = pp.paper;
  const topics = pp.topics
    .slice(0, TOPICS_PER_PAPER)
    .map((t) => `↳ matched your topic **${escapeText(t.topic)}**: ${escapeText(t.why)}`);
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
  if (rest > 0)
    entries.push(
      `…and ${rest} more matching paper${rest === 1 ? '' : 's'}: \`/digest date:${n.day}\` lists the whole day.`,
    );
  const embed: APIEmbed = {
    title: `New papers on your topics: ${n.day}`,
    url: `https://huggingface.co/papers/date/${n.day}`,
    description: truncate(entries.join('\n\n'), LIMITS.description),
    color: COLORS.paper,
    footer: {
      text: plainText(
        `${subscriptionMarker(n.day)} · ${shown.length} paper${shown.length === 1 ? '' : 's'} · /subscriptions to pause or change, /unsubscribe to stop`,
      ),
    },
  };
  return { embed, shown };
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
    if (codeOf(err) === 50007)
      throw new DeliveryError('dm-closed', 'Discord refused the DM (50007: DMs closed or no shared server)');
    throw err;
  }
}

/**
 * Sends one planned notification; returns the message id and the papers shown. Channel delivery mentions the
 * user, and only them; a user who left that server gets a DM instead.
 */
async function sendNotification(
  client: Client,
  n: PlannedNotification,
): Promise<{ messageId: string; shown: PlannedPaper[] }> {
  const { embed, shown } = subscriptionEmbed(n);
  const count = `${shown.length} new paper${shown.length === 1 ? '' : 's'}`;
  if (n.target.kind === 'dm') {
    const messageId = await sendDm(client, n.userId, {
      content: `${count} on your topics in the ${n.day} digest.`,
      embeds: [embed],
    });
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
      const messageId = await sendDm(client, n.userId, {
        content: `${count} on your topics in the ${n.day} digest.`,
        embeds: [embed],
      });
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
    if (code !== undefined && CHANNEL_UNAVAILABLE.has(code))
      throw unavailable(`channel or server unavailable (${code})`);
    throw err;
  }
}

/** The footer's start for a day's message: how a message a crash left unrecorded is found again. */
export function subscriptionMarker(day: string): string {
  return `${SUBSCRIPTION_FOOTER} · ${day}`;
}

/** Discord's answers that are final for this message: unknown user (10013), cannot DM, bad request. */
function kindOf(err: unknown): 'transient' | 'failed' {
  const status = err instanceof DiscordAPIError || err instanceof HTTPError ? err.status : undefined;
  if (status === undefined) return 'transient'; // a network error, a timeout, an abort: try again later
  return status >= 500 || status === 429 || status === 408 ? 'transient' : 'failed';
}

function asDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  return new DeliveryError(kindOf(err), describeError(err));
}

/** Where a notification went: the user's DM channel, or the server channel (a user who left gets a DM). */
async function channelOf(client: Client, n: PlannedNotification) {
  if (n.target.kind === 'channel') {
    const guild = client.guilds.cache.get(n.target.guildId) ?? (await client.guilds.fetch(n.target.guildId));
    const member = await guild.members.fetch({ user: n.userId, force: true }).catch(() => undefined);
    if (member) return client.channels.fetch(n.target.channelId);
  }
  return (await client.users.fetch(n.userId)).createDM();
}

/** Delivers subscription messages through the bot's client; every failure comes out as a DeliveryError. */
export function discordSubscriptionSender(client: Client): SubscriptionSender {
  return {
    async send(n) {
      try {
        return await sendNotification(client, n);
      } catch (err) {
        throw asDeliveryError(err);
      }
    },
    async find(n) {
      try {
        const channel = await channelOf(client, n);
        if (!channel || !('messages' in channel)) return undefined;
        const marker = subscriptionMarker(n.day);
        const recent = await channel.messages.fetch({ limit: 50 });
        const found = recent.find(
          (m) =>
            m.author.id === client.user?.id &&
            (n.target.kind === 'dm' || m.content.startsWith(`<@${n.userId}>`)) &&
            m.embeds.some((e) => e.footer?.text?.startsWith(marker)),
        );
        return found ? { messageId: found.id, shown: subscriptionEmbed(n).shown } : undefined;
      } catch (err) {
        throw asDeliveryError(err);
      }
    },
  };
}
