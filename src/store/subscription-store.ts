/**
 * Topic subscriptions in SQLite (the `subscribers`, `subscriptions`, `notified` and `deliveries` tables of
 * migration 2): who follows what, how they want it delivered, what each user was already told, and a ledger that
 * sends each user at most one message per digest day.
 *
 * Exactly once: the sender first claims (user, day) with an insert that does nothing on conflict, sends, then
 * finishes the claim and records the papers as notified in one transaction. A claim left in `sending` by a crash
 * can be taken again after `staleAfterMs`; that window (sent but not yet recorded when the process died) is the
 * only way a message can go out twice. A `sent` or `failed` day is never claimed again.
 */
import { UserFacingError } from '../errors.ts';
import type { Db } from './database.ts';
import { SqliteStore } from './sqlite-store.ts';
import { parseTopic, TopicError, topicKey } from '../subscriptions/topic.ts';

export const MAX_TOPICS_PER_USER = 25;
/** A `sending` claim older than this is taken to be from a crashed run. */
export type SubscriptionErrorCode = 'duplicate' | 'limit' | 'not-found' | 'channel-not-allowed';

/** A request the store refuses; the message is for the user. (Invalid topics throw `TopicError`.) */
export class SubscriptionError extends UserFacingError {
  override name = 'SubscriptionError';
  constructor(
    readonly code: SubscriptionErrorCode,
    message: string,
  ) {
    super(message);
  }
}
export { TopicError };

export interface Subscription {
  id: number;
  userId: string;
  /** As the user wrote it (whitespace collapsed). */
  topic: string;
  createdAt: string;
}

export type DeliveryMode = 'dm' | 'channel';

export interface Subscriber {
  userId: string;
  paused: boolean;
  delivery: DeliveryMode;
  /** The server whose subscription channel gets this user's messages (channel delivery). */
  guildId: string | null;
  /** When Discord last refused a DM to this user (error 50007); null when DMs are believed open. */
  dmClosedAt: string | null;
  /** Waiting to be told on the user's next command. */
  notice: string | null;
  createdAt: string;
}

/** Where a user's message goes: by DM, or in a server's subscription channel with a mention. */
export type DeliveryTarget = { kind: 'dm' } | { kind: 'channel'; guildId: string; channelId: string };

/** A subscriber who should get messages now, with their topics. */
export interface ActiveSubscriber {
  userId: string;
  target: DeliveryTarget;
  topics: string[];
}

interface SubscriberRow {
  user_id: string;
  paused: number;
  delivery: string;
  guild_id: string | null;
  dm_closed_at: string | null;
  notice: string | null;
  created_at: string;
}

const toSubscriber = (r: SubscriberRow): Subscriber => ({
  userId: r.user_id,
  paused: r.paused === 1,
  delivery: r.delivery === 'channel' ? 'channel' : 'dm',
  guildId: r.guild_id,
  dmClosedAt: r.dm_closed_at,
  notice: r.notice,
  createdAt: r.created_at,
});

export class SubscriptionStore extends SqliteStore {
  private readonly now: () => Date;
  readonly maxTopics: number;

  constructor(db: Db, opts: { now?: () => Date; maxTopics?: number } = {}) {
    super(db);
    this.now = opts.now ?? (() => new Date());
    this.maxTopics = opts.maxTopics ?? MAX_TOPICS_PER_USER;
  }

  private iso(): string {
    return this.now().toISOString();
  }

  private ensureSubscriber(userId: string): void {
    this.stmt('INSERT INTO subscribers (user_id, created_at) VALUES (?, ?) ON CONFLICT(user_id) DO NOTHING').run(
      userId,
      this.iso(),
    );
  }

  // ---- topics -------------------------------------------------------------------------------------------------

  /**
   * Follow a topic. Throws `TopicError` for a topic that does not parse (empty, too long, bad syntax) and
   * `SubscriptionError` for a duplicate (same topic up to case, punctuation and spacing) or a full list.
   */
  subscribe(userId: string, topic: string): { subscription: Subscription; count: number } {
    const parsed = parseTopic(topic);
    return this.db.transaction(() => {
      this.ensureSubscriber(userId);
      const existing = this.list(userId);
      const same = existing.find((s) => topicKey(s.topic) === parsed.key);
      if (same) throw new SubscriptionError('duplicate', `You already follow "${same.topic}".`);
      if (existing.length >= this.maxTopics) {
        throw new SubscriptionError(
          'limit',
          `You follow ${existing.length} topics, the most allowed is ${this.maxTopics}. Unsubscribe from one first.`,
        );
      }
      const createdAt = this.iso();
      const r = this.stmt('INSERT INTO subscriptions (user_id, topic, created_at) VALUES (?, ?, ?)').run(
        userId,
        parsed.text,
        createdAt,
      );
      const subscription = { id: Number(r.lastInsertRowid), userId, topic: parsed.text, createdAt };
      return { subscription, count: existing.length + 1 };
    })();
  }

  /** Stop following a topic, found by its key (case, punctuation and spacing aside). Throws if not followed. */
  unsubscribe(userId: string, topic: string): Subscription {
    const key = topicKey(topic);
    return this.db.transaction(() => {
      const found = this.list(userId).find((s) => topicKey(s.topic) === key || s.topic === topic.trim());
      if (!found)
        throw new SubscriptionError(
          'not-found',
          `You do not follow "${topic.trim()}". /subscriptions lists your topics.`,
        );
      this.stmt('DELETE FROM subscriptions WHERE id = ?').run(found.id);
      return found;
    })();
  }

  /** A user's topics, oldest first. */
  list(userId: string): Subscription[] {
    const rows = this.stmt(
      'SELECT id, user_id, topic, created_at FROM subscriptions WHERE user_id = ? ORDER BY id',
    ).all(userId) as {
      id: number;
      user_id: string;
      topic: string;
      created_at: string;
    }[];
    return rows.map((r) => ({ id: r.id, userId: r.user_id, topic: r.topic, createdAt: r.created_at }));
  }

  /** Every subscription (admin and CLI use), by user then age. */
  listAll(): Subscription[] {
    const rows = this.stmt('SELECT id, user_id, topic, created_at FROM subscriptions ORDER BY user_id, id').all() as {
      id: number;
      user_id: string;
      topic: string;
      created_at: string;
    }[];
    return rows.map((r) => ({ id: r.id, userId: r.user_id, topic: r.topic, createdAt: r.created_at }));
  }

  // ---- subscriber settings ------------------------------------------------------------------------------------

  subscriber(userId: string): Subscriber | undefined {
    const r = this.stmt('SELECT * FROM subscribers WHERE user_id = ?').get(userId) as SubscriberRow | undefined;
    return r && toSubscriber(r);
  }

  /** Pause or resume all of a user's topics. Throws `not-found` for a user who never subscribed. */
  setPaused(userId: string, paused: boolean): void {
    const r = this.stmt('UPDATE subscribers SET paused = ? WHERE user_id = ?').run(paused ? 1 : 0, userId);
    if (!r.changes)
      throw new SubscriptionError('not-found', 'You have no subscriptions yet. Follow a topic with /subscribe first.');
  }

  /**
   * Deliver by DM (the default), or in `guildId`'s subscription channel with a mention. Channel delivery needs the
   * server's admin to have set a subscription channel (`guild_settings.subscription_channel_id`).
   */
  setDelivery(userId: string, mode: DeliveryMode, guildId?: string): void {
    this.db.transaction(() => {
      if (mode === 'channel') {
        if (!guildId || !this.allowsChannel(guildId)) {
          throw new SubscriptionError(
            'channel-not-allowed',
            'This server does not allow subscription messages in a channel; ask an admin to set one, or keep DMs.',
          );
        }
      }
      this.ensureSubscriber(userId);
      this.stmt('UPDATE subscribers SET delivery = ?, guild_id = ? WHERE user_id = ?').run(
        mode,
        mode === 'channel' ? guildId! : null,
        userId,
      );
    })();
  }

  /**
   * Discord refused a DM (error 50007): stop DMing this user until they are back, and leave them a notice that is
   * shown on their next command.
   */
  markDmClosed(userId: string, notice?: string): void {
    this.db.transaction(() => {
      this.ensureSubscriber(userId);
      this.stmt('UPDATE subscribers SET dm_closed_at = ? WHERE user_id = ?').run(this.iso(), userId);
      this.addNotice(
        userId,
        notice ??
          'I could not send you your topic matches: your DMs are closed to me. Allow direct messages from this ' +
            "server's members (or choose channel delivery where the server allows it); I will try again with the next digest.",
      );
    })();
  }

  /** DMs may work again (the user is back): the next digest is tried by DM again. */
  clearDmClosed(userId: string): void {
    this.stmt('UPDATE subscribers SET dm_closed_at = NULL WHERE user_id = ?').run(userId);
  }

  /** Add a notice for the user's next command (appended to one already waiting). */
  addNotice(userId: string, text: string): void {
    this.db.transaction(() => {
      this.ensureSubscriber(userId);
      this.stmt(
        `UPDATE subscribers SET notice = CASE WHEN notice IS NULL OR notice = '' THEN ? ELSE notice || char(10) || ? END WHERE user_id = ?`,
      ).run(text, text, userId);
    })();
  }

  /** The waiting notice, once: it is cleared as it is returned. */
  takeNotice(userId: string): string | undefined {
    return this.db.transaction(() => {
      const r = this.stmt('SELECT notice FROM subscribers WHERE user_id = ?').get(userId) as
        | { notice: string | null }
        | undefined;
      if (!r?.notice) return undefined;
      this.stmt('UPDATE subscribers SET notice = NULL WHERE user_id = ?').run(userId);
      return r.notice;
    })();
  }

  /**
   * Call when a user runs any command: returns their waiting notice (once) and, since they are back, lifts a
   * DM-closed mark so that the next digest is tried once more (a refusal then marks them again).
   */
  checkIn(userId: string): string | undefined {
    return this.db.transaction(() => {
      const notice = this.takeNotice(userId);
      this.clearDmClosed(userId);
      return notice;
    })();
  }

  /**
   * Subscribers who should get messages now, with their topics: not paused, and reachable (channel delivery in a
   * server that still allows it, or DMs not marked closed). Channel delivery the server no longer allows falls
   * back to DMs.
   */
  activeSubscribers(): ActiveSubscriber[] {
    const rows = this.stmt(
      `SELECT s.user_id, s.topic, b.delivery, b.guild_id, b.dm_closed_at, g.subscription_channel_id AS channel_id
       FROM subscriptions s JOIN subscribers b ON b.user_id = s.user_id
       LEFT JOIN guild_settings g ON g.guild_id = b.guild_id
       WHERE b.paused = 0 ORDER BY s.user_id, s.id`,
    ).all() as {
      user_id: string;
      topic: string;
      delivery: string;
      guild_id: string | null;
      dm_closed_at: string | null;
      channel_id: string | null;
    }[];
    const out: ActiveSubscriber[] = [];
    for (const r of rows) {
      let last = out[out.length - 1];
      if (last?.userId !== r.user_id) {
        const target: DeliveryTarget | undefined =
          r.delivery === 'channel' && r.guild_id && r.channel_id
            ? { kind: 'channel', guildId: r.guild_id, channelId: r.channel_id }
            : r.dm_closed_at
              ? undefined
              : { kind: 'dm' };
        if (!target) continue;
        out.push((last = { userId: r.user_id, target, topics: [] }));
      }
      last.topics.push(r.topic);
    }
    return out;
  }

  /** Whether a server allows subscription messages in a channel (set in GuildSettingsStore). */
  private allowsChannel(guildId: string): boolean {
    return !!(
      this.stmt('SELECT subscription_channel_id AS c FROM guild_settings WHERE guild_id = ?').get(guildId) as
        | { c: string | null }
        | undefined
    )?.c;
  }
}
