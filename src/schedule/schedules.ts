/**
 * The bot's timed work, run inside `serve`: fetching new digest days, posting highlights, and telling
 * subscribers about new papers. croner drives the clock; the jobs themselves are idempotent and keep their
 * state in SQLite, so a restart, an overlap or a skipped tick changes nothing but timing.
 */
import { Cron } from 'croner';
import type { Logger } from '../log.ts';
import type { App } from '../app.ts';
import { DailyFetcher } from '../ingest/daily-fetch.ts';
import { backupDatabase } from '../store/backup.ts';
import { HighlightsScheduler, type HighlightsPoster } from '../highlights/scheduler.ts';

export interface SchedulesOptions {
  app: App;
  poster: HighlightsPoster;
  log: Logger;
  /**
   * Delivers the pending subscription days (queued as each complete day is fetched): after each fetch, and every
   * few minutes for retries. `recover` on the first run: claims left `sending` were left by a process that died.
   */
  deliver?: (opts: { recover: boolean }) => Promise<void>;
  now?: () => Date;
  /** Fetch cadence (cron, UTC); the list fills during the day, so every 30 minutes by default. */
  fetchCron?: string;
}

export interface Schedules {
  fetcher: DailyFetcher;
  scheduler: HighlightsScheduler;
  /** The first fetch (catching up on missed days) and post check, started by `start`. */
  started: Promise<void>;
  /** Stops the timers and waits for the runs in progress (fetch, posts, subscription deliveries). */
  stop(): Promise<void>;
}

export function startSchedules(o: SchedulesOptions): Schedules {
  const now = o.now ?? (() => new Date());
  const { app, log } = o;
  const fetcher = new DailyFetcher({
    api: app.hfApi({
      onRetry: (message) => log.info('fetch.retry', { message }),
      onTruncated: (message) => log.warn('fetch.truncated', { message }),
    }),
    ingester: () => app.ingester(),
    runs: app.fetchRuns,
    now,
    log,
    // Complete days are queued for subscription delivery before their fetch is recorded.
    ...(o.deliver ? { onDayComplete: (day: string) => app.deliveries.queueDay(day, now()) } : {}),
  });
  const scheduler = new HighlightsScheduler({
    highlights: app.highlights,
    settings: app.guildSettings,
    papers: app.store,
    vectors: () => app.vectors(),
    poster: o.poster,
    now,
    log,
  });
  const guard = (what: string, job: () => Promise<unknown>) => async (): Promise<void> => {
    try {
      await job();
    } catch (err) {
      log.error(`${what}.error`, { error: (err as Error).message });
    }
  };

  // Runs in progress, so that stop() lets them finish: a delivery cut off by the client's shutdown would be
  // recorded as failed.
  const running = new Set<Promise<void>>();
  const tracked = (job: () => Promise<void>) => (): Promise<void> => {
    const p = job().finally(() => running.delete(p));
    running.add(p);
    return p;
  };
  // The first run after start resolves claims a killed process left (this one holds the data dir's lock).
  let recoverDeliveries = true;
  let recoverPosts = true;
  const deliver = guard('subscriptions', async () => {
    const recover = recoverDeliveries;
    recoverDeliveries = false;
    await o.deliver?.({ recover });
  });
  const post = guard('highlights', async () => {
    const recover = recoverPosts;
    recoverPosts = false;
    await scheduler.tick({ recover });
  });
  const backup = guard('backup', async () => {
    const file = await backupDatabase(app.db, app.config.dataDir, now());
    if (file) log.info('backup.done', { file });
  });
  const fetchAndPost = tracked(
    guard('fetch', async () => {
      await fetcher.run(); // each day's ingest resets the corpus statistics it changed (App.ingester)
      await deliver();
      await post();
    }),
  );
  // Fetch first (catch-up), then post what is due; the bot answers commands meanwhile.
  const started = tracked(backup)().then(fetchAndPost);
  const jobs = [
    new Cron(o.fetchCron ?? '*/30 * * * *', { timezone: 'UTC', protect: true }, fetchAndPost),
    // Every server's post time, whatever its time zone, falls on a minute: checking each minute posts on time
    // (and the check is a few SQLite reads when nothing is due).
    new Cron('* * * * *', { protect: true }, tracked(post)),
    // A daily backup of the bot's state (at most one a day, the last 7 kept), and one at start if today has none.
    new Cron('15 3 * * *', { timezone: 'UTC', protect: true }, tracked(backup)),
    // Retries of transient failures, and days a crash left pending.
    ...(o.deliver ? [new Cron('*/5 * * * *', { protect: true }, tracked(deliver))] : []),
  ];
  return {
    fetcher,
    scheduler,
    started,
    async stop() {
      for (const j of jobs) j.stop();
      await started;
      while (running.size) await Promise.allSettled([...running]);
    },
  };
}
