/**
 * Downloads files of a Hugging Face Hub repository (`{endpoint}/{repo}/resolve/{revision}/{file}`, redirects
 * followed) into a local directory. Each file is streamed to `<file>.partial` and renamed into place only when it
 * is complete, so an interrupted download never leaves a truncated file under the real name. Files already present
 * are skipped.
 */
import { UserFacingError } from '../errors.ts';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { fetchWithRetry, HttpError, type RetryInfo } from '../http.ts';

export interface HubDownloadProgress {
  file: string;
  /** Position of the file in the download list (0-based) and the list's length. */
  index: number;
  count: number;
  status: 'downloading' | 'done' | 'skipped' | 'missing';
  receivedBytes: number;
  /** From `Content-Length`, when the server sent it. */
  totalBytes?: number;
}

export interface HubDownloadOptions {
  /** Hub base URL, e.g. `https://huggingface.co` (`HF_ENDPOINT`). */
  endpoint: string;
  /** `owner/name` (or a legacy single-segment id). */
  repo: string;
  /** Branch, tag or commit. Default `main`. */
  revision?: string;
  /** Files that must exist (paths inside the repo, `/`-separated). */
  files: string[];
  /** Files that are fetched when they exist; a 404 is not an error. */
  optionalFiles?: string[];
  destDir: string;
  onProgress?: (p: HubDownloadProgress) => void;
  /** Sent as `Authorization: Bearer` for gated or private repos; never logged. */
  token?: string;
  /** Time to response headers per attempt (ms). Default 15000. */
  timeoutMs?: number;
  /** Longest pause between two body chunks before the download counts as stalled (ms). Default 60000. */
  stallTimeoutMs?: number;
  /** Retries per request, and per file for bodies cut off mid-stream. Default 4. */
  retries?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
}

export interface HubDownloadResult {
  destDir: string;
  /** Files fetched by this call. */
  downloaded: string[];
  /** Files that were already present. */
  skipped: string[];
  /** Optional files the repo does not have. */
  missing: string[];
}

/** A required file is not in the repository (404), or the repository cannot be accessed (401/403). */
export class HubFileNotFoundError extends UserFacingError {
  override name = 'HubFileNotFoundError';
  readonly repo: string;
  readonly file: string;
  readonly revision: string;
  readonly status: number;

  constructor(repo: string, revision: string, file: string, cause: HttpError) {
    const why =
      cause.status === 404
        ? `File "${file}" was not found in Hub repo "${repo}" at revision "${revision}" (HTTP 404 from ${cause.url}). Check the model id, revision and file name.`
        : `Hub repo "${repo}" (revision "${revision}") refused access to "${file}" (HTTP ${cause.status} from ${cause.url}). ` +
          'The repo may not exist, or it is private or gated: check the id, or set HF_TOKEN.';
    super(why, { cause });
    this.repo = repo;
    this.file = file;
    this.revision = revision;
    this.status = cause.status;
  }
}

/** The body ended early, stalled, or did not match its `Content-Length`. */
class BodyError extends Error {
  override name = 'BodyError';
}

/** A file's body kept breaking off mid-download; nothing was left under the file's real name. */
export class HubDownloadInterruptedError extends UserFacingError {
  override name = 'HubDownloadInterruptedError';
  readonly repo: string;
  readonly file: string;
  readonly attempts: number;

  constructor(repo: string, file: string, problem: string, attempts: number, cause: unknown) {
    super(
      `Downloading "${file}" from Hub repo "${repo}" failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ` +
        `the transfer ${problem}. No partial file was kept; run again to retry, or set HF_ENDPOINT to a reachable mirror.`,
      { cause },
    );
    this.repo = repo;
    this.file = file;
    this.attempts = attempts;
  }
}

export async function downloadHubFiles(opts: HubDownloadOptions): Promise<HubDownloadResult> {
  const endpoint = opts.endpoint.replace(/\/+$/, '');
  const revision = opts.revision ?? 'main';
  const repo = opts.repo;
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repo) || repo.split('/').some((s) => s === '.' || s === '..')) {
    throw new TypeError(`Not a valid Hub repo id: ${JSON.stringify(repo)} (expected owner/name).`);
  }
  if (!revision || revision.includes('..')) throw new TypeError(`Not a valid revision: ${JSON.stringify(revision)}`);

  const required = unique(opts.files);
  const optional = unique(opts.optionalFiles ?? []).filter((f) => !required.includes(f));
  const all = [
    ...required.map((file) => ({ file, optional: false })),
    ...optional.map((file) => ({ file, optional: true })),
  ];
  for (const { file } of all) checkRepoPath(file);

  const destDir = path.resolve(opts.destDir);
  await mkdir(destDir, { recursive: true });
  const result: HubDownloadResult = { destDir, downloaded: [], skipped: [], missing: [] };
  const retries = Math.max(0, opts.retries ?? 4);
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};

  for (const [index, { file, optional: isOptional }] of all.entries()) {
    const progress = (status: HubDownloadProgress['status'], receivedBytes: number, totalBytes?: number): void =>
      opts.onProgress?.({
        file,
        index,
        count: all.length,
        status,
        receivedBytes,
        ...(totalBytes !== undefined ? { totalBytes } : {}),
      });
    const dest = path.join(destDir, ...file.split('/'));
    const existing = await stat(dest).catch(() => undefined);
    if (existing?.isFile()) {
      result.skipped.push(file);
      progress('skipped', existing.size, existing.size);
      continue;
    }
    await mkdir(path.dirname(dest), { recursive: true });
    const url = `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;

    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetchWithRetry(url, {
          headers,
          retries,
          ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
          ...(opts.minDelayMs !== undefined ? { minDelayMs: opts.minDelayMs } : {}),
          ...(opts.maxDelayMs !== undefined ? { maxDelayMs: opts.maxDelayMs } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
        });
        const bytes = await streamToFile(res, dest, opts.stallTimeoutMs ?? 60_000, opts.signal, progress);
        result.downloaded.push(file);
        progress('done', bytes, bytes);
        break;
      } catch (err) {
        if (err instanceof HttpError && (err.status === 404 || err.status === 401 || err.status === 403)) {
          if (isOptional && err.status === 404) {
            result.missing.push(file);
            progress('missing', 0);
            break;
          }
          throw new HubFileNotFoundError(repo, revision, file, err);
        }
        // A body cut off mid-stream is worth another go; errors of fetchWithRetry were already retried.
        const retryable = err instanceof BodyError && !opts.signal?.aborted;
        if (!retryable || attempt > retries) {
          if (err instanceof BodyError) throw new HubDownloadInterruptedError(repo, file, err.message, attempt, err);
          throw err;
        }
        await new Promise((r) =>
          setTimeout(r, Math.min(opts.maxDelayMs ?? 30_000, (opts.minDelayMs ?? 1000) * 2 ** (attempt - 1))),
        );
      }
    }
  }
  return result;
}

/** Streams a response body to `<dest>.partial`, checks its length, then renames it to `dest`. Returns the size. */
async function streamToFile(
  res: Response,
  dest: string,
  stallTimeoutMs: number,
  signal: AbortSignal | undefined,
  progress: (status: 'downloading', received: number, total?: number) => void,
): Promise<number> {
  const partial = `${dest}.partial`;
  const lengthHeader = res.headers.get('content-length');
  // With a Content-Encoding, fetch decompresses and Content-Length no longer counts what we write.
  const expected = lengthHeader !== null && !res.headers.get('content-encoding') ? Number(lengthHeader) : undefined;
  const total = expected !== undefined && Number.isFinite(expected) ? expected : undefined;
  let received = 0;

  const stall = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => stall.abort(new BodyError(`stalled: no data for ${stallTimeoutMs / 1000} s`)),
      stallTimeoutMs,
    );
  };
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      arm();
      progress('downloading', received, total);
      cb(null, chunk);
    },
  });
  const pipeSignal = signal ? AbortSignal.any([stall.signal, signal]) : stall.signal;
  try {
    if (!res.body) throw new BodyError('had no body');
    arm();
    const body = Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>);
    await pipeline(body, counter, createWriteStream(partial), { signal: pipeSignal });
    if (total !== undefined && received !== total) {
      throw new BodyError(`ended after ${received} of ${total} bytes`);
    }
    await rename(partial, dest);
    return received;
  } catch (err) {
    await unlink(partial).catch(() => {});
    if (signal?.aborted) throw signal.reason;
    if (stall.signal.aborted) throw stall.signal.reason;
    if (err instanceof BodyError) throw err;
    // Local file-system errors (EACCES, ENOSPC, ...) are not the network's fault: no retry.
    if (err && typeof err === 'object' && 'syscall' in err) throw err;
    // A socket closed or reset mid-body.
    throw new BodyError(`was interrupted (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    clearTimeout(timer);
  }
}

function checkRepoPath(file: string): void {
  const bad =
    typeof file !== 'string' ||
    file === '' ||
    file.startsWith('/') ||
    file.includes('\\') ||
    file.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw new TypeError(`Not a valid file path inside a Hub repo: ${JSON.stringify(file)}`);
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
