import { SqliteStore } from './sqlite-store.ts';

/** A server's highlights settings. */
export interface GuildSettings {
  guildId: string;
  channelId: string;
  /** `HH:MM`, local to `timeZone`. */
  postTime: string;
  timeZone: string;
  count: number;
  enabled: boolean;
  createdAt: string;
}

export type PostStatus = 'sending' | 'sent' | 'failed';

export interface PostRecord {
  guildId: string;
  day: string;
  channelId: string;
  status: PostStatus;
  messageId: string | null;
  error: string | null;
  claimedAt: string;
}

/** The outcome of trying to claim a (server, day) post. */
export type Claim =
  | { kind: 'claimed' }
  /** A claim left by a run that died mid-send: whether the message went out must be checked first. */
  | { kind: 'stale'; record: PostRecord }
  | { kind: 'taken'; record: PostRecord };

interface SettingsRow {
  guild_id: string;
  channel_id: string;
  post_time: string;
  time_zone: string;
  count: number;
  enabled: number;
  created_at: string;
}

const toSettings = (r: SettingsRow): GuildSettings => ({
  guildId: r.guild_id,
  channelId: r.channel_id,
  postTime: r.post_time,
  timeZone: r.time_zone,
  count: r.count,
  enabled: r.enabled === 1,
  createdAt: r.created_at,
});

interface PostRow {
  guild_id: string;
  day: string;
  channel_id: string;
  status: PostStatus;
  message_id: string | null;
  error: string | null;
  claimed_at: string;
}

const toPost = (r: PostRow): PostRecord => ({
  guildId: r.guild_id,
  day: r.day,
  channelId: r.channel_id,
  status: r.status,
  messageId: r.message_id,
  error: r.error,
  claimedAt: r.claimed_at,
});

/**
 * Highlights state in SQLite: settings per server, the post ledger that makes posting exactly-once (a post is
 * claimed before it is sent and finished after), notices waiting for a server's admins, and fetch runs.
 */
export class HighlightsStore extends SqliteStore {
  // --- settings -------------------------------------------------------------------------------------------------

  setSettings(s: Omit<GuildSettings, 'createdAt' | 'enabled'>, now: Date): GuildSettings {
    const at = now.toISOString();
    this.stmt(
      `INSERT INTO guild_settings (guild_id, channel_id, post_time, time_zone, count, enabled, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT(guild_id) DO UPDATE SET channel_id = excluded.channel_id, post_time = excluded.post_time,
         time_zone = excluded.time_zone, count = excluded.count, enabled = 1, updated_at = excluded.updated_at,
         -- Turning highlights back on must not post the days missed while they were off.
         created_at = CASE WHEN guild_settings.enabled = 1 THEN guild_settings.created_at ELSE excluded.created_at END`,
    ).run(s.guildId, s.channelId, s.postTime, s.timeZone, s.count, at, at);
    return this.settings(s.guildId)!;
  }

  settings(guildId: string): GuildSettings | undefined {
    const r = this.stmt('SELECT * FROM guild_settings WHERE guild_id = ?').get(guildId) as SettingsRow | undefined;
    return r && toSettings(r);
  }

  enabledGuilds(): GuildSettings[] {
    return (this.stmt('SELECT * FROM guild_settings WHERE enabled = 1 ORDER BY guild_id').all() as SettingsRow[]).map(toSettings);
  }

  disable(guildId: string, now: Date): boolean {
    return this.stmt('UPDATE guild_settings SET enabled = 0, updated_at = ? WHERE guild_id = ? AND enabled = 1').run(now.toISOString(), guildId).changes > 0;
  }

  // --- the post ledger ------------------------------------------------------------------------------------------

  /**
   * Claim the post of `day` for a server. Exactly one caller gets `claimed` (SQLite serializes the insert);
   * a `sending` claim older than `staleMs` comes back as `stale` to the one caller that takes it over.
   */
  claimPost(guildId: string, day: string, channelId: string, now: Date, staleMs = 10 * 60_000): Claim {
    return this.db.transaction((): Claim => {
      const inserted = this.stmt(
        `INSERT INTO posts (guild_id, day, channel_id, status, claimed_at) VALUES (?, ?, ?, 'sending', ?)
         ON CONFLICT(guild_id, day) DO NOTHING`,
      ).run(guildId, day, channelId, now.toISOString());
      if (inserted.changes) return { kind: 'claimed' };
      const record = this.post(guildId, day)!;
      if (record.status === 'sending' && now.getTime() - Date.parse(record.claimedAt) > staleMs) {
        this.stmt('UPDATE posts SET claimed_at = ? WHERE guild_id = ? AND day = ?').run(now.toISOString(), guildId, day);
        return { kind: 'stale', record };
      }
      return { kind: 'taken', record };
    }).immediate();
  }

  finishPost(guildId: string, day: string, result: { messageId: string } | { error: string }, now: Date): void {
    this.stmt(
      `UPDATE posts SET status = ?, message_id = ?, error = ?, finished_at = ? WHERE guild_id = ? AND day = ?`,
    ).run('messageId' in result ? 'sent' : 'failed', 'messageId' in result ? result.messageId : null, 'error' in result ? result.error : null, now.toISOString(), guildId, day);
  }

  post(guildId: string, day: string): PostRecord | undefined {
    const r = this.stmt('SELECT * FROM posts WHERE guild_id = ? AND day = ?').get(guildId, day) as PostRow | undefined;
    return r && toPost(r);
  }

  posts(guildId: string): PostRecord[] {
    return (this.stmt('SELECT * FROM posts WHERE guild_id = ? ORDER BY day').all(guildId) as PostRow[]).map(toPost);
  }

  // --- notices for admins ---------------------------------------------------------------------------------------

  addNotice(guildId: string, text: string, now: Date): void {
    this.stmt('INSERT INTO admin_notices (guild_id, text, created_at) VALUES (?, ?, ?)').run(guildId, text, now.toISOString());
  }

  /** Undelivered notices of a server, marked delivered: each is told once. */
  takeNotices(guildId: string, now: Date): string[] {
    return this.db.transaction(() => {
      const rows = this.stmt('SELECT id, text FROM admin_notices WHERE guild_id = ? AND delivered_at IS NULL ORDER BY id').all(guildId) as { id: number; text: string }[];
      for (const r of rows) this.stmt('UPDATE admin_notices SET delivered_at = ? WHERE id = ?').run(now.toISOString(), r.id);
      return rows.map((r) => r.text);
    })();
  }

  // --- fetch runs -----------------------------------------------------------------------------------------------

  startRun(day: string, now: Date): number {
    return Number(this.stmt(`INSERT INTO ingest_runs (day, started_at, outcome) VALUES (?, ?, 'running')`).run(day, now.toISOString()).lastInsertRowid);
  }

  finishRun(id: number, r: { fetched: number; added: number; updated: number } | { error: string }, now: Date): void {
    if ('error' in r) this.stmt(`UPDATE ingest_runs SET outcome = 'failed', error = ?, finished_at = ? WHERE id = ?`).run(r.error, now.toISOString(), id);
    else this.stmt(`UPDATE ingest_runs SET outcome = 'ok', fetched = ?, added = ?, updated = ?, finished_at = ? WHERE id = ?`).run(r.fetched, r.added, r.updated, now.toISOString(), id);
  }

  /** The last successful fetch of a day that started at or after `after`, if any. */
  lastGoodRun(day: string, after = ''): { startedAt: string; fetched: number } | undefined {
    const r = this.stmt(`SELECT started_at, fetched FROM ingest_runs WHERE day = ? AND outcome = 'ok' AND started_at >= ? ORDER BY id DESC LIMIT 1`).get(day, after) as { started_at: string; fetched: number } | undefined;
    return r && { startedAt: r.started_at, fetched: r.fetched };
  }

  runs(limit = 50): { day: string; startedAt: string; outcome: string; fetched: number | null; added: number | null; error: string | null }[] {
    return (this.stmt('SELECT day, started_at, outcome, fetched, added, error FROM ingest_runs ORDER BY id DESC LIMIT ?').all(limit) as {
      day: string; started_at: string; outcome: string; fetched: number | null; added: number | null; error: string | null;
    }[]).map((r) => ({ day: r.day, startedAt: r.started_at, outcome: r.outcome, fetched: r.fetched, added: r.added, error: r.error }));
  }
}
