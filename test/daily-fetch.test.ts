import { staticDir, haveModel } from './helpers/shared.ts';
import { pushTo } from './helpers/log.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { DailyFetcher } from '../src/ingest/daily-fetch.ts';
import { HfEmulator } from './helpers/hf-emulator.ts';
import { generateCorpus } from './helpers/synthetic-days.ts';

describe.skipIf(!haveModel)('the daily fetch job (needs ../shared/models/potion-base-4M-int8)', () => {
  let dir: string;
  let hf: HfEmulator;
  let app: App;
  let clock: Date;
  let fetcher: DailyFetcher;
  let completed: string[];
  const log: { event: string; level?: string; fields?: Record<string, unknown> }[] = [];

  // Mon 2026-03-23 .. Fri 2026-03-27 have papers; the weekend has none.
  const corpus = generateCorpus({ since: '2026-03-23', days: 5, perDay: 6, seed: 3 });

  beforeEach(async (ctx) => {
    dir = await mkdtemp(path.join(tmpdir(), 'fetch-test-'));
    hf = await HfEmulator.start({ papers: new Map() });
    const retries = /down/.test(ctx.task.name) ? '1' : '2';
    app = new App(
      loadConfig(
        { EMBEDDINGS_MODEL_DIR: staticDir, HF_ENDPOINT: hf.endpoint, HF_API_RETRIES: retries },
        { dataDir: dir },
      ),
    );
    completed = [];
    log.length = 0;
    fetcher = new DailyFetcher({
      api: app.hfApi(),
      ingester: () => app.ingester(),
      runs: app.fetchRuns,
      now: () => clock,
      log: pushTo(log),
      catchUpDays: 4,
      onDayComplete: async (day) => void completed.push(day),
    });
  });

  afterEach(async () => {
    app.close();
    await hf.close();
    await rm(dir, { recursive: true, force: true });
  });

  const dayFetches = () => hf.requests.filter((r) => r.path === '/api/daily_papers').map((r) => r.query.date);

  it('on start catches up on recent days, records each run, and later runs only refetch what is incomplete', async () => {
    for (const [day, entries] of corpus) hf.setDay(day, entries);
    // Friday 2026-03-27, 10:00 UTC: Thursday and earlier are complete, Friday is still filling.
    clock = new Date('2026-03-27T10:00:00Z');
    const first = await fetcher.run();
    expect(first.map((o) => o.day)).toEqual(['2026-03-23', '2026-03-24', '2026-03-25', '2026-03-26', '2026-03-27']);
    expect(first.every((o) => !o.error && o.fetched === 6 && o.added === 6)).toBe(true);
    expect(app.store.stats().papers).toBe(30);
    expect(completed).toEqual(['2026-03-23', '2026-03-24', '2026-03-25', '2026-03-26']);

    // An hour later: only today is fetched again; nothing is added twice.
    hf.requests.length = 0;
    clock = new Date('2026-03-27T11:00:00Z');
    const second = await fetcher.run();
    expect(dayFetches()).toEqual(['2026-03-27']);
    expect(second[0]).toMatchObject({ day: '2026-03-27', added: 0, updated: 0 });

    // Saturday 03:00 UTC: Friday's list is complete now and gets one last fetch, with a late addition.
    const late = generateCorpus({ since: '2026-03-27', days: 1, perDay: 1, seed: 9, first: 500 }).get('2026-03-27')!;
    hf.setDay('2026-03-27', [...corpus.get('2026-03-27')!, ...late]);
    hf.requests.length = 0;
    clock = new Date('2026-03-28T03:00:00Z');
    const third = await fetcher.run();
    expect(dayFetches()).toEqual(['2026-03-27', '2026-03-28']);
    expect(third.find((o) => o.day === '2026-03-27')).toMatchObject({ added: 1 });
    expect(third.find((o) => o.day === '2026-03-28')).toMatchObject({ fetched: 0 }); // a weekend: empty, not an error
    expect(completed.at(-1)).toBe('2026-03-27');
    expect(app.store.stats().papers).toBe(31);
    const runs = app.fetchRuns.runs();
    expect(runs.every((r) => r.outcome === 'ok')).toBe(true);
  });

  it('the HF API answering 429 is retried with backoff, then succeeds', async () => {
    for (const [day, entries] of corpus) hf.setDay(day, entries);
    clock = new Date('2026-03-27T10:00:00Z');
    hf.failNext((r) => r.path === '/api/daily_papers', 429, { retryAfter: 0, times: 2 });
    const out = await fetcher.run();
    expect(out.every((o) => !o.error)).toBe(true);
    expect(hf.requests.filter((r) => r.status === 429)).toHaveLength(2);
    expect(app.store.stats().papers).toBe(30);
  });

  it('a day that keeps failing is skipped and named; the other days are still fetched', async () => {
    for (const [day, entries] of corpus) hf.setDay(day, entries);
    clock = new Date('2026-03-27T10:00:00Z');
    hf.failNext((r) => r.path === '/api/daily_papers' && r.query.date === '2026-03-24', 503, { times: Infinity });
    const out = await fetcher.run();
    expect(out.filter((o) => o.error).map((o) => o.day)).toEqual(['2026-03-24']);
    expect(out.filter((o) => !o.error).map((o) => o.day)).toContain('2026-03-25');
    expect(log).toContainEqual(
      expect.objectContaining({ event: 'fetch.failed', fields: expect.objectContaining({ day: '2026-03-24' }) }),
    );
    expect(log.some((l) => l.event === 'fetch.outage')).toBe(false);
    expect(app.store.stats().papers).toBe(24); // every day but the one that failed
  });

  it('the HF API down gives up early in one line naming the days not tried, and the next run completes the work', async () => {
    for (const [day, entries] of corpus) hf.setDay(day, entries);
    clock = new Date('2026-03-27T10:00:00Z');
    hf.failNext((r) => r.path === '/api/daily_papers', 503, { times: Infinity });
    const out = await fetcher.run();
    expect(out).toHaveLength(2); // two days in a row failing like an outage: no more tries this run
    expect(out.every((o) => /503/.test(o.error ?? ''))).toBe(true);
    const outage = log.find((l) => l.event === 'fetch.outage');
    expect(outage?.level).toBe('warn');
    expect(String(outage?.fields?.message)).toMatch(
      /^The HF API looks down \(.*503.*\); not trying \d+ more day\(s\) now: 2026-03-\d\d/,
    );
    expect(app.fetchRuns.runs().some((r) => r.outcome === 'failed')).toBe(true);
    hf.clearFailures(); // the API is back
    const again = await fetcher.run();
    expect(again.every((o) => !o.error)).toBe(true);
    expect(app.store.stats().papers).toBe(30);
  });
});
