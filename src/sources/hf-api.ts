/**
 * Client of the live Hugging Face Daily Papers API: `GET {endpoint}/api/daily_papers?date=YYYY-MM-DD&limit=N[&p=K]`.
 * Entries are returned raw, exactly as the API sent them; turning them into `Paper`s happens elsewhere.
 */
import { UserFacingError } from '../errors.ts';
import { fetchJson, ResponseFormatError, type RetryInfo } from '../http.ts';

export interface HfDailyPapersApiOptions {
  /** Base URL, e.g. `https://huggingface.co` (`HF_ENDPOINT`). */
  endpoint: string;
  /** Per-request timeout (ms). Default 15000. */
  timeoutMs?: number;
  /** Retries per request. Default 4. */
  retries?: number;
  /** `limit` per request; a full page triggers the next one (`p=1`, ...). Default 100. */
  pageSize?: number;
  /** Backoff bounds (ms); defaults of `fetchWithRetry`. */
  minDelayMs?: number;
  maxDelayMs?: number;
  maxRetryAfterMs?: number;
  /** Longest range `fetchRange` accepts, in days (inclusive). Default 400. */
  maxRangeDays?: number;
  /** Sent as `Authorization: Bearer` (optional; the endpoint is public). */
  token?: string;
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
}

/** A bad date or date range given by the caller. */
export class DateInputError extends UserFacingError {
  override name = 'DateInputError';
}

/** Safety stop in case a server ignores `p` and keeps sending the same full page. */
const MAX_PAGES = 100;

export class HfDailyPapersApi {
  readonly endpoint: string;
  readonly pageSize: number;
  readonly maxRangeDays: number;
  private readonly opts: HfDailyPapersApiOptions;

  constructor(opts: HfDailyPapersApiOptions) {
    let u: URL;
    try {
      u = new URL(opts.endpoint);
    } catch {
      throw new TypeError(`HF endpoint is not a valid URL: ${JSON.stringify(opts.endpoint)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new TypeError(`HF endpoint must be http(s): ${JSON.stringify(opts.endpoint)}`);
    }
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    const pageSize = opts.pageSize ?? 100;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
    this.pageSize = pageSize;
    this.maxRangeDays = opts.maxRangeDays ?? 400;
    this.opts = opts;
  }

  /** The URL of one page of one day. */
  pageUrl(date: string, page = 0): string {
    const q = `date=${date}&limit=${this.pageSize}`;
    return `${this.endpoint}/api/daily_papers?${q}${page > 0 ? `&p=${page}` : ''}`;
  }

  /** All entries of one digest day (paged, de-duplicated by `paper.id`); `[]` for weekends and empty days. */
  async fetchDay(date: string): Promise<unknown[]> {
    assertDate(date, 'date');
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (let page = 0; page < MAX_PAGES; page++) {
      const url = this.pageUrl(date, page);
      const body = await fetchJson(url, this.httpOptions());
      if (!Array.isArray(body)) {
        throw new ResponseFormatError(url, `is not a JSON array (got ${describeJson(body)})`, excerptJson(body));
      }
      let added = 0;
      for (const entry of body) {
        const id = paperId(entry);
        if (id !== undefined) {
          if (seen.has(id)) continue;
          seen.add(id);
        }
        out.push(entry);
        added++;
      }
      // A short page is the last one. A full page with nothing new means the server ignores `p`.
      if (body.length < this.pageSize || added === 0) break;
    }
    return out;
  }

  /**
   * Every day from `since` to `until` (inclusive, `YYYY-MM-DD`), fetched one after the other in date order.
   * `onDay` is awaited after each day. The map holds every day of the range, in order (`[]` for empty days).
   */
  async fetchRange(
    since: string,
    until: string,
    onDay?: (date: string, entries: unknown[]) => void | Promise<void>,
  ): Promise<Map<string, unknown[]>> {
    const days = daysInRange(since, until, this.maxRangeDays);
    const result = new Map<string, unknown[]>();
    for (const day of days) {
      const entries = await this.fetchDay(day);
      result.set(day, entries);
      if (onDay) await onDay(day, entries);
    }
    return result;
  }

  private httpOptions(): Parameters<typeof fetchJson>[1] {
    const o = this.opts;
    return {
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.retries !== undefined ? { retries: o.retries } : {}),
      ...(o.minDelayMs !== undefined ? { minDelayMs: o.minDelayMs } : {}),
      ...(o.maxDelayMs !== undefined ? { maxDelayMs: o.maxDelayMs } : {}),
      ...(o.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: o.maxRetryAfterMs } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onRetry ? { onRetry: o.onRetry } : {}),
      headers: { accept: 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
    };
  }
}

// --- dates -------------------------------------------------------------------------------------------------------

/** True for a real calendar date written `YYYY-MM-DD`. */
export function isValidDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

export function assertDate(date: string, what = 'date'): void {
  if (typeof date !== 'string' || !isValidDate(date)) {
    throw new DateInputError(`Invalid ${what} ${JSON.stringify(date)}: expected a calendar date as YYYY-MM-DD, e.g. 2025-09-30.`);
  }
}

/** `date` plus `n` days (`YYYY-MM-DD`, UTC calendar arithmetic). */
export function addDays(date: string, n: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + n * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** The days from `since` to `until`, inclusive, after validating them and the range length. */
export function daysInRange(since: string, until: string, maxDays = 400): string[] {
  assertDate(since, 'since date');
  assertDate(until, 'until date');
  if (since > until) {
    throw new DateInputError(`The range is reversed: since ${since} is after until ${until}.`);
  }
  const count = Math.round((Date.parse(`${until}T00:00:00Z`) - Date.parse(`${since}T00:00:00Z`)) / 86_400_000) + 1;
  if (count > maxDays) {
    throw new DateInputError(
      `The range ${since}..${until} spans ${count} days; at most ${maxDays} days can be fetched at once. Split it into smaller ranges.`,
    );
  }
  const days: string[] = [];
  for (let i = 0; i < count; i++) days.push(addDays(since, i));
  return days;
}

// --- helpers -----------------------------------------------------------------------------------------------------

function paperId(entry: unknown): string | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const paper = (entry as { paper?: unknown }).paper;
  if (!paper || typeof paper !== 'object') return undefined;
  const id = (paper as { id?: unknown }).id;
  return typeof id === 'string' && id ? id : undefined;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function excerptJson(v: unknown): string {
  const s = JSON.stringify(v) ?? '';
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
