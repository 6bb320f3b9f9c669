import { claimOnce, STALE_CLAIM_MS, type ClaimKind } from './claim-once.ts';
import { SqliteStore } from './sqlite-store.ts';

/** `retry`: a transient failure (a 5xx, a timeout) waiting for its next attempt; `failed` is final. */
export type DeliveryStatus = 'sending' | 'sent' | 'failed' | 'retry';

export interface Delivery {
  userId: string;
  day: string;
  status: DeliveryStatus;
  messageId: string | null;
  error: string | null;
  claimedAt: string;
  attempts: number;
  nextAttemptAt: string | null;
}

export type DeliveryOutcome =
  | { status: 'sent'; messageId?: string; paperIds: string[] }
  | { status: 'failed'; error: string }
  /** Transient: tried again later, with backoff, until RETRY_DELAYS_MS runs out (then failed). */
  | { status: 'retry'; error: string };

/** Waits before each further attempt of a transiently failed message: 11 attempts over about 13 hours. */
export const RETRY_DELAYS_MS = [1, 2, 5, 10, 30, 60, 60, 120, 120, 240].map((m) => m * 60_000);

/**
 * What each subscriber was sent (tables `deliveries`, `notified`): one message per (user, digest day), claimed
 * before sending and finished after (claim-once.ts), and every paper a user was told of, so none is told twice.
 */
export class DeliveryLedger extends SqliteStore {
  // ---- what each user was told --------------------------------------------------------------------------------

  /** The papers among `paperIds` this user was not notified of yet, in the given order. */
  unnotified(userId: string, paperIds: readonly string[]): string[] {
    if (!paperIds.length) return [];
    const told = new Set(
      this.stmt('SELECT paper_id FROM notified WHERE user_id = ? AND paper_id IN (SELECT value FROM json_each(?))')
        .pluck()
        .all(userId, JSON.stringify(paperIds)) as string[],
    );
    return paperIds.filter((id) => !told.has(id));
  }

  /** For each user, which of `paperIds` they were already notified of (one query for a whole digest day). */
  notifiedAmong(paperIds: readonly string[]): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    if (!paperIds.length) return out;
    const rows = this.stmt(
      'SELECT user_id, paper_id FROM notified WHERE paper_id IN (SELECT value FROM json_each(?))',
    ).all(JSON.stringify(paperIds)) as {
      user_id: string;
      paper_id: string;
    }[];
    for (const r of rows) (out.get(r.user_id) ?? out.set(r.user_id, new Set()).get(r.user_id)!).add(r.paper_id);
    return out;
  }

  /** Record papers as told to the user (papers already recorded keep their first day). */
  markNotified(userId: string, day: string, paperIds: readonly string[], now: Date): void {
    const ins = this.stmt(
      'INSERT INTO notified (user_id, paper_id, day, notified_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.db.transaction(() => {
      const at = now.toISOString();
      for (const id of paperIds) ins.run(userId, id, day, at);
    })();
  }

  // ---- the delivery ledger ------------------------------------------------------------------------------------

  /**
   * Claim the right to send `userId` their message for digest `day` (claim-once.ts): `claimed` for the first
   * caller or when a retry is due, `stale` for the one that takes over a claim left by a crash (whether the
   * message went out must be checked first), `taken` once the day was sent or failed, while another run is
   * sending it, or while a retry waits.
   */
  claim(userId: string, day: string, now: Date, staleMs = STALE_CLAIM_MS): ClaimKind {
    return claimOnce(this.db, 'deliveries', { user_id: userId, day }, now, { staleMs, retries: true });
  }

  /**
   * Finish a claimed delivery. `sent` records the papers as notified in the same transaction; `failed` is final for
   * that day (the papers are not recorded: they were not told); `retry` schedules the next attempt, or fails for
   * good when the attempts are used up. Returns false when there was no `sending` claim.
   */
  finish(userId: string, day: string, outcome: DeliveryOutcome, now: Date): boolean {
    return this.db.transaction(() => {
      let r: { changes: number };
      if (outcome.status === 'sent') {
        r = this.stmt(
          `UPDATE deliveries SET status = 'sent', message_id = ?, error = NULL, next_attempt_at = NULL
           WHERE user_id = ? AND day = ? AND status = 'sending'`,
        ).run(outcome.messageId ?? null, userId, day);
        // A message that went out is recorded even if its claim was taken over meanwhile: it was seen.
        this.markNotified(userId, day, outcome.paperIds, now);
      } else {
        const attempts = (this.get(userId, day)?.attempts ?? 0) + 1;
        const wait = outcome.status === 'retry' ? RETRY_DELAYS_MS[attempts - 1] : undefined;
        r = this.stmt(
          `UPDATE deliveries SET status = ?, error = ?, attempts = ?, next_attempt_at = ?
           WHERE user_id = ? AND day = ? AND status = 'sending'`,
        ).run(
          wait === undefined ? 'failed' : 'retry',
          outcome.error,
          attempts,
          wait === undefined ? null : new Date(now.getTime() + wait).toISOString(),
          userId,
          day,
        );
      }
      return r.changes === 1;
    })();
  }

  get(userId: string, day: string): Delivery | undefined {
    const r = this.stmt('SELECT * FROM deliveries WHERE user_id = ? AND day = ?').get(userId, day) as
      | {
          user_id: string;
          day: string;
          status: DeliveryStatus;
          message_id: string | null;
          error: string | null;
          claimed_at: string;
          attempts: number;
          next_attempt_at: string | null;
        }
      | undefined;
    return (
      r && {
        userId: r.user_id,
        day: r.day,
        status: r.status,
        messageId: r.message_id,
        error: r.error,
        claimedAt: r.claimed_at,
        attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at,
      }
    );
  }

  // ---- days to deliver ----------------------------------------------------------------------------------------

  /** Queue a complete digest day for delivery (a day queued before, pending or done, is left as it is). */
  queueDay(day: string, now: Date): void {
    this.stmt(
      `INSERT INTO subscription_days (day, status, queued_at) VALUES (?, 'pending', ?) ON CONFLICT(day) DO NOTHING`,
    ).run(day, now.toISOString());
  }

  /** Days queued and not yet delivered to everyone, oldest first. */
  pendingDays(): string[] {
    return this.stmt(`SELECT day FROM subscription_days WHERE status = 'pending' ORDER BY day`)
      .pluck()
      .all() as string[];
  }

  /** Messages of a day still open: being sent, or waiting for a retry. */
  openOn(day: string): number {
    return this.stmt(`SELECT COUNT(*) FROM deliveries WHERE day = ? AND status IN ('sending', 'retry')`)
      .pluck()
      .get(day) as number;
  }

  /** The earliest retry due on a day, if any (when to run again). */
  nextRetry(day: string): string | undefined {
    return (
      (this.stmt(`SELECT MIN(next_attempt_at) FROM deliveries WHERE day = ? AND status = 'retry'`).pluck().get(day) as
        | string
        | null) ?? undefined
    );
  }

  finishDay(day: string, now: Date): void {
    this.stmt(`UPDATE subscription_days SET status = 'done', finished_at = ? WHERE day = ?`).run(
      now.toISOString(),
      day,
    );
  }

  /**
   * Open messages of a day for users the plan no longer has (unsubscribed or paused since): a stale `sending`
   * claim or a waiting retry is closed as failed, so the day can finish. Returns how many.
   */
  abandonUnplanned(day: string, planned: readonly string[], now: Date, staleMs = STALE_CLAIM_MS): number {
    const staleBefore = new Date(now.getTime() - staleMs).toISOString();
    return this.stmt(
      `UPDATE deliveries SET status = 'failed', error = 'no longer planned: unsubscribed, paused or unreachable'
       WHERE day = ? AND user_id NOT IN (SELECT value FROM json_each(?))
         AND (status = 'retry' OR (status = 'sending' AND claimed_at <= ?))`,
    ).run(day, JSON.stringify(planned), staleBefore).changes;
  }
}
