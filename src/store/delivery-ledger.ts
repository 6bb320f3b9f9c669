import { claimOnce, STALE_CLAIM_MS, type ClaimKind } from './claim-once.ts';
import { SqliteStore } from './sqlite-store.ts';

export type DeliveryStatus = 'sending' | 'sent' | 'failed';

export interface Delivery {
  userId: string;
  day: string;
  status: DeliveryStatus;
  messageId: string | null;
  error: string | null;
  claimedAt: string;
}

export type DeliveryOutcome =
  | { status: 'sent'; messageId?: string; paperIds: string[] }
  | { status: 'failed'; error: string };

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
   * caller, `stale` for the one that takes over a claim left by a crash, `taken` once the day was sent or failed,
   * or while another run is sending it.
   */
  claim(userId: string, day: string, now: Date, staleMs = STALE_CLAIM_MS): ClaimKind {
    return claimOnce(this.db, 'deliveries', { user_id: userId, day }, now, { staleMs });
  }

  /**
   * Finish a claimed delivery. `sent` records the papers as notified in the same transaction; `failed` is final for
   * that day (the papers are not recorded: they were not told). Returns false when there was no `sending` claim.
   */
  finish(userId: string, day: string, outcome: DeliveryOutcome, now: Date): boolean {
    return this.db.transaction(() => {
      const r =
        outcome.status === 'sent'
          ? this.stmt(
              `UPDATE deliveries SET status = 'sent', message_id = ?, error = NULL WHERE user_id = ? AND day = ? AND status = 'sending'`,
            ).run(outcome.messageId ?? null, userId, day)
          : this.stmt(
              `UPDATE deliveries SET status = 'failed', error = ? WHERE user_id = ? AND day = ? AND status = 'sending'`,
            ).run(outcome.error, userId, day);
      // A message that went out is recorded even if its claim was taken over meanwhile: it was seen.
      if (outcome.status === 'sent') this.markNotified(userId, day, outcome.paperIds, now);
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
      }
    );
  }
}
