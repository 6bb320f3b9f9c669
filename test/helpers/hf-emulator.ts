/**
 * A loopback stand-in for huggingface.co (node:http on 127.0.0.1, random port) that speaks the two protocols the
 * bot uses:
 *  - `GET /api/daily_papers?date=YYYY-MM-DD&limit=N&p=K`: the day's entries, `limit` per page (default 50, like
 *    the real API), page `p` (0-based); a day without data is `[]`, like a weekend.
 *  - `GET|HEAD /{owner}/{name}/resolve/{revision}/{path}`: files of a repo, served from a local directory; a missing
 *    file is 404 `{"error":"Entry not found"}`, an unknown repo 401 `{"error":"Repository not found"}`, like the Hub.
 * Every request is logged; failures (status codes, hung requests, bodies cut off mid-way) can be injected.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface EmulatorRequest {
  method: string;
  /** Path and query as received, e.g. `/api/daily_papers?date=2025-09-30&limit=100`. */
  url: string;
  /** Decoded path without the query. */
  path: string;
  query: Record<string, string>;
  /** The status sent, `'hang'` for a request left unanswered, `'truncated'` for a body cut off. */
  status?: number | 'hang' | 'truncated';
  /** Whether an `Authorization` header was present (its value is never kept). */
  authorized: boolean;
}

/** Which requests an injected failure applies to: a substring of the URL, a RegExp on it, or a predicate. */
export type RequestMatcher = string | RegExp | ((req: EmulatorRequest) => boolean);

export interface HfEmulatorOptions {
  /** A folder of `YYYY-MM-DD.json` day files (read at request time). */
  papersDir?: string;
  /** Day → entries; takes precedence over `papersDir`. */
  papers?: Map<string, unknown[]> | Record<string, unknown[]>;
  /** `owner/name` → local directory whose files the repo serves. */
  repos?: Record<string, string>;
  /** `limit` when the query has none. Default 50, like the real API. */
  defaultLimit?: number;
  /** Answer `/resolve/` with a 302 to a CDN-like path (like LFS files on the Hub). Default false. */
  redirectFiles?: boolean;
}

interface Rule {
  match: RequestMatcher;
  remaining: number;
  action:
    | { kind: 'status'; status: number; retryAfter?: string; body?: string }
    | { kind: 'hang' }
    | { kind: 'truncate'; bytes?: number; stall?: boolean };
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class HfEmulator {
  /** `http://127.0.0.1:PORT` (valid after `start()`). */
  endpoint = '';
  /** Every request received, in order. */
  readonly requests: EmulatorRequest[] = [];
  private readonly opts: HfEmulatorOptions;
  private readonly days = new Map<string, unknown[]>();
  private readonly rules: Rule[] = [];
  private readonly server: Server;

  constructor(opts: HfEmulatorOptions = {}) {
    this.opts = opts;
    const papers = opts.papers instanceof Map ? opts.papers : new Map(Object.entries(opts.papers ?? {}));
    for (const [day, entries] of papers) this.days.set(day, entries);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: String(err) }));
        } else res.destroy();
      });
    });
  }

  /** Creates and starts an emulator. */
  static async start(opts: HfEmulatorOptions = {}): Promise<HfEmulator> {
    const emu = new HfEmulator(opts);
    await emu.start();
    return emu;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.endpoint = `http://127.0.0.1:${port}`;
    return this;
  }

  /** Sets (or replaces) the entries of one day. */
  setDay(date: string, entries: unknown[]): void {
    this.days.set(date, entries);
  }

  /** The next `times` (default 1) matching requests are answered with `status` (and `Retry-After`, if given). */
  failNext(
    match: RequestMatcher,
    status: number,
    opts: { retryAfter?: number | string; times?: number; body?: string } = {},
  ): void {
    this.rules.push({
      match,
      remaining: opts.times ?? 1,
      action: {
        kind: 'status',
        status,
        ...(opts.retryAfter !== undefined ? { retryAfter: String(opts.retryAfter) } : {}),
        ...(opts.body !== undefined ? { body: opts.body } : {}),
      },
    });
  }

  /** Forgets every injected failure (the API is back). */
  clearFailures(): void {
    this.rules.length = 0;
  }

  /** The next matching requests are accepted and never answered (until `close()`). */
  hangNext(match: RequestMatcher, opts: { times?: number } = {}): void {
    this.rules.push({ match, remaining: opts.times ?? 1, action: { kind: 'hang' } });
  }

  /**
   * The next matching requests get their real headers (full `Content-Length`) and only part of the body (`bytes`,
   * default half); then the connection is dropped, or with `stall` left open without sending more.
   */
  truncateNext(match: RequestMatcher, opts: { times?: number; bytes?: number; stall?: boolean } = {}): void {
    this.rules.push({
      match,
      remaining: opts.times ?? 1,
      action: {
        kind: 'truncate',
        ...(opts.bytes !== undefined ? { bytes: opts.bytes } : {}),
        ...(opts.stall ? { stall: true } : {}),
      },
    });
  }

  /** Requests whose URL contains `needle` (or all). */
  log(needle?: string): EmulatorRequest[] {
    return needle === undefined ? [...this.requests] : this.requests.filter((r) => r.url.includes(needle));
  }

  clearLog(): void {
    this.requests.length = 0;
  }

  /** Stops the server and drops every open connection (hung requests included). */
  async close(): Promise<void> {
    this.rules.length = 0;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---------------------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry: EmulatorRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      path: safeDecode(url.pathname),
      query: Object.fromEntries(url.searchParams),
      authorized: req.headers.authorization !== undefined,
    };
    this.requests.push(entry);

    const rule = this.takeRule(entry);
    if (rule?.action.kind === 'hang') {
      entry.status = 'hang';
      return; // never answered; close() drops the connection
    }
    if (rule?.action.kind === 'status') {
      const { status, retryAfter, body } = rule.action;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
      return this.send(req, res, entry, {
        status,
        headers,
        body: Buffer.from(body ?? JSON.stringify({ error: STATUS_CODES[status] ?? 'Error' })),
      });
    }

    const reply = await this.route(req, entry);
    if (rule?.action.kind === 'truncate') {
      const cut = Math.min(reply.body.length - 1, rule.action.bytes ?? Math.floor(reply.body.length / 2));
      entry.status = 'truncated';
      res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
      const stall = rule.action.stall === true;
      res.write(reply.body.subarray(0, Math.max(0, cut)), () => {
        if (!stall) setTimeout(() => res.destroy(), 10);
      });
      return;
    }
    this.send(req, res, entry, reply);
  }

  private send(req: IncomingMessage, res: ServerResponse, entry: EmulatorRequest, reply: Reply): void {
    entry.status = reply.status;
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  }

  private takeRule(entry: EmulatorRequest): Rule | undefined {
    const i = this.rules.findIndex((r) => matches(r.match, entry));
    if (i < 0) return undefined;
    const rule = this.rules[i];
    if (!rule) return undefined;
    rule.remaining--;
    if (rule.remaining <= 0) this.rules.splice(i, 1);
    return rule;
  }

  private async route(req: IncomingMessage, entry: EmulatorRequest): Promise<Reply> {
    const method = entry.method;
    if (method !== 'GET' && method !== 'HEAD') return json(405, { error: 'Method not allowed' });
    if (entry.path === '/api/daily_papers') return this.dailyPapers(entry);
    if (entry.path.startsWith('/__cdn/')) return this.cdnFile(entry);
    // Split the raw path before decoding, so an encoded revision such as `refs%2Fpr%2F1` stays one segment.
    const segs = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.split('/').slice(1).map(safeDecode);
    const at = segs[1] === 'resolve' ? 1 : segs[2] === 'resolve' ? 2 : -1;
    if (at > 0) {
      const repo = segs.slice(0, at).join('/');
      const revision = segs[at + 1] ?? '';
      const file = segs.slice(at + 2).join('/');
      return this.hubFile(req, repo, revision, file);
    }
    return json(404, { error: "Sorry, we can't find the page you are looking for." });
  }

  private async dailyPapers(entry: EmulatorRequest): Promise<Reply> {
    const { date = new Date().toISOString().slice(0, 10), limit, p } = entry.query;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return json(400, { error: `Invalid date: ${date}` });
    const lim = limit === undefined ? (this.opts.defaultLimit ?? 50) : Number(limit);
    const page = p === undefined ? 0 : Number(p);
    if (!Number.isInteger(lim) || lim < 1) return json(400, { error: `Invalid limit: ${limit}` });
    if (!Number.isInteger(page) || page < 0) return json(400, { error: `Invalid p: ${p}` });
    const entries = await this.dayEntries(date);
    return json(200, entries.slice(page * lim, (page + 1) * lim));
  }

  private async dayEntries(date: string): Promise<unknown[]> {
    const inMemory = this.days.get(date);
    if (inMemory) return inMemory;
    if (!this.opts.papersDir) return [];
    try {
      const parsed: unknown = JSON.parse(await readFile(path.join(this.opts.papersDir, `${date}.json`), 'utf8'));
      return Array.isArray(parsed) ? parsed : [];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private async hubFile(req: IncomingMessage, repo: string, revision: string, file: string): Promise<Reply> {
    const local = await this.localFile(repo, file);
    if (local === 'no-repo') return json(401, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    if (local === undefined || !revision)
      return json(404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
    if (this.opts.redirectFiles) {
      const host = req.headers.host ?? '127.0.0.1';
      const location = `http://${host}/__cdn/${repo}/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
      return {
        status: 302,
        headers: { location, 'content-type': 'text/plain' },
        body: Buffer.from(`Found. Redirecting to ${location}`),
      };
    }
    return fileReply(local);
  }

  private async cdnFile(entry: EmulatorRequest): Promise<Reply> {
    // /__cdn/{repo...}/{revision}/{file...}: the repo is whichever configured repo prefixes the path.
    const rest = entry.path.slice('/__cdn/'.length);
    for (const repo of Object.keys(this.opts.repos ?? {})) {
      if (!rest.startsWith(`${repo}/`)) continue;
      const file = rest
        .slice(repo.length + 1)
        .split('/')
        .slice(1)
        .join('/');
      const local = await this.localFile(repo, file);
      if (typeof local === 'string' && local !== 'no-repo') return fileReply(local);
    }
    return json(404, { error: 'Not found' });
  }

  /** The local path of a repo file, `undefined` when missing, `'no-repo'` for an unknown repo. */
  private async localFile(repo: string, file: string): Promise<string | undefined> {
    const dir = this.opts.repos?.[repo];
    if (dir === undefined) return 'no-repo';
    const root = path.resolve(dir);
    const full = path.resolve(root, ...file.split('/'));
    if (!file || !full.startsWith(root + path.sep)) return undefined;
    const st = await stat(full).catch(() => undefined);
    return st?.isFile() ? full : undefined;
  }
}

function matches(m: RequestMatcher, req: EmulatorRequest): boolean {
  if (typeof m === 'string') return req.url.includes(m) || req.path.includes(m);
  if (m instanceof RegExp) return m.test(req.url);
  return m(req);
}

function json(status: number, value: unknown, extra: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...extra },
    body: Buffer.from(JSON.stringify(value)),
  };
}

async function fileReply(full: string): Promise<Reply> {
  const body = await readFile(full);
  return { status: 200, headers: { 'content-type': 'application/octet-stream', etag: `"${body.length}"` }, body };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
