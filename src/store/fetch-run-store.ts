import { SqliteStore } from './sqlite-store.ts';

/** One fetch of a digest day (table `ingest_runs`), for operators and for knowing when a day's list is complete. */
export interface FetchRun {
  day: string;
  startedAt: string;
  outcome: string;
  fetched: number | null;
  added: number | null;
  error: string | null;
}

/** The daily fetch job's runs in SQLite. */
export class FetchRunStore extends SqliteStore {
  startRun(day: string, now: Date): number {
    return Number(
      this.stmt(`INSERT INTO ingest_runs (day, started_at, outcome) VALUES (?, ?, 'running')`).run(
        day,
        now.toISOString(),
      ).lastInsertRowid,
    );
  }

  finishRun(id: number, r: { fetched: number; added: number; updated: number } | { error: string }, now: Date): void {
    if ('error' in r)
      this.stmt(`UPDATE ingest_runs SET outcome = 'failed', error = ?, finished_at = ? WHERE id = ?`).run(
        r.error,
        now.toISOString(),
        id,
      );
    else
      this.stmt(
        `UPDATE ingest_runs SET outcome = 'ok', fetched = ?, added = ?, updated = ?, finished_at = ? WHERE id = ?`,
      ).run(r.fetched, r.added, r.updated, now.toISOString(), id);
  }

  /** The last successful fetch of a day that started at or after `after`, if any. */
  lastGoodRun(day: string, after = ''): { startedAt: string; fetched: number } | undefined {
    const r = this.stmt(
      `SELECT started_at, fetched FROM ingest_runs WHERE day = ? AND outcome = 'ok' AND started_at >= ? ORDER BY id DESC LIMIT 1`,
    ).get(day, after) as { started_at: string; fetched: number } | undefined;
    return r && { startedAt: r.started_at, fetched: r.fetched };
  }

  runs(limit = 50): FetchRun[] {
    return (
      this.stmt('SELECT day, started_at, outcome, fetched, added, error FROM ingest_runs ORDER BY id DESC LIMIT ?').all(
        limit,
      ) as {
        day: string;
        started_at: string;
        outcome: string;
        fetched: number | null;
        added: number | null;
        error: string | null;
      }[]
    ).map((r) => ({
      day: r.day,
      startedAt: r.started_at,
      outcome: r.outcome,
      fetched: r.fetched,
      added: r.added,
      error: r.error,
    }));
  }
}
