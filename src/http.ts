/**
 * HTTP GET/HEAD with a per-attempt timeout and retries (p-retry): exponential backoff with jitter on network
 * errors, timeouts, 429 and 5xx; `Retry-After` is honoured (capped); other 4xx fail at once. Failures surface as
 * `HttpError` or `NetworkError` with messages meant for the person running the bot. Request headers (and so any
 * `Authorization`) never appear in errors, retry notices or logs.
 */
import { UserFacingError } from './errors.ts';
import pRetry, { AbortError, type FailedAttemptError } from 'p-retry';

export type HttpMethod = 'GET' | 'HEAD';

/** What `onRetry` is told before each wait. */
export interface RetryInfo {
  method: HttpMethod;
  /** The URL, with any userinfo removed. */
  url: string;
  /** `host[:port]` of the URL. */
  host: string;
  /** The attempt that just failed (1-based). */
  attempt: number;
  /** Attempts in total (`retries + 1`). */
  maxAttempts: number;
  /** How long we wait before the next attempt. */
  delayMs: number;
  /** HTTP status, when the server answered. */
  status?: number;
  /** Network error code (`ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`, ...), when it did not. */
  code?: string;
  /** The server's `Retry-After`, in ms, before capping. */
  retryAfterMs?: number;
  /** Short human reason: `HTTP 429 Too Many Requests` or `ECONNREFUSED`. */
  reason: string;
}

export interface FetchWithRetryOptions {
  method?: HttpMethod;
  /** Request headers. They are sent, never logged nor put into errors. */
  headers?: Record<string, string>;
  /** Per-attempt timeout; for `fetchWithRetry` it bounds the time to the response headers. Default 15000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 4 (5 attempts). */
  retries?: number;
  /** Base delay of the exponential backoff. Default 1000. */
  minDelayMs?: number;
  /** Upper bound of the backoff delay. Default 30000. */
  maxDelayMs?: number;
  /** Upper bound for a server's `Retry-After`. Default 60000. */
  maxRetryAfterMs?: number;
  /** Aborts the request and any pending wait; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Called before waiting for the next attempt. */
  onRetry?: (info: RetryInfo) => void;
  /** Last sentence of a `NetworkError` message. */
  networkHint?: string;
}

export const DEFAULT_NETWORK_HINT = 'Check your network or set HF_ENDPOINT to a reachable mirror.';

/** The server answered with a non-2xx status (after retries, for 429/5xx). */
export class HttpError extends UserFacingError {
  override name = 'HttpError';
  readonly status: number;
  readonly statusText: string;
  readonly method: HttpMethod;
  readonly url: string;
  /** The start of the response body, whitespace-collapsed (empty for HEAD). */
  readonly bodyExcerpt: string;
  readonly attempts: number;
  /** `Retry-After` of the last response, in ms, if any. */
  readonly retryAfterMs?: number;

  constructor(init: {
    status: number;
    statusText: string;
    method: HttpMethod;
    url: string;
    bodyExcerpt: string;
    attempts: number;
    retryAfterMs?: number;
  }) {
    const status = `HTTP ${init.status}${init.statusText ? ` ${init.statusText}` : ''}`;
    const after = init.attempts > 1 ? ` after ${init.attempts} attempts` : '';
    const body = init.bodyExcerpt ? `: ${init.bodyExcerpt}` : '';
    super(`${init.method} ${init.url} answered ${status}${after}${body}`);
    this.status = init.status;
    this.statusText = init.statusText;
    this.method = init.method;
    this.url = init.url;
    this.bodyExcerpt = init.bodyExcerpt;
    this.attempts = init.attempts;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
  }
}

/** The server could not be reached at all: DNS failure, connection refused/reset, or a timeout. */
export class NetworkError extends UserFacingError {
  override name = 'NetworkError';
  readonly url: string;
  readonly host: string;
  /** `ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT` (our timeout), `ECONNRESET`, ... */
  readonly code: string;
  readonly attempts: number;

  constructor(init: {
    url: string;
    host: string;
    code: string;
    detail: string;
    attempts: number;
    hint: string;
    cause?: unknown;
  }) {
    const tries = `${init.attempts} attempt${init.attempts === 1 ? '' : 's'}`;
    super(`Could not reach ${init.host} (${init.detail}) after ${tries}. ${init.hint}`.trim(), { cause: init.cause });
    this.url = init.url;
    this.host = init.host;
    this.code = init.code;
    this.attempts = init.attempts;
  }
}

/** The server answered 2xx but the body is not what was expected (e.g. not JSON). Not retried. */
export class ResponseFormatError extends UserFacingError {
  override name = 'ResponseFormatError';
  readonly url: string;
  readonly bodyExcerpt: string;

  constructor(url: string, problem: string, bodyExcerpt: string) {
    super(`The response from ${url} ${problem}${bodyExcerpt ? `: ${bodyExcerpt}` : ''}`);
    this.url = url;
    this.bodyExcerpt = bodyExcerpt;
  }
}

/**
 * GET/HEAD `url` with retries. Resolves with a 2xx `Response` whose body is not yet read; `timeoutMs` bounds each
 * attempt until the response headers arrive (so large downloads are not cut off; bound the body yourself, or use
 * `fetchJson`). Rejects with `HttpError`, `NetworkError`, or the signal's reason when aborted.
 */
export function fetchWithRetry(url: string, opts: FetchWithRetryOptions = {}): Promise<Response> {
  return retrying(url, opts, async (res) => res);
}

/** Like `fetchWithRetry`, but reads and parses a JSON body inside each attempt (the timeout covers the body). */
export function fetchJson(url: string, opts: FetchWithRetryOptions = {}): Promise<unknown> {
  return retrying(url, { ...opts, method: 'GET' }, async (res, safeUrl) => {
    const text = await res.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ResponseFormatError(safeUrl, 'is not valid JSON', excerpt(text));
    }
  });
}

/** A one-line notice for a CLI: `HF API answered 429, retrying in 2.0 s (attempt 2 of 5)`. */
export function describeRetry(info: RetryInfo, service: string = info.host): string {
  const what =
    info.status !== undefined ? `answered ${info.status}` : `could not be reached (${info.code ?? info.reason})`;
  return `${service} ${what}, retrying in ${(info.delayMs / 1000).toFixed(1)} s (attempt ${info.attempt + 1} of ${info.maxAttempts})`;
}

/** Parses `Retry-After` (delta-seconds or HTTP date) into ms from `now`; undefined when absent or invalid. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Removes userinfo from a URL so it can be shown. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** One failed attempt, converted into a public error once retrying is over. */
class AttemptFailure extends Error {
  readonly status?: number;
  readonly statusText?: string;
  readonly bodyExcerpt?: string;
  readonly retryAfterMs?: number;
  readonly code?: string;
  readonly detail?: string;

  constructor(
    init:
      | { kind: 'http'; status: number; statusText: string; bodyExcerpt: string; retryAfterMs?: number }
      | { kind: 'network'; code: string; detail: string; cause?: unknown },
  ) {
    super(
      init.kind === 'http' ? `HTTP ${init.status}` : init.code,
      init.kind === 'network' ? { cause: init.cause } : undefined,
    );
    if (init.kind === 'http') {
      this.status = init.status;
      this.statusText = init.statusText;
      this.bodyExcerpt = init.bodyExcerpt;
      if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    } else {
      this.code = init.code;
      this.detail = init.detail;
    }
  }
}

async function retrying<T>(
  url: string,
  opts: FetchWithRetryOptions,
  consume: (res: Response, safeUrl: string) => Promise<T>,
): Promise<T> {
  const method: HttpMethod = opts.method ?? 'GET';
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const retries = Math.max(0, Math.floor(opts.retries ?? 4));
  const minDelayMs = Math.max(0, opts.minDelayMs ?? 1000);
  const maxDelayMs = Math.max(minDelayMs, opts.maxDelayMs ?? 30_000);
  const maxRetryAfterMs = Math.max(0, opts.maxRetryAfterMs ?? 60_000);
  const hint = opts.networkHint ?? DEFAULT_NETWORK_HINT;
  const userSignal = opts.signal;
  const safeUrl = redactUrl(url);
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    throw new TypeError(`Not a valid URL: ${safeUrl}`);
  }
  let attempts = 0;

  const attempt = async (): Promise<T> => {
    attempts++;
    const timeout = AbortSignal.timeout(timeoutMs);
    const timer = new AbortController();
    let timedOut = false;
    let done = false;
    const onTimeout = (): void => {
      if (done) return;
      timedOut = true;
      timer.abort(new Error(`timed out after ${seconds(timeoutMs)} s`));
    };
    timeout.addEventListener('abort', onTimeout, { once: true });
    const signal = userSignal ? AbortSignal.any([timer.signal, userSignal]) : timer.signal;
    try {
      const res = await fetch(url, { method, headers: opts.headers, signal, redirect: 'follow' });
      if (!res.ok) {
        const bodyExcerpt = method === 'HEAD' ? '' : await readExcerpt(res);
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
        const failure = new AttemptFailure({
          kind: 'http',
          status: res.status,
          statusText: res.statusText,
          bodyExcerpt,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        });
        if (res.status === 429 || res.status >= 500) throw failure;
        throw new AbortError(failure);
      }
      return await consume(res, safeUrl);
    } catch (err) {
      if (userSignal?.aborted) throw new AbortError(asError(userSignal.reason));
      if (err instanceof AbortError || err instanceof AttemptFailure) throw err;
      if (timedOut) {
        throw new AttemptFailure({
          kind: 'network',
          code: 'ETIMEDOUT',
          detail: `timed out after ${seconds(timeoutMs)} s`,
          cause: err,
        });
      }
      if (err instanceof ResponseFormatError) throw new AbortError(err);
      const code = networkCode(err);
      throw new AttemptFailure({ kind: 'network', code, detail: code, cause: err });
    } finally {
      done = true;
      timeout.removeEventListener('abort', onTimeout);
    }
  };

  const onFailedAttempt = async (failed: FailedAttemptError): Promise<void> => {
    const { attemptNumber, retriesLeft } = failed;
    if (!(failed instanceof AttemptFailure) || retriesLeft <= 0) return;
    const error: AttemptFailure = failed;
    const delayMs =
      error.retryAfterMs !== undefined
        ? Math.min(error.retryAfterMs, maxRetryAfterMs)
        : backoff(attemptNumber, minDelayMs, maxDelayMs);
    const info: RetryInfo = {
      method,
      url: safeUrl,
      host,
      attempt: attemptNumber,
      maxAttempts: retries + 1,
      delayMs,
      reason:
        error.status !== undefined
          ? `HTTP ${error.status}${error.statusText ? ` ${error.statusText}` : ''}`
          : (error.detail ?? 'network error'),
    };
    if (error.status !== undefined) info.status = error.status;
    if (error.code !== undefined) info.code = error.code;
    if (error.retryAfterMs !== undefined) info.retryAfterMs = error.retryAfterMs;
    opts.onRetry?.(info);
    await sleep(delayMs, userSignal);
  };

  try {
    // p-retry's own waits are zeroed: the delay (backoff or Retry-After) is awaited in onFailedAttempt.
    return await pRetry(attempt, {
      retries,
      minTimeout: 0,
      maxTimeout: 0,
      factor: 1,
      randomize: false,
      signal: userSignal,
      onFailedAttempt,
    });
  } catch (err) {
    if (userSignal?.aborted) throw userSignal.reason;
    if (err instanceof AttemptFailure) {
      if (err.status !== undefined) {
        throw new HttpError({
          status: err.status,
          statusText: err.statusText ?? '',
          method,
          url: safeUrl,
          bodyExcerpt: err.bodyExcerpt ?? '',
          attempts,
          ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
        });
      }
      throw new NetworkError({
        url: safeUrl,
        host,
        code: err.code ?? 'EUNKNOWN',
        detail: err.detail ?? 'network error',
        attempts,
        hint,
        cause: err.cause,
      });
    }
    throw err;
  }
}

/** Exponential backoff with "equal jitter": between half and all of min * 2^(n-1), capped at max. */
function backoff(failedAttempt: number, minDelayMs: number, maxDelayMs: number): number {
  const base = Math.min(maxDelayMs, minDelayMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(asError(signal.reason));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(asError(signal?.reason));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The most specific error code in an undici error's cause chain (`ECONNREFUSED`, `ENOTFOUND`, ...). */
function networkCode(err: unknown): string {
  let cur: unknown = err;
  for (let depth = 0; depth < 6 && cur && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    if (cur instanceof AggregateError) {
      const inner = cur.errors
        .map((e: unknown) => (e as { code?: unknown } | null)?.code)
        .find((c) => typeof c === 'string');
      if (typeof inner === 'string') return inner;
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  if (err instanceof Error && err.message) return err.message;
  return 'network error';
}

/** Reads at most a few KB of an error body, for the error message. */
async function readExcerpt(res: Response, maxBytes = 4096): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch {
    // A broken error body is not worth more than what we have.
  } finally {
    reader.cancel().catch(() => {});
  }
  return excerpt(Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'));
}

function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 1000 ? 2 : 1).replace(/\.?0+$/, '');
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason ?? 'Aborted'));
}

/**
 * Consecutive failures of a run of requests (one per digest day) that look like the host being down or overloaded:
 * a network error, a 429 or a 5xx after their retries. From `limit` in a row the run should give up early (and
 * say so); a success, or a failure of that one request only (a 404, bad JSON), resets the count.
 */
export class OutageCounter {
  private run = 0;

  constructor(private readonly limit = 2) {}

  succeeded(): void {
    this.run = 0;
  }

  /** Count a failure; true when the run should stop. */
  failed(err: unknown): boolean {
    const down = err instanceof NetworkError || (err instanceof HttpError && (err.status === 429 || err.status >= 500));
    this.run = down ? this.run + 1 : 0;
    return this.run >= this.limit;
  }
}
