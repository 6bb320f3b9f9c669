import { claimOnce, STALE_CLAIM_MS } from './claim-once.ts';
import { SqliteStore } from './sqlite-store.ts';

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
 * Highlights state in SQLite (tables `posts`, `admin_notices`): the post ledger that makes posting exactly-once
 * (a post is claimed before it is sent and finished after) and notices waiting for a server's admins. Settings
 * are in GuildSettingsStore, fetch runs in FetchRunStore.
 */
export class HighlightsStore extends SqliteStore {
  // --- the post ledger ------------------------------------------------------------------------------------------

  /**
   * Claim the post of `day` for a server. Exactly one caller gets `claimed` (SQLite serializes the insert);
   * a `sending` claim older than `staleMs` comes back as `stale` to the one caller that takes it over.
   */
  claimPost(guildId: string, day: string, channelId: string, now: Date, staleMs = STALE_CLAIM_MS): Claim {
    const kind = claimOnce(this.db, 'posts', { guild_id: guildId, day }, now, {
      extra: { channel_id: channelId },
      staleMs,
    });
    return kind === 'claimed' ? { kind } : { kind, record: this.post(guildId, day)! };
  }

  finishPost(guildId: string, day: string, result: { messageId: string } | { error: string }, now: Date): void {
    this.stmt(
      `UPDATE posts SET status = ?, message_id = ?, error = ?, finished_at = ? WHERE guild_id = ? AND day = ?`,
    ).run(
      'messageId' in result ? 'sent' : 'failed',
      'messageId' in result ? result.messageId : null,
      'error' in result ? result.error : null,
      now.toISOString(),
      guildId,
      day,
    );
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
    this.stmt('INSERT INTO admin_notices (guild_id, text, created_at) VALUES (?, ?, ?)').run(
      guildId,
      text,
      now.toISOString(),
    );
  }

  /** Undelivered notices of a server, marked delivered: each is told once. */
  takeNotices(guildId: string, now: Date): string[] {
    return this.db.transaction(() => {
      const rows = this.stmt(
        'SELECT id, text FROM admin_notices WHERE guild_id = ? AND delivered_at IS NULL ORDER BY id',
      ).all(guildId) as { id: number; text: string }[];
      for (const r of rows)
        this.stmt('UPDATE admin_notices SET delivered_at = ? WHERE id = ?').run(now.toISOString(), r.id);
      return rows.map((r) => r.text);
    })();
  }
}
