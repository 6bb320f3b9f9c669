import { DateInputError, daysInRange, isValidDate } from '../src/dates.ts';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  describeRetry,
  HttpError,
  NetworkError,
  parseRetryAfter,
  ResponseFormatError,
  type RetryInfo,
} from '../src/http.ts';
import { HfDailyPapersApi } from '../src/sources/hf-api.ts';
import { HfEmulator } from './helpers/hf-emulator.ts';
import { closedPort } from './helpers/net.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_API = path.resolve(REPO_ROOT, '../shared/data/hf-daily-papers/api');
const HAVE_SHARED = existsSync(SHARED_API);

/** A small synthetic entry in the API's shape. */
function entry(id: string, day: string): Record<string, unknown> {
  return {
    paper: {
      id,
      title: `Synthetic paper ${id}`,
      summary: `A synthetic abstract for ${id}.`,
      authors: [{ _id: `a-${id}`, name: 'Ada Example', hidden: false }],
      publishedAt: `${day}T00:00:00.000Z`,
      upvotes: 1,
    },
    title: `Synthetic paper ${id}`,
    publishedAt: `${day}T00:00:00.000Z`,
    numComments: 0,
  };
}

function entries(day: string, n: number, prefix = '2509'): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => entry(`${prefix}.${String(i).padStart(5, '0')}`, day));
}

function ids(list: unknown[]): string[] {
  return list.map((e) => (e as { paper: { id: string } }).paper.id);
}

const FAST = { minDelayMs: 5, maxDelayMs: 20, timeoutMs: 2000 };

describe('HfDailyPapersApi', () => {
  let emu: HfEmulator;
  beforeEach(async () => {
    emu = await HfEmulator.start({
      papers: {
        '2025-09-01': entries('2025-09-01', 120),
        '2025-09-02': entries('2025-09-02', 100, '2510'),
        '2025-09-05': entries('2025-09-05', 3, '2511'),
        '2025-09-08': entries('2025-09-08', 2, '2512'),
      },
    });
  });
  afterEach(async () => {
    await emu.close();
  });

  it('pages a 120-entry day (limit=100, then p=1) into 120 unique entries', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST });
    const day = await api.fetchDay('2025-09-01');
    expect(day).toHaveLength(120);
    expect(new Set(ids(day)).size).toBe(120);
    expect(emu.requests.map((r) => r.url)).toEqual([
      '/api/daily_papers?date=2025-09-01&limit=100',
      '/api/daily_papers?date=2025-09-01&limit=100&p=1',
    ]);
  });

  it('de-duplicates by paper.id across pages (a list that shifted between pages)', async () => {
    const list = entries('2025-09-03', 120, '2513');
    list.splice(100, 0, list[99]!); // entry 99 is served again as the first entry of page 1
    emu.setDay('2025-09-03', list);
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST });
    const day = await api.fetchDay('2025-09-03');
    expect(day).toHaveLength(120);
    expect(new Set(ids(day)).size).toBe(120);
  });

  it('a day of exactly one full page asks for the next page and stops at the empty one', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST });
    expect(await api.fetchDay('2025-09-02')).toHaveLength(100);
    expect(emu.requests.map((r) => r.query.p)).toEqual([undefined, '1']);
  });

  it('a day longer than the page bound is not cut silently: what was fetched comes back, and it is told', async () => {
    const told: [string, number][] = [];
    const api = new HfDailyPapersApi({
      endpoint: emu.endpoint,
      pageSize: 50,
      maxPages: 2,
      onTruncated: (d, n) => void told.push([d, n]),
      ...FAST,
    });
    expect(await api.fetchDay('2025-09-01')).toHaveLength(100); // 120 entries, 2 pages of 50 allowed
    expect(told).toEqual([['2025-09-01', 100]]);
    expect(await api.fetchDay('2025-09-02')).toHaveLength(100); // exactly 2 full pages, then the bound: told too
    const quiet = new HfDailyPapersApi({
      endpoint: emu.endpoint,
      pageSize: 50,
      maxPages: 3,
      onTruncated: () => void told.push(['x', 0]),
      ...FAST,
    });
    expect(await quiet.fetchDay('2025-09-01')).toHaveLength(120);
    expect(told).toHaveLength(2);
  });

  it('honours pageSize', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, pageSize: 50, ...FAST });
    expect(await api.fetchDay('2025-09-01')).toHaveLength(120);
    expect(emu.requests.map((r) => [r.query.limit, r.query.p])).toEqual([
      ['50', undefined],
      ['50', '1'],
      ['50', '2'],
    ]);
  });

  it('a weekend day is [] with a single request', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST });
    expect(await api.fetchDay('2025-09-06')).toEqual([]);
    expect(emu.requests).toHaveLength(1);
  });

  it('fetches a range day by day, each once, in date order', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST });
    const seen: [string, number][] = [];
    const result = await api.fetchRange('2025-09-05', '2025-09-08', async (date, list) => {
      seen.push([date, list.length]);
    });
    const expected: [string, number][] = [
      ['2025-09-05', 3],
      ['2025-09-06', 0],
      ['2025-09-07', 0],
      ['2025-09-08', 2],
    ];
    expect(seen).toEqual(expected);
    expect([...result].map(([d, l]) => [d, l.length])).toEqual(expected);
    expect(emu.requests.map((r) => r.query.date)).toEqual(expected.map(([d]) => d));
  });

  it('rejects bad dates, reversed and overlong ranges without any request', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST });
    await expect(api.fetchDay('2025-02-30')).rejects.toThrow(DateInputError);
    await expect(api.fetchDay('2025-9-1')).rejects.toThrow(/YYYY-MM-DD/);
    await expect(api.fetchRange('2025-09-08', '2025-09-05')).rejects.toThrow(
      /since 2025-09-08 is after until 2025-09-05/,
    );
    await expect(api.fetchRange('2024-01-01', '2025-12-31')).rejects.toThrow(/spans 731 days; at most 400/);
    expect(emu.requests).toHaveLength(0);
    expect(isValidDate('2024-02-29')).toBe(true);
    expect(isValidDate('2025-02-29')).toBe(false);
    expect(daysInRange('2024-12-30', '2025-01-02')).toEqual(['2024-12-30', '2024-12-31', '2025-01-01', '2025-01-02']);
  });

  it('a response that is not a JSON array is a clear error naming the URL', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST });
    emu.failNext('/api/daily_papers', 200, { body: '{"error":"maintenance"}' });
    const err = await api.fetchDay('2025-09-05').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseFormatError);
    expect((err as Error).message).toContain(
      `${emu.endpoint}/api/daily_papers?date=2025-09-05&limit=100 is not a JSON array`,
    );
    emu.failNext('/api/daily_papers', 200, { body: '<html>proxy login</html>' });
    await expect(api.fetchDay('2025-09-05')).rejects.toThrow(/is not valid JSON: <html>proxy login/);
    expect(emu.requests).toHaveLength(2); // neither is retried
  });

  it('retries a 429 with Retry-After: 0, then succeeds', async () => {
    const retries: RetryInfo[] = [];
    const api = new HfDailyPapersApi({
      endpoint: emu.endpoint,
      ...FAST,
      minDelayMs: 5_000,
      onRetry: (i) => retries.push(i),
    });
    emu.failNext('date=2025-09-05', 429, { retryAfter: 0 });
    const started = Date.now();
    expect(await api.fetchDay('2025-09-05')).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(1000); // Retry-After: 0 beats the 5 s backoff
    expect(emu.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ status: 429, attempt: 1, maxAttempts: 5, delayMs: 0, retryAfterMs: 0 });
    expect(describeRetry(retries[0]!, 'HF API')).toBe('HF API answered 429, retrying in 0.0 s (attempt 2 of 5)');
  });

  it('caps a long Retry-After at maxRetryAfterMs', async () => {
    const delays: number[] = [];
    const api = new HfDailyPapersApi({
      endpoint: emu.endpoint,
      ...FAST,
      maxRetryAfterMs: 30,
      onRetry: (i) => delays.push(i.delayMs),
    });
    emu.failNext('date=2025-09-05', 429, { retryAfter: 3600 });
    expect(await api.fetchDay('2025-09-05')).toHaveLength(3);
    expect(delays).toEqual([30]);
  });

  it('retries 503 twice, then succeeds', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST });
    emu.failNext('date=2025-09-05', 503, { times: 2 });
    expect(await api.fetchDay('2025-09-05')).toHaveLength(3);
    expect(emu.requests.map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('gives up after the configured retries with an HttpError that says so', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST, retries: 2 });
    emu.failNext('date=2025-09-05', 500, { times: 5 });
    const err = await api.fetchDay('2025-09-05').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 500, attempts: 3 });
    expect((err as Error).message).toMatch(/answered HTTP 500 Internal Server Error after 3 attempts/);
    expect(emu.requests).toHaveLength(3);
  });

  it.each([404, 400])('does not retry a %i and reports it clearly', async (status) => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST, token: 'hf_SECRET_TOKEN' });
    emu.failNext('date=2025-09-05', status, { body: '{"error":"nope"}' });
    const err = await api.fetchDay('2025-09-05').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status, attempts: 1, bodyExcerpt: '{"error":"nope"}' });
    expect((err as Error).message).toBe(
      `GET ${emu.endpoint}/api/daily_papers?date=2025-09-05&limit=100 answered HTTP ${status} ${status === 404 ? 'Not Found' : 'Bad Request'}: {"error":"nope"}`,
    );
    expect(JSON.stringify(err) + String((err as Error).stack)).not.toContain('hf_SECRET_TOKEN');
    expect(emu.requests).toHaveLength(1);
    expect(emu.requests[0]!.authorized).toBe(true);
  });

  it('a closed port gives a NetworkError with the helpful message, quickly', async () => {
    const port = await closedPort();
    const api = new HfDailyPapersApi({ endpoint: `http://127.0.0.1:${port}`, ...FAST, retries: 1 });
    const started = Date.now();
    const err = await api.fetchDay('2025-09-05').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', attempts: 2, host: `127.0.0.1:${port}` });
    expect((err as Error).message).toBe(
      `Could not reach 127.0.0.1:${port} (ECONNREFUSED) after 2 attempts. Check your network or set HF_ENDPOINT to a reachable mirror.`,
    );
  });

  it('a hung request times out with a clear error', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST, timeoutMs: 150, retries: 1 });
    emu.hangNext('date=2025-09-05', { times: 2 });
    const started = Date.now();
    const err = await api.fetchDay('2025-09-05').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', attempts: 2 });
    expect((err as Error).message).toMatch(
      /^Could not reach 127\.0\.0\.1:\d+ \(timed out after 0\.15 s\) after 2 attempts\./,
    );
    expect(emu.requests.map((r) => r.status)).toEqual(['hang', 'hang']);
  });

  it('a timed-out attempt is retried like any network error', async () => {
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST, timeoutMs: 150 });
    emu.hangNext('date=2025-09-05');
    expect(await api.fetchDay('2025-09-05')).toHaveLength(3);
    expect(emu.requests.map((r) => r.status)).toEqual(['hang', 200]);
  });

  it('an abort signal stops a pending request and the waits between retries', async () => {
    const ctl = new AbortController();
    const api = new HfDailyPapersApi({ endpoint: emu.endpoint, ...FAST, minDelayMs: 10_000, signal: ctl.signal });
    emu.failNext('date=2025-09-05', 503);
    setTimeout(() => ctl.abort(new Error('user cancelled')), 50);
    const started = Date.now();
    await expect(api.fetchDay('2025-09-05')).rejects.toThrow('user cancelled');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(emu.requests).toHaveLength(1);
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-09-05T12:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Fri, 05 Sep 2025 12:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Fri, 05 Sep 2025 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe.skipIf(!HAVE_SHARED)(
  HAVE_SHARED
    ? 'HfDailyPapersApi on the shared corpus'
    : `HfDailyPapersApi on the shared corpus (skipped: ${SHARED_API} not found)`,
  () => {
    const dayLength = (d: string): number => {
      const f = path.join(SHARED_API, `${d}.json`);
      return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as unknown[]).length : 0;
    };

    it('fetches a real week (with a weekend and a 50-entry day) completely', async () => {
      const emu = await HfEmulator.start({ papersDir: SHARED_API });
      try {
        const api = new HfDailyPapersApi({ endpoint: emu.endpoint, pageSize: 50, ...FAST });
        const days = await api.fetchRange('2025-09-26', '2025-09-30');
        expect([...days.keys()]).toEqual(['2025-09-26', '2025-09-27', '2025-09-28', '2025-09-29', '2025-09-30']);
        for (const [d, list] of days) {
          expect(list.length).toBe(dayLength(d));
          expect(new Set(ids(list)).size).toBe(list.length);
        }
        expect(days.get('2025-09-27')).toEqual([]);
        expect(days.get('2025-09-30')).toHaveLength(50);
        // The full 50-entry page is followed by a (short) second page.
        expect(emu.log('date=2025-09-30').map((r) => r.query.p)).toEqual([undefined, '1']);
      } finally {
        await emu.close();
      }
    });
  },
);
