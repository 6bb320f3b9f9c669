import { addDays } from '../dates.ts';
import type { Logger } from '../log.ts';
import { OutageCounter } from '../http.ts';
import { papersFromApiResponse } from '../sources/files.ts';
import type { HfDailyPapersApi } from '../sources/hf-api.ts';
import type { FetchRunStore } from '../store/fetch-run-store.ts';
import { completionOf } from '../highlights/scheduler.ts';
import type { Ingester } from './ingester.ts';

export interface FetchOutcome {
  day: string;
  fetched: number;
  added: number;
  updated: number;
  error?: string;
}

export interface DailyFetcherDeps {
  api: HfDailyPapersApi;
  ingester: () => Promise<Ingester>;
  runs: FetchRunStore;
  now: () => Date;
  log: Logger;
  /** How many past days are fetched again when they were never fetched complete (downtime, first start). */
  catchUpDays?: number;
  /**
   * Called for each day that is complete and was fetched complete in this run, before the fetch is recorded: what
   * it records (the subscription delivery queue) is durable before the day counts as fetched, so a crash between
   * the two fetches the day again instead of losing its delivery. If it throws, the fetch is recorded as failed.
   */
  onDayComplete?: (day: string) => void | Promise<void>;
}

/**
 * Pulls new digest days from the HF API and ingests them. Today's list is fetched every run; a past day is
 * fetched until one fetch has started after its list was complete (02:30 UTC the next morning), which also
 * indexes the papers added late. Every fetch is recorded in `ingest_runs`. Failures are recorded and logged;
 * they never throw into the scheduler.
 */
export class DailyFetcher {
  private running?: Promise<FetchOutcome[]>;

  constructor(private readonly deps: DailyFetcherDeps) {}

  run(): Promise<FetchOutcome[]> {
    this.running ??= this.fetchDue().finally(() => (this.running = undefined));
    return this.running;
  }

  /** The days this run should fetch, oldest first. */
  daysToFetch(now: Date): string[] {
    const today = now.toISOString().slice(0, 10);
    const days: string[] = [];
    for (let i = this.deps.catchUpDays ?? 7; i >= 1; i--) {
      const day = addDays(today, -i);
      const complete = completionOf(day);
      // Still filling, or never fetched since it was complete: fetch (again).
      if (complete > now || !this.deps.runs.lastGoodRun(day, complete.toISOString())) days.push(day);
    }
    days.push(today);
    return days;
  }

  private async fetchDue(): Promise<FetchOutcome[]> {
    const { api, runs, log } = this.deps;
    const outcomes: FetchOutcome[] = [];
    const ingester = await this.deps.ingester();
    const days = this.daysToFetch(this.deps.now());
    const outage = new OutageCounter();
    for (const [i, day] of days.entries()) {
      const startedAt = this.deps.now();
      const id = runs.startRun(day, startedAt);
      try {
        const entries = await api.fetchDay(day);
        const run = ingester.start();
        run.add(papersFromApiResponse(`${api.endpoint}/api/daily_papers?date=${day}`, entries, day));
        const s = await run.finish();
        if (completionOf(day) <= startedAt) await this.deps.onDayComplete?.(day);
        runs.finishRun(id, { fetched: entries.length, added: s.added, updated: s.updated }, this.deps.now());
        outcomes.push({ day, fetched: entries.length, added: s.added, updated: s.updated });
        outage.succeeded();
        if (s.added || s.updated)
          log.info('fetch.ingested', { day, fetched: entries.length, added: s.added, updated: s.updated });
      } catch (err) {
        const message = (err as Error).message;
        runs.finishRun(id, { error: message }, this.deps.now());
        outcomes.push({ day, fetched: 0, added: 0, updated: 0, error: message });
        // One bad day is skipped and named; the others are still fetched.
        log.warn('fetch.failed', { day, error: message });
        // Two days in a row failing as an outage does, with nothing fetched between: the API is down. Give up
        // early, in one line, instead of waiting out every day's retries; the next run tries again.
        if (outage.failed(err) && i < days.length - 1) {
          const rest = days.slice(i + 1);
          log.warn('fetch.outage', {
            error: message,
            skipped: rest,
            message: `The HF API looks down (${message}); not trying ${rest.length} more day(s) now: ${rest.join(', ')}. The next run tries again.`,
          });
          break;
        }
      }
    }
    log.info('fetch.done', {
      days: outcomes.length,
      added: outcomes.reduce((n, o) => n + o.added, 0),
      failed: outcomes.filter((o) => o.error).length,
    });
    return outcomes;
  }
}
