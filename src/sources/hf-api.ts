/**
 * Client of the live Hugging Face Daily Papers API: `GET {endpoint}/api/daily_papers?date=YYYY-MM-DD&limit=N[&p=K]`.
 * Entries are returned raw, exactly as the API sent them; turning them into `Paper`s happens elsewhere.
 */
import { assertDate, daysInRange } from '../dates.ts';
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
  /** A day had more pages than `maxPages` (default MAX_PAGES): what was fetched is returned, and this says so. */
  onTruncated?: (date: string, entries: number) => void;
  maxPages?: number;
}

/**
 * A bound on the pages of one day (200,000 entries at the default page size, far above any real day) against a
 * server that keeps inventing entries; reaching it is reported (`onTruncated`), never silent.
 */
const MAX_PAGES = 2000;

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
    if (!Number.isInteger(pageSize) || pageSize < 1)
      throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
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
    for (let page = 0; page < (this.opts.maxPages ?? MAX_PAGES); page++) {
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
      if (body.length < this.pageSize || added === 0) return out;
    }
    this.opts.onTruncated?.(date, out.length);
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
