import type { Db } from './database.ts';

/** A `sending` claim older than this was left by a run that died mid-send. */
export const STALE_CLAIM_MS = 10 * 60_000;

/**
 * The outcome of claiming one ledger row: `claimed` (first), `stale` (a `sending` claim from a run that died,
 * taken over: whether the message went out must be checked before sending again), or `taken`.
 */
export type ClaimKind = 'claimed' | 'stale' | 'taken';

/**
 * The exactly-once claim behind every ledger (highlight posts, subscription deliveries): in one immediate
 * transaction, the first caller inserts a `sending` row; a `sending` row claimed more than `staleMs` ago is taken
 * over by one caller; with `retries`, a `retry` row whose `next_attempt_at` has come is claimed again; any other
 * existing row is taken. The ledger table has the key columns, `status` and `claimed_at` (and `next_attempt_at`
 * with `retries`); `extra` columns are written with a new row. Time is the caller's `now` (the job's clock).
 */
export function claimOnce(
  db: Db,
  table: string,
  key: Record<string, string>,
  now: Date,
  opts: { extra?: Record<string, string | number | null>; staleMs?: number; retries?: boolean } = {},
): ClaimKind {
  const keys = Object.keys(key);
  const extra = opts.extra ?? {};
  const cols = [...keys, ...Object.keys(extra), 'status', 'claimed_at'];
  const where = keys.map((k) => `${k} = @${k}`).join(' AND ');
  const at = now.toISOString();
  const params = { ...key, ...extra, status: 'sending', claimed_at: at };
  return db
    .transaction((): ClaimKind => {
      const inserted = db
        .prepare(
          `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')}) ON CONFLICT(${keys.join(', ')}) DO NOTHING`,
        )
        .run(params);
      if (inserted.changes) return 'claimed';
      const row = db.prepare(`SELECT * FROM ${table} WHERE ${where}`).get(key) as {
        status: string;
        claimed_at: string;
        next_attempt_at?: string | null;
      };
      // A transient failure waiting for its next attempt (ledgers with `retries`): due now, it is claimed again.
      if (opts.retries && row.status === 'retry' && (row.next_attempt_at ?? '') <= at) {
        db.prepare(`UPDATE ${table} SET status = 'sending', claimed_at = @claimed_at WHERE ${where}`).run({
          ...key,
          claimed_at: at,
        });
        return 'claimed';
      }
      if (row.status === 'sending' && now.getTime() - Date.parse(row.claimed_at) > (opts.staleMs ?? STALE_CLAIM_MS)) {
        db.prepare(`UPDATE ${table} SET claimed_at = @claimed_at WHERE ${where}`).run({ ...key, claimed_at: at });
        return 'stale';
      }
      return 'taken';
    })
    .immediate();
}
