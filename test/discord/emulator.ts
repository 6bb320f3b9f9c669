/**
 * DiscordEmulator: a fake Discord (REST API v10 + gateway) on 127.0.0.1 for end-to-end tests
 * of the real, unmodified discord.js client.
 *
 * Protocol facts and traps it is built around: test/discord/README.md.
 *
 *   const emu = await DiscordEmulator.start();
 *   const client = new Client({ intents: [GatewayIntentBits.Guilds],
 *     rest: { api: emu.apiBase, globalRequestsPerSecond: 1e6 } });
 *   const ready = once(client, Events.ClientReady);
 *   await client.login(emu.token); await ready;
 *   const it = emu.interact(emu.chatInput('ask', { question: 'hi' }));
 *   const edit = await it.editOriginal();        // the PATCH .../messages/@original request
 *   ...
 *   await client.destroy();                      // only after ready (G6)
 *   await emu.close();
 *
 * Fidelity choices (all mirror real Discord): no X-RateLimit-* headers unless injected; message,
 * embed, component, autocomplete-choice and command-definition limits are validated and answered
 * with 400 {code: 50035, errors} like Discord; an interaction can be acknowledged once (40060);
 * the first follow-up after a deferral edits the deferred "thinking" message; builders refuse
 * payloads a real Discord client could not produce (undeclared options, missing buttons...).
 */
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type {
  APIAttachment,
  APIGuildMember,
  APIMessage,
  APIRole,
  APIUser,
  ApplicationFlags,
  GatewayReadyDispatchData,
  GuildMemberFlags,
  MessageFlags,
  RoleFlags,
  UserFlags,
} from 'discord.js';

/** Parsed JSON as received from or sent to the client. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

// ---------------------------------------------------------------------------------------------
// Snowflakes, permissions, constants
// ---------------------------------------------------------------------------------------------

const DISCORD_EPOCH = 1420070400000n;
let lastSnowflake = 0n;

/** A real-looking (19-digit, time-ordered, unique) snowflake. */
export function snowflake(timestamp?: number): string {
  if (timestamp !== undefined) {
    return (((BigInt(timestamp) - DISCORD_EPOCH) << 22n) | BigInt(Math.floor(Math.random() * 0x3fffff))).toString();
  }
  let id = ((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (1n << 17n);
  if (id <= lastSnowflake) id = lastSnowflake + 1n;
  lastSnowflake = id;
  return id.toString();
}

/** The permission bits the emulator enforces (same values as discord.js `PermissionFlagsBits`). */
export const Permission = {
  CreateInstantInvite: 1n << 0n,
  Administrator: 1n << 3n,
  ManageChannels: 1n << 4n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseExternalEmojis: 1n << 18n,
  UseApplicationCommands: 1n << 31n,
  SendMessagesInThreads: 1n << 38n,
} as const;

const ALL_PERMISSIONS = (1n << 51n) - 1n;
const DEFAULT_EVERYONE_PERMISSIONS =
  Permission.CreateInstantInvite |
  Permission.AddReactions |
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.EmbedLinks |
  Permission.AttachFiles |
  Permission.ReadMessageHistory |
  Permission.UseExternalEmojis |
  Permission.UseApplicationCommands |
  Permission.SendMessagesInThreads;
/** What the app may do in a DM with a user (roughly what Discord reports as app_permissions). */
const DM_APP_PERMISSIONS =
  Permission.AddReactions |
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.EmbedLinks |
  Permission.AttachFiles |
  Permission.ReadMessageHistory |
  Permission.UseExternalEmojis;

const Intent = { Guilds: 1 << 0, GuildMembers: 1 << 1, GuildMessages: 1 << 9, DirectMessages: 1 << 12 } as const;

const MessageFlag = {
  SuppressEmbeds: 1 << 2,
  Ephemeral: 1 << 6,
  Loading: 1 << 7,
  SuppressNotifications: 1 << 12,
  ComponentsV2: 1 << 15,
} as const;

/** Interaction types (Discord numbering). */
export const InteractionKind = {
  Ping: 1,
  ApplicationCommand: 2,
  MessageComponent: 3,
  Autocomplete: 4,
  ModalSubmit: 5,
} as const;
/** Interaction callback types (Discord numbering). */
export const CallbackType = {
  Pong: 1,
  ChannelMessageWithSource: 4,
  DeferredChannelMessageWithSource: 5,
  DeferredUpdateMessage: 6,
  UpdateMessage: 7,
  ApplicationCommandAutocompleteResult: 8,
  Modal: 9,
} as const;

const ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export interface DiscordEmulatorOptions {
  /** Token accepted on REST (`Bot <token>`) and in IDENTIFY/RESUME. Default 'emulator-bot-token'. */
  token?: string;
  /** Application id; also the bot user's id, as on real Discord. Default: a fresh snowflake. */
  applicationId?: string;
  botUsername?: string;
  /** HELLO heartbeat interval. Default 1000 ms (real Discord: 41250). */
  heartbeatIntervalMs?: number;
  /** Create the default fixture (guild "Test Guild" with #general and #digest, user "tester"). Default true. */
  defaultGuild?: boolean;
  /** Permissions of the bot's managed role in guilds the emulator creates. */
  botPermissions?: bigint;
  /** If set, an interaction not acknowledged within this many ms answers 404 {code:10062} (Discord: 3000). */
  callbackDeadlineMs?: number;
}

export interface RecordedFile {
  /** Form field name, e.g. `files[0]`. */
  field: string;
  filename: string;
  contentType: string | undefined;
  data: Buffer;
}

export interface RecordedRequest {
  method: string;
  /** Percent-decoded path relative to `/api/v10`, e.g. `/webhooks/123/tok/messages/@original`. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body (for multipart: the parsed `payload_json` part); undefined when empty. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  files: RecordedFile[];
  headers: IncomingHttpHeaders;
  /** Status that was answered. */
  status: number;
  /** Body that was answered (undefined for 204). */
  response: unknown;
  /** True when an `intercept` rule produced the answer. */
  intercepted: boolean;
  /** Date.now() when the request arrived. */
  at: number;
  /** The raw request URL (still percent-encoded, with `/api/v10`). */
  url: string;
}

/** A function, or a spec: method (case-insensitive), path (exact, `:param` wildcard segments, or RegExp), status. */
export type RequestMatcher =
  | ((req: RecordedRequest) => boolean)
  | { method?: string; path?: string | RegExp; status?: number };

export interface InjectedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** Return a response to inject, or undefined to let the request through. */
export type InterceptFn = (req: RecordedRequest) => InjectedResponse | undefined | null;

export interface InterceptSpec {
  method?: string;
  path?: string | RegExp;
  match?: (req: RecordedRequest) => boolean;
  respond: InjectedResponse | ((req: RecordedRequest) => InjectedResponse);
  /** How many matching requests to answer (default: unlimited for a function, 1 for a spec). */
  times?: number;
}

export interface Interceptor {
  /** Matching requests answered so far. */
  readonly hits: number;
  /** Answers left (Infinity when unlimited). */
  readonly remaining: number;
  remove(): void;
}

/** Ready-made responses for `intercept`. */
export const responses = {
  /** 429 with Retry-After (seconds) and Discord's body; no X-RateLimit-Limit/Remaining headers. */
  rateLimited(retryAfterSeconds = 0.05, opts: { global?: boolean } = {}): InjectedResponse {
    const headers: Record<string, string> = {
      'retry-after': String(retryAfterSeconds),
      'x-ratelimit-scope': opts.global ? 'global' : 'user',
    };
    if (opts.global) headers['x-ratelimit-global'] = 'true';
    return {
      status: 429,
      headers,
      body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: opts.global ?? false },
    };
  },
  serverError(status = 500): InjectedResponse {
    return { status, body: { message: `${status}: Internal Server Error`, code: 0 } };
  },
  apiError(status: number, code: number, message: string): InjectedResponse {
    return { status, body: { message, code } };
  },
  missingPermissions(): InjectedResponse {
    return { status: 403, body: { message: 'Missing Permissions', code: 50013 } };
  },
};

export interface GatewayFrame {
  op: number;
  d: unknown;
  at: number;
  sessionId: string | null;
}

export interface GatewaySession {
  id: string;
  seq: number;
  intents: number;
  shard: [number, number];
  identify: Json;
  presence: Json | null;
  connected: boolean;
  /** Dispatches sent on this session (kept for RESUME replay; last 1000). */
  readonly events: { s: number; t: string; d: unknown }[];
}

export interface InteractionState {
  id: string;
  token: string;
  type: number;
  payload: Json;
  createdAt: number;
  /** Acknowledgements received (at most one is accepted). */
  callbacks: { type: number; data: Json | undefined; at: number }[];
  /** Type of the accepted acknowledgement, null while unanswered. */
  responseType: number | null;
  /** The @original message (after 4/5, or the component message after 6/7). */
  original: APIMessage | null;
  followups: APIMessage[];
  /** Choices of an autocomplete response (callback 8). */
  choices: Json[] | null;
  /** Modal shown (callback 9). */
  modal: Json | null;
}

export interface InteractionHandle {
  id: string;
  token: string;
  payload: Json;
  /** Live emulator state of this interaction. */
  readonly state: InteractionState;
  /** Waits for the POST /interactions/:id/:token/callback request. */
  callback(timeoutMs?: number): Promise<RecordedRequest>;
  /** Waits for the first PATCH /webhooks/:app/:token/messages/@original request. */
  editOriginal(timeoutMs?: number): Promise<RecordedRequest>;
  /** Waits for the n-th (default first) follow-up POST /webhooks/:app/:token request. */
  followup(timeoutMs?: number, nth?: number): Promise<RecordedRequest>;
}

export interface InteractionContext {
  /** Invoking user (object or id). Default: the fixture user "tester" (or the DM recipient). */
  user?: APIUser | string;
  /** Guild; `null` makes a DM interaction. Default: the guild of `channelId`, else the default guild. */
  guildId?: string | null;
  /** Channel. Default: the default channel of the guild, or the user's DM channel. */
  channelId?: string;
  locale?: string;
  /** Extra role ids for the invoking member. */
  roles?: string[];
  /** Skip the "could a real user produce this?" checks. */
  force?: boolean;
}

export interface ChatInputContext extends InteractionContext {
  subcommand?: string;
  subcommandGroup?: string;
  /** Use this command id instead of looking the command up. */
  commandId?: string;
}

export interface AutocompleteContext extends ChatInputContext {
  /** Other (already filled) options. */
  options?: Record<string, OptionInput>;
}

/**
 * An option value: string -> STRING (3), integer -> INTEGER (4), other number -> NUMBER (10),
 * boolean -> BOOLEAN (5). The registered definition's type wins when the command is registered.
 * Use `{ type, value }` for USER (6), CHANNEL (7), ROLE (8), MENTIONABLE (9) ids, or
 * `{ type: 11, attachment: {...} }` for an ATTACHMENT.
 */
export type OptionInput =
  | string
  | number
  | boolean
  | { type: number; value: string | number | boolean }
  | { type: 11; attachment: { filename: string; size?: number; contentType?: string; url?: string } };

export interface GuildState {
  id: string;
  name: string;
  owner_id: string;
  joined_at: string;
  preferred_locale: string;
  roles: APIRole[];
  members: APIGuildMember[];
  features: string[];
}

export interface AddGuildOptions {
  id?: string;
  name?: string;
  owner?: APIUser | string;
  /** Text channels to create (default ['general']). */
  channels?: string[];
  botPermissions?: bigint;
  everyonePermissions?: bigint;
}

export interface AddChannelOptions {
  name: string;
  /** 0 text (default), 2 voice, 4 category, 5 announcement, 15 forum. */
  type?: number;
  id?: string;
  parentId?: string | null;
  topic?: string | null;
  permissionOverwrites?: { id: string; type: 0 | 1; allow: string; deny: string }[];
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: Json,
  ) {
    super(message);
  }
}

/** Collects Discord-style form errors: `{ embeds: { 0: { title: { _errors: [{code, message}] } } } }`. */
class FormErrors {
  readonly list: { path: (string | number)[]; code: string; message: string }[] = [];
  add(path: (string | number)[], code: string, message: string): void {
    this.list.push({ path, code, message });
  }
  maxLength(path: (string | number)[], value: unknown, max: number, min = 0): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') {
      this.add(path, 'BASE_TYPE_STRING', 'Must be a string.');
      return;
    }
    const len = [...value].length;
    if (len > max) this.add(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
    else if (len < min) this.add(path, 'BASE_TYPE_MIN_LENGTH', `Must be ${min} or more in length.`);
  }
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const errors: Json = {};
    for (const e of this.list) {
      let node = errors;
      for (const key of e.path) node = node[String(key)] ??= {};
      (node._errors ??= []).push({ code: e.code, message: e.message });
    }
    throw new ApiError(400, 50035, 'Invalid Form Body', errors);
  }
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
type Handler = (req: RecordedRequest, params: Record<string, string>) => Reply | Promise<Reply>;
interface Route {
  method: string;
  segments: string[];
  auth: boolean;
  handler: Handler;
}

class Waitable<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<() => boolean>();

  push(item: T): void {
    this.items.push(item);
    for (const w of [...this.waiters]) if (w()) this.waiters.delete(w);
  }

  /** Resolves once `select(items)` returns something other than undefined. */
  until<R>(select: (items: T[]) => R | undefined, timeoutMs: number, onTimeout: () => string): Promise<R> {
    const now = select(this.items);
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<R>((resolve, reject) => {
      const waiter = (): boolean => {
        const r = select(this.items);
        if (r === undefined) return false;
        clearTimeout(timer);
        resolve(r);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(onTimeout()));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  cancelAll(): void {
    this.waiters.clear();
  }
}

interface Conn {
  ws: WebSocket;
  session: GatewaySession | null;
  send(payload: Json): void;
  deflate: zlib.Deflate | null;
}

interface SessionInternal extends GatewaySession {
  conn: Conn | null;
  events: { s: number; t: string; d: unknown }[];
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function nowIso(): string {
  return new Date().toISOString();
}

function safeTest(pred: (r: RecordedRequest) => boolean, r: RecordedRequest): boolean {
  try {
    return pred(r);
  } catch {
    return false;
  }
}

function pathMatches(pattern: string | RegExp, path: string): boolean {
  if (pattern instanceof RegExp) return pattern.test(path);
  if (!pattern.includes(':')) return pattern === path;
  const a = pattern.split('/');
  const b = path.split('/');
  return a.length === b.length && a.every((seg, i) => seg.startsWith(':') || seg === b[i]);
}

function toPredicate(m: RequestMatcher): (r: RecordedRequest) => boolean {
  if (typeof m === 'function') return m;
  return (r) =>
    (m.method === undefined || m.method.toUpperCase() === r.method) &&
    (m.path === undefined || pathMatches(m.path, r.path)) &&
    (m.status === undefined || m.status === r.status);
}

function describeMatcher(m: RequestMatcher): string {
  if (typeof m === 'function') {
    const src = m.toString().replace(/\s+/g, ' ');
    return src.length > 160 ? `${src.slice(0, 157)}...` : src;
  }
  return JSON.stringify({ ...m, path: m.path instanceof RegExp ? m.path.toString() : m.path });
}

function isHttpUrl(value: unknown, allowAttachment = false): boolean {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' || (allowAttachment && u.protocol === 'attachment:');
  } catch {
    return false;
  }
}

/** Walks every component (action rows, containers, sections' accessories). */
function* walkComponents(components: unknown): Generator<Json> {
  if (!Array.isArray(components)) return;
  for (const c of components as Json[]) {
    if (!c || typeof c !== 'object') continue;
    yield c;
    if (Array.isArray(c.components)) yield* walkComponents(c.components);
    if (c.accessory) yield* walkComponents([c.accessory]);
    if (c.component) yield* walkComponents([c.component]);
  }
}

function parseMultipart(
  buf: Buffer,
  boundary: string,
): { name: string; filename?: string; contentType?: string; data: Buffer }[] {
  const parts: { name: string; filename?: string; contentType?: string; data: Buffer }[] = [];
  const delim = Buffer.from(`--${boundary}`);
  let pos = buf.indexOf(delim);
  while (pos !== -1) {
    let start = pos + delim.length;
    if (buf.subarray(start, start + 2).toString() === '--') break;
    if (buf.subarray(start, start + 2).toString() === '\r\n') start += 2;
    const next = buf.indexOf(delim, start);
    if (next === -1) break;
    const part = buf.subarray(start, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? '';
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
      const contentType = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim();
      parts.push({
        name,
        ...(filename !== undefined ? { filename } : {}),
        ...(contentType !== undefined ? { contentType } : {}),
        data: Buffer.from(part.subarray(headerEnd + 4)),
      });
    }
    pos = next;
  }
  return parts;
}

const OPTION_JS_TYPE: Record<number, string> = {
  3: 'string',
  4: 'number',
  5: 'boolean',
  6: 'string',
  7: 'string',
  8: 'string',
  9: 'string',
  10: 'number',
  11: 'string',
};

const COMMAND_NAME_RE = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

// ---------------------------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------------------------

export class DiscordEmulator {
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: APIUser;
  /** `http://127.0.0.1:PORT/api` (pass as discord.js `rest.api`). */
  apiBase = '';
  /** `ws://127.0.0.1:PORT/gateway` (what GET /gateway/bot returns). */
  gatewayUrl = '';
  port = 0;
  heartbeatIntervalMs: number;
  /** Set false to stop answering heartbeats (the client then treats the connection as a zombie). */
  ackHeartbeats = true;
  callbackDeadlineMs: number | undefined;

  /** Fixture ids; empty strings when started with `defaultGuild: false`. */
  readonly defaults = {
    guildId: '',
    channelId: '',
    digestChannelId: '',
    user: null as unknown as APIUser,
    owner: null as unknown as APIUser,
  };

  // state
  readonly users = new Map<string, APIUser>();
  readonly guilds = new Map<string, GuildState>();
  /** Guild channels and DM channels by id (deleted channels are removed). */
  readonly channels = new Map<string, Json>();
  /** userId -> DM channel id */
  readonly dmChannels = new Map<string, string>();
  /** channelId -> messages (oldest first); ephemeral messages are not here. */
  readonly messages = new Map<string, APIMessage[]>();
  readonly globalCommands: Json[] = [];
  readonly guildCommands = new Map<string, Json[]>();
  readonly interactions = new Map<string, InteractionState>();
  private readonly dmRefusers = new Set<string>();
  private readonly messageIndex = new Map<string, APIMessage>();
  private readonly interactionById = new Map<string, InteractionState>();

  // logs
  private readonly requestLog = new Waitable<RecordedRequest>();
  private readonly gatewayLog = new Waitable<GatewayFrame>();
  /** `METHOD /path` of requests no route matched (404/405). Assert it stays empty. */
  readonly unknownRoutes: string[] = [];
  /** Exceptions thrown by the emulator itself while answering (answered as 500). Assert it stays empty. */
  readonly internalErrors: unknown[] = [];
  private interceptors: { fn: InterceptFn; remaining: number; hits: number }[] = [];

  // gateway
  private readonly sessions = new Map<string, SessionInternal>();
  private readonly conns = new Set<Conn>();
  identifyCount = 0;
  resumeCount = 0;

  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly routes: Route[] = [];

  private constructor(private readonly opts: DiscordEmulatorOptions) {
    this.token = opts.token ?? 'emulator-bot-token';
    this.applicationId = opts.applicationId ?? snowflake();
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 1000;
    this.callbackDeadlineMs = opts.callbackDeadlineMs;
    this.botUser = {
      id: this.applicationId,
      username: opts.botUsername ?? 'digest-bot',
      discriminator: '4821',
      global_name: null,
      avatar: null,
      bot: true,
      flags: 0 as UserFlags,
      public_flags: 0 as UserFlags,
    };
    this.users.set(this.botUser.id, this.botUser);
    this.server = http.createServer((req, res) => {
      this.onHttp(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `emulator crashed: ${String(err)}`, code: 0 }));
      });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (!url.pathname.startsWith('/gateway')) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onGatewayConnection(ws, url));
    });
    this.defineRoutes();
    if (opts.defaultGuild !== false) this.createFixture();
  }

  /** Starts an emulator on 127.0.0.1 (random port). */
  static async start(opts: DiscordEmulatorOptions = {}): Promise<DiscordEmulator> {
    const emu = new DiscordEmulator(opts);
    await new Promise<void>((resolve, reject) => {
      emu.server.once('error', reject);
      emu.server.listen(0, '127.0.0.1', () => resolve());
    });
    emu.port = (emu.server.address() as AddressInfo).port;
    emu.apiBase = `http://127.0.0.1:${emu.port}/api`;
    emu.gatewayUrl = `ws://127.0.0.1:${emu.port}/gateway`;
    return emu;
  }

  /** Terminates gateway sockets and HTTP connections and stops listening. Destroy clients first (G6). */
  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    this.requestLog.cancelAll();
    this.gatewayLog.cancelAll();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------
  // Fixture and state helpers
  // -------------------------------------------------------------------------------------------

  private createFixture(): void {
    const owner = this.addUser({ username: 'guild-owner' });
    const user = this.addUser({ username: 'tester', global_name: 'Tester' });
    const guild = this.addGuild({ name: 'Test Guild', owner, channels: ['general', 'digest'] });
    this.addMember(guild.id, user);
    const [general, digest] = this.guildChannels(guild.id);
    Object.assign(this.defaults, {
      guildId: guild.id,
      channelId: general?.id ?? '',
      digestChannelId: digest?.id ?? '',
      user,
      owner,
    });
  }

  /** Adds a user (not a guild member). */
  addUser(partial: Partial<APIUser> = {}): APIUser {
    const id = partial.id ?? snowflake();
    const user: APIUser = {
      id,
      username: partial.username ?? `user${id.slice(-4)}`,
      discriminator: '0',
      global_name: null,
      avatar: null,
      bot: false,
      flags: 0 as UserFlags,
      public_flags: 0 as UserFlags,
      ...partial,
    };
    this.users.set(id, user);
    return user;
  }

  private resolveUser(u: APIUser | string | undefined): APIUser {
    if (u === undefined) {
      if (!this.defaults.user) throw new Error('no default user (started with defaultGuild: false); pass ctx.user');
      return this.defaults.user;
    }
    if (typeof u !== 'string') {
      if (!this.users.has(u.id)) this.users.set(u.id, u);
      return this.users.get(u.id) ?? u;
    }
    const found = this.users.get(u);
    if (!found) throw new Error(`unknown user ${u}; add it with emu.addUser()`);
    return found;
  }

  /** Adds a guild the bot is in (with @everyone, a managed bot role, the bot and owner as members, text channels). Dispatches GUILD_CREATE to ready sessions. */
  addGuild(o: AddGuildOptions = {}): GuildState {
    const id = o.id ?? snowflake();
    const owner = o.owner ? this.resolveUser(o.owner) : this.addUser({ username: 'owner' });
    const everyone: APIRole = this.makeRole(id, '@everyone', o.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS, 0);
    const botRole: APIRole = {
      ...this.makeRole(
        snowflake(),
        this.botUser.username,
        o.botPermissions ?? this.opts.botPermissions ?? DEFAULT_EVERYONE_PERMISSIONS,
        1,
      ),
      managed: true,
      tags: { bot_id: this.botUser.id },
    };
    const guild: GuildState = {
      id,
      name: o.name ?? 'Guild',
      owner_id: owner.id,
      joined_at: nowIso(),
      preferred_locale: 'en-US',
      roles: [everyone, botRole],
      members: [],
      features: [],
    };
    this.guilds.set(id, guild);
    this.addMember(id, this.botUser, { roles: [botRole.id], dispatch: false });
    this.addMember(id, owner, { dispatch: false });
    for (const name of o.channels ?? ['general']) this.addChannel(id, { name }, { dispatch: false });
    this.broadcast('GUILD_CREATE', () => this.guildCreatePayload(guild));
    return guild;
  }

  /** Removes the bot from a guild (GUILD_DELETE). */
  removeGuild(guildId: string): void {
    this.guilds.delete(guildId);
    for (const ch of this.guildChannels(guildId)) this.channels.delete(ch.id);
    this.broadcast('GUILD_DELETE', () => ({ id: guildId }));
  }

  private makeRole(id: string, name: string, permissions: bigint, position: number): APIRole {
    return {
      id,
      name,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position,
      permissions: permissions.toString(),
      managed: false,
      mentionable: false,
      flags: 0 as RoleFlags,
    };
  }

  /** Adds a role; returns it. */
  addRole(guildId: string, name: string, permissions: bigint = 0n): APIRole {
    const guild = this.mustGuild(guildId);
    const role = this.makeRole(snowflake(), name, permissions, guild.roles.length);
    guild.roles.push(role);
    this.broadcast('GUILD_ROLE_CREATE', () => ({ guild_id: guildId, role }));
    return role;
  }

  /**
   * Makes the bot's guild-wide permissions exactly `permissions`: sets its managed role and removes
   * from @everyone what is not in `permissions` (which affects every member). GUILD_ROLE_UPDATE x2.
   */
  setBotPermissions(guildId: string, permissions: bigint): void {
    const guild = this.mustGuild(guildId);
    const role = guild.roles.find((r) => r.managed && r.tags?.bot_id === this.botUser.id);
    if (!role) throw new Error('bot role not found');
    role.permissions = permissions.toString();
    guild.roles[0]!.permissions = (BigInt(guild.roles[0]!.permissions) & permissions).toString();
    this.broadcast('GUILD_ROLE_UPDATE', () => ({ guild_id: guildId, role }));
    this.broadcast('GUILD_ROLE_UPDATE', () => ({ guild_id: guildId, role: guild.roles[0] }));
  }

  /** Adds (or updates) a guild member. */
  addMember(
    guildId: string,
    user: APIUser | string,
    o: { roles?: string[]; nick?: string | null; dispatch?: boolean } = {},
  ): APIGuildMember {
    const guild = this.mustGuild(guildId);
    const u = this.resolveUser(user);
    guild.members = guild.members.filter((m) => m.user.id !== u.id);
    const member: APIGuildMember = {
      user: u,
      nick: o.nick ?? null,
      avatar: null,
      banner: null,
      roles: o.roles ?? [],
      joined_at: nowIso(),
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0 as GuildMemberFlags,
      pending: false,
      communication_disabled_until: null,
    };
    guild.members.push(member);
    if (o.dispatch) this.broadcast('GUILD_MEMBER_ADD', () => ({ ...member, guild_id: guildId }), Intent.GuildMembers);
    return member;
  }

  /** Adds a guild channel (CHANNEL_CREATE to ready sessions unless dispatch: false). */
  addChannel(guildId: string, o: AddChannelOptions, d: { dispatch?: boolean } = {}): Json {
    this.mustGuild(guildId);
    const id = o.id ?? snowflake();
    const type = o.type ?? 0;
    const channel: Json = {
      id,
      type,
      guild_id: guildId,
      name: o.name,
      position: this.guildChannels(guildId).length,
      permission_overwrites: o.permissionOverwrites ?? [],
      parent_id: o.parentId ?? null,
      nsfw: false,
      flags: 0,
      ...(type === 0 || type === 5
        ? { topic: o.topic ?? null, last_message_id: null, rate_limit_per_user: 0, last_pin_timestamp: null }
        : {}),
      ...(type === 2
        ? { bitrate: 64000, user_limit: 0, rtc_region: null, last_message_id: null, rate_limit_per_user: 0 }
        : {}),
      ...(type === 15
        ? {
            topic: o.topic ?? null,
            available_tags: [],
            default_reaction_emoji: null,
            default_sort_order: null,
            default_forum_layout: 0,
            rate_limit_per_user: 0,
          }
        : {}),
    };
    this.channels.set(id, channel);
    if (d.dispatch !== false) this.broadcast('CHANNEL_CREATE', () => clone(channel));
    return channel;
  }

  /** Deletes a channel: later REST calls on it answer 404 {code: 10003}. Dispatches CHANNEL_DELETE unless dispatch: false. */
  deleteChannel(channelId: string, o: { dispatch?: boolean } = {}): void {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`unknown channel ${channelId}`);
    this.channels.delete(channelId);
    if (channel.type === 1) {
      for (const [uid, cid] of this.dmChannels) if (cid === channelId) this.dmChannels.delete(uid);
    }
    if (o.dispatch !== false && channel.guild_id) this.broadcast('CHANNEL_DELETE', () => clone(channel));
  }

  /** Makes a user refuse DMs from the bot: POST /channels/{dm}/messages -> 403 {code: 50007}. */
  refuseDms(userId: string, refuse = true): void {
    if (refuse) this.dmRefusers.add(userId);
    else this.dmRefusers.delete(userId);
  }

  /**
   * Denies a permission to the bot in one channel (a member overwrite), e.g. Permission.SendMessages:
   * sends then answer 403 {code: 50013}. Dispatches CHANNEL_UPDATE unless dispatch: false.
   */
  denyPermission(channelId: string, permission: bigint, o: { dispatch?: boolean } = {}): void {
    const channel = this.channels.get(channelId);
    if (!channel?.guild_id) throw new Error(`unknown guild channel ${channelId}`);
    const overwrites: Json[] = channel.permission_overwrites;
    let ow = overwrites.find((x) => x.id === this.botUser.id);
    if (!ow) {
      ow = { id: this.botUser.id, type: 1, allow: '0', deny: '0' };
      overwrites.push(ow);
    }
    ow.deny = (BigInt(ow.deny) | permission).toString();
    ow.allow = (BigInt(ow.allow) & ~permission).toString();
    if (o.dispatch !== false) this.broadcast('CHANNEL_UPDATE', () => clone(channel));
  }

  /** Computes a member's permissions in a guild (and channel), like Discord. */
  permissionsFor(guildId: string, userId: string, channelId?: string): bigint {
    const guild = this.guilds.get(guildId);
    if (!guild) return 0n;
    if (guild.owner_id === userId) return ALL_PERMISSIONS;
    const member = guild.members.find((m) => m.user.id === userId);
    if (!member) return 0n;
    const everyone = guild.roles.find((r) => r.id === guild.id);
    let perms = BigInt(everyone?.permissions ?? '0');
    for (const rid of member.roles) perms |= BigInt(guild.roles.find((r) => r.id === rid)?.permissions ?? '0');
    if (perms & Permission.Administrator) return ALL_PERMISSIONS;
    const channel = channelId ? this.channels.get(channelId) : undefined;
    if (!channel) return perms;
    const ows: Json[] = channel.permission_overwrites ?? [];
    const apply = (ow: Json | undefined): void => {
      if (!ow) return;
      perms &= ~BigInt(ow.deny);
      perms |= BigInt(ow.allow);
    };
    apply(ows.find((o) => o.id === guild.id));
    let allow = 0n;
    let deny = 0n;
    for (const o of ows) {
      if (o.type === 0 && o.id !== guild.id && member.roles.includes(o.id)) {
        allow |= BigInt(o.allow);
        deny |= BigInt(o.deny);
      }
    }
    perms = (perms & ~deny) | allow;
    apply(ows.find((o) => o.type === 1 && o.id === userId));
    return perms;
  }

  guildChannels(guildId: string): Json[] {
    return [...this.channels.values()].filter((c) => c.guild_id === guildId);
  }

  /** Messages of a channel (also works after the channel was deleted). */
  getMessages(channelId: string): APIMessage[] {
    return this.messages.get(channelId) ?? [];
  }

  lastMessage(channelId: string): APIMessage | undefined {
    return this.getMessages(channelId).at(-1);
  }

  /** Any message by id, ephemeral interaction messages included. */
  getMessage(messageId: string): APIMessage | undefined {
    return this.messageIndex.get(messageId);
  }

  /** The DM channel id with a user, if the bot opened one. */
  dmChannelOf(userId: string): string | undefined {
    return this.dmChannels.get(userId);
  }

  /** Messages the bot sent to a user by DM. */
  dmMessages(userId: string): APIMessage[] {
    const cid = this.dmChannels.get(userId);
    return cid ? this.getMessages(cid) : [];
  }

  /** Registered commands: global when guildId is omitted. */
  commands(guildId?: string): Json[] {
    return guildId ? (this.guildCommands.get(guildId) ?? []) : this.globalCommands;
  }

  /** An interaction by id or token. */
  getInteraction(idOrToken: string): InteractionState | undefined {
    return this.interactions.get(idOrToken) ?? this.interactionById.get(idOrToken);
  }

  private mustGuild(guildId: string): GuildState {
    const g = this.guilds.get(guildId);
    if (!g) throw new Error(`unknown guild ${guildId}`);
    return g;
  }

  private ensureDmChannel(user: APIUser): Json {
    const existing = this.dmChannels.get(user.id);
    const ch = existing ? this.channels.get(existing) : undefined;
    if (ch) return ch;
    const channel: Json = { id: snowflake(), type: 1, last_message_id: null, flags: 0, recipients: [user] };
    this.channels.set(channel.id, channel);
    this.dmChannels.set(user.id, channel.id);
    return channel;
  }

  // -------------------------------------------------------------------------------------------
  // Request log, waiting, interception
  // -------------------------------------------------------------------------------------------

  /** Every REST request answered so far, in order. */
  get requests(): readonly RecordedRequest[] {
    return this.requestLog.items;
  }

  /** Requests matching a matcher. */
  requestsMatching(m: RequestMatcher): RecordedRequest[] {
    const p = toPredicate(m);
    return this.requestLog.items.filter((r) => safeTest(p, r));
  }

  /** Resolves with the first matching request (already logged or future); rejects with the log on timeout. */
  waitForRequest(m: RequestMatcher, timeoutMs = 2000): Promise<RecordedRequest> {
    return this.waitForRequests(m, 1, timeoutMs).then((r) => r[0]!);
  }

  /** Resolves once `count` requests match (returns the first `count`). */
  waitForRequests(m: RequestMatcher, count: number, timeoutMs = 2000): Promise<RecordedRequest[]> {
    const p = toPredicate(m);
    // Incremental: each new request is tested once per waiter (hundreds of waiters under load stay cheap).
    const hits: RecordedRequest[] = [];
    let scanned = 0;
    return this.requestLog.until(
      (items) => {
        for (; scanned < items.length; scanned++) if (safeTest(p, items[scanned]!)) hits.push(items[scanned]!);
        return hits.length >= count ? hits.slice(0, count) : undefined;
      },
      timeoutMs,
      () => {
        const seen = this.requestLog.items
          .slice(-25)
          .map(
            (r) =>
              `  ${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ''} -> ${r.status}`,
          )
          .join('\n');
        return (
          `DiscordEmulator.waitForRequest: no${count > 1 ? ` ${count}` : ''} request matching ${describeMatcher(m)} within ${timeoutMs} ms.\n` +
          `Requests seen (${this.requestLog.items.length}, last 25):\n${seen || '  (none)'}` +
          (this.unknownRoutes.length ? `\nUnknown routes hit: ${this.unknownRoutes.join(', ')}` : '')
        );
      },
    );
  }

  /** Frames received from clients on the gateway (op, d). */
  get gatewayFrames(): readonly GatewayFrame[] {
    return this.gatewayLog.items;
  }

  waitForGateway(pred: (f: GatewayFrame) => boolean, timeoutMs = 2000): Promise<GatewayFrame> {
    return this.gatewayLog.until(
      (items) => items.find((f) => pred(f)),
      timeoutMs,
      () =>
        `DiscordEmulator.waitForGateway: no frame matching ${describeMatcher(pred as RequestMatcher)} within ${timeoutMs} ms; ` +
        `ops seen: [${this.gatewayLog.items.map((f) => f.op).join(',')}]`,
    );
  }

  /**
   * Injects responses. A function answers every request for which it returns a response (limit with
   * `times`); a spec answers `times` (default 1) requests matching method/path/match.
   *   emu.intercept({ method: 'POST', path: '/channels/:id/messages', respond: responses.rateLimited(0.05) })
   */
  intercept(rule: InterceptFn | InterceptSpec, opts: { times?: number } = {}): Interceptor {
    let fn: InterceptFn;
    let times: number;
    if (typeof rule === 'function') {
      fn = rule;
      times = opts.times ?? Infinity;
    } else {
      const pred = toPredicate({
        ...(rule.method ? { method: rule.method } : {}),
        ...(rule.path ? { path: rule.path } : {}),
      });
      fn = (req) => {
        if (!safeTest(pred, req)) return undefined;
        if (rule.match && !safeTest(rule.match, req)) return undefined;
        return typeof rule.respond === 'function' ? rule.respond(req) : rule.respond;
      };
      times = rule.times ?? opts.times ?? 1;
    }
    const entry = { fn, remaining: times, hits: 0 };
    this.interceptors.push(entry);
    return {
      get hits() {
        return entry.hits;
      },
      get remaining() {
        return entry.remaining;
      },
      remove: () => {
        this.interceptors = this.interceptors.filter((e) => e !== entry);
      },
    };
  }

  /** Removes every interceptor. */
  clearIntercepts(): void {
    this.interceptors = [];
  }

  // -------------------------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------------------------

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rawSegments = url.pathname.split('/');
    let segments: string[];
    try {
      segments = rawSegments.map((s) => decodeURIComponent(s));
    } catch {
      segments = rawSegments;
    }
    const prefixOk = segments[1] === 'api' && segments[2] === 'v10';
    const relSegments = prefixOk ? segments.slice(3) : segments.slice(1);
    const rec: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: prefixOk ? `/${relSegments.join('/')}` : url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      files: [],
      headers: req.headers,
      status: 0,
      response: undefined,
      intercepted: false,
      at: Date.now(),
      url: req.url ?? '/',
    };

    let reply: Reply;
    try {
      this.parseBody(rec, raw, req.headers['content-type']);
      const injected = this.runInterceptors(rec);
      if (injected) {
        rec.intercepted = true;
        if (injected.delayMs) await new Promise((r) => setTimeout(r, injected.delayMs));
        reply = {
          status: injected.status,
          body: injected.body,
          ...(injected.headers ? { headers: injected.headers } : {}),
        };
      } else if (!prefixOk) {
        this.unknownRoutes.push(`${rec.method} ${rec.path}`);
        reply = { status: 404, body: { message: '404: Not Found', code: 0 } };
      } else {
        reply = await this.route(rec, relSegments);
      }
    } catch (err) {
      if (err instanceof ApiError) {
        reply = {
          status: err.status,
          body: { message: err.message, code: err.code, ...(err.errors ? { errors: err.errors } : {}) },
        };
      } else {
        this.internalErrors.push(err);
        reply = {
          status: 500,
          body: { message: `emulator error: ${err instanceof Error ? err.stack : String(err)}`, code: 0 },
        };
      }
    }

    rec.status = reply.status;
    rec.response = reply.body;
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    if (reply.status === 204 || reply.body === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
    } else {
      headers['content-type'] ??= 'application/json';
      res.writeHead(reply.status, headers);
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    }
    this.requestLog.push(rec);
  }

  private parseBody(rec: RecordedRequest, raw: Buffer, contentType: string | undefined): void {
    if (raw.length === 0) return;
    const ct = contentType ?? '';
    if (ct.startsWith('multipart/form-data')) {
      const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(ct);
      const b = boundary?.[1] ?? boundary?.[2];
      if (!b) throw new ApiError(400, 50109, 'The request body contains invalid JSON.');
      for (const part of parseMultipart(raw, b.trim())) {
        if (part.name === 'payload_json') {
          rec.body = JSON.parse(part.data.toString('utf8'));
        } else if (part.filename !== undefined) {
          rec.files.push({ field: part.name, filename: part.filename, contentType: part.contentType, data: part.data });
        }
      }
      rec.body ??= {};
      return;
    }
    try {
      rec.body = JSON.parse(raw.toString('utf8'));
    } catch {
      rec.body = raw.toString('utf8');
      throw new ApiError(400, 50109, 'The request body contains invalid JSON.');
    }
  }

  private runInterceptors(rec: RecordedRequest): InjectedResponse | undefined {
    for (const entry of this.interceptors) {
      if (entry.remaining <= 0) continue;
      const r = entry.fn(rec);
      if (r) {
        entry.remaining -= 1;
        entry.hits += 1;
        if (entry.remaining <= 0) this.interceptors = this.interceptors.filter((e) => e !== entry);
        return r;
      }
    }
    return undefined;
  }

  private route(rec: RecordedRequest, segs: string[]): Reply | Promise<Reply> {
    let pathMatched = false;
    for (const r of this.routes) {
      if (r.segments.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const p = r.segments[i]!;
        const s = segs[i]!;
        if (p.startsWith(':')) {
          if (!s) {
            ok = false;
            break;
          }
          params[p.slice(1)] = s;
        } else if (p !== s) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      pathMatched = true;
      if (r.method !== rec.method) continue;
      if (r.auth && rec.headers.authorization !== `Bot ${this.token}`) {
        throw new ApiError(401, 0, '401: Unauthorized');
      }
      return r.handler(rec, params);
    }
    this.unknownRoutes.push(`${rec.method} ${rec.path}`);
    if (pathMatched) return { status: 405, body: { message: '405: Method Not Allowed', code: 0 } };
    return { status: 404, body: { message: '404: Not Found', code: 0 } };
  }

  private on(method: string, pattern: string, handler: Handler, auth = true): void {
    this.routes.push({ method, segments: pattern.split('/').slice(1), auth, handler });
  }

  private defineRoutes(): void {
    const ok = (body: unknown): Reply => ({ status: 200, body });
    const noContent: Reply = { status: 204 };

    // gateway + users + application
    const gatewayInfo = (): Json => ({
      url: this.gatewayUrl,
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
    });
    this.on('GET', '/gateway/bot', () => ok(gatewayInfo()));
    this.on('GET', '/gateway', () => ok({ url: this.gatewayUrl }), false);
    this.on('GET', '/users/@me', () => ok(this.botUser));
    this.on('POST', '/users/@me/channels', (req) => {
      const rid = req.body?.recipient_id;
      const user = typeof rid === 'string' ? this.users.get(rid) : undefined;
      if (!user)
        throw new ApiError(400, 50035, 'Invalid Form Body', {
          recipient_id: {
            _errors: [{ code: 'NUMBER_TYPE_COERCE', message: `Value "${String(rid)}" is not snowflake.` }],
          },
        });
      if (user.id === this.botUser.id) throw new ApiError(400, 50007, 'Cannot send messages to this user');
      return ok(clone(this.ensureDmChannel(user)));
    });
    this.on('GET', '/users/:user', (_req, p) => {
      const user = this.users.get(p.user!);
      if (!user) throw new ApiError(404, 10013, 'Unknown User');
      return ok(user);
    });
    this.on('GET', '/applications/@me', () => ok(this.applicationObject()));

    // commands
    this.on('GET', '/applications/:app/commands', (_req, p) => {
      this.checkApp(p.app!);
      return ok(this.globalCommands);
    });
    this.on('PUT', '/applications/:app/commands', (req, p) => {
      this.checkApp(p.app!);
      return ok(this.replaceCommands(this.globalCommands, req.body, undefined));
    });
    this.on('POST', '/applications/:app/commands', (req, p) => {
      this.checkApp(p.app!);
      return ok(this.upsertCommand(this.globalCommands, req.body, undefined));
    });
    this.on('GET', '/applications/:app/commands/:cmd', (_req, p) => {
      this.checkApp(p.app!);
      return ok(this.mustCommand(this.globalCommands, p.cmd!));
    });
    this.on('DELETE', '/applications/:app/commands/:cmd', (_req, p) => {
      this.checkApp(p.app!);
      this.mustCommand(this.globalCommands, p.cmd!);
      this.globalCommands.splice(
        this.globalCommands.findIndex((c) => c.id === p.cmd),
        1,
      );
      return noContent;
    });
    const guildCmds = (p: Record<string, string>): Json[] => {
      this.checkApp(p.app!);
      if (!this.guilds.has(p.guild!)) throw new ApiError(403, 50001, 'Missing Access');
      let list = this.guildCommands.get(p.guild!);
      if (!list) this.guildCommands.set(p.guild!, (list = []));
      return list;
    };
    this.on('GET', '/applications/:app/guilds/:guild/commands', (_req, p) => ok(guildCmds(p)));
    this.on('PUT', '/applications/:app/guilds/:guild/commands', (req, p) =>
      ok(this.replaceCommands(guildCmds(p), req.body, p.guild)),
    );
    this.on('POST', '/applications/:app/guilds/:guild/commands', (req, p) =>
      ok(this.upsertCommand(guildCmds(p), req.body, p.guild)),
    );
    this.on('GET', '/applications/:app/guilds/:guild/commands/:cmd', (_req, p) =>
      ok(this.mustCommand(guildCmds(p), p.cmd!)),
    );
    this.on('DELETE', '/applications/:app/guilds/:guild/commands/:cmd', (_req, p) => {
      const list = guildCmds(p);
      this.mustCommand(list, p.cmd!);
      list.splice(
        list.findIndex((c) => c.id === p.cmd),
        1,
      );
      return noContent;
    });

    // interactions and webhooks (no Authorization header: auth = false)
    this.on('POST', '/interactions/:id/:token/callback', (req, p) => this.onCallback(req, p.id!, p.token!), false);
    this.on('POST', '/webhooks/:app/:token', (req, p) => this.onFollowup(req, p.app!, p.token!), false);
    this.on(
      'GET',
      '/webhooks/:app/:token/messages/:msg',
      (_req, p) => ok(this.webhookMessage(p.app!, p.token!, p.msg!).msg),
      false,
    );
    this.on(
      'PATCH',
      '/webhooks/:app/:token/messages/:msg',
      (req, p) => this.onWebhookEdit(req, p.app!, p.token!, p.msg!),
      false,
    );
    this.on(
      'DELETE',
      '/webhooks/:app/:token/messages/:msg',
      (_req, p) => this.onWebhookDelete(p.app!, p.token!, p.msg!),
      false,
    );

    // channels and messages
    this.on('GET', '/channels/:channel', (_req, p) => {
      const ch = this.mustChannel(p.channel!);
      this.requireBotPermission(ch, Permission.ViewChannel, 50001);
      return ok(clone(ch));
    });
    this.on('POST', '/channels/:channel/messages', (req, p) => ok(this.onCreateMessage(req, p.channel!)));
    this.on('GET', '/channels/:channel/messages', (req, p) => {
      const ch = this.mustChannel(p.channel!);
      this.requireBotPermission(ch, Permission.ViewChannel | Permission.ReadMessageHistory, 50001);
      const limit = Math.min(100, Number(req.query.limit ?? 50));
      let list = [...this.getMessages(ch.id)];
      if (req.query.before) list = list.filter((m) => BigInt(m.id) < BigInt(req.query.before!));
      if (req.query.after) list = list.filter((m) => BigInt(m.id) > BigInt(req.query.after!));
      return ok(list.reverse().slice(0, limit));
    });
    this.on('GET', '/channels/:channel/messages/:msg', (_req, p) => ok(this.mustChannelMessage(p.channel!, p.msg!)));
    this.on('PATCH', '/channels/:channel/messages/:msg', (req, p) =>
      ok(this.onEditChannelMessage(req, p.channel!, p.msg!)),
    );
    this.on('DELETE', '/channels/:channel/messages/:msg', (_req, p) => {
      const msg = this.mustChannelMessage(p.channel!, p.msg!);
      const ch = this.channels.get(p.channel!);
      if (msg.author.id !== this.botUser.id && ch?.guild_id)
        this.requireBotPermission(ch, Permission.ManageMessages, 50013);
      this.removeMessage(msg);
      return noContent;
    });
    this.on('POST', '/channels/:channel/typing', (_req, p) => {
      const ch = this.mustChannel(p.channel!);
      this.requireBotPermission(ch, Permission.SendMessages, 50013);
      return noContent;
    });

    // guilds
    this.on('GET', '/guilds/:guild', (req, p) => {
      const g = this.guilds.get(p.guild!);
      if (!g) throw new ApiError(404, 10004, 'Unknown Guild');
      const body: Json = this.guildObject(g);
      if (req.query.with_counts === 'true') {
        body.approximate_member_count = g.members.length;
        body.approximate_presence_count = g.members.length;
      }
      return ok(body);
    });
    this.on('GET', '/guilds/:guild/channels', (_req, p) => {
      if (!this.guilds.has(p.guild!)) throw new ApiError(404, 10004, 'Unknown Guild');
      return ok(this.guildChannels(p.guild!).map(clone));
    });
    this.on('GET', '/guilds/:guild/roles', (_req, p) => ok(this.mustGuildApi(p.guild!).roles));
    this.on('GET', '/guilds/:guild/members/:user', (_req, p) => {
      const m = this.mustGuildApi(p.guild!).members.find((x) => x.user.id === p.user);
      if (!m) throw new ApiError(404, 10007, 'Unknown Member');
      return ok(m);
    });
  }

  private mustGuildApi(id: string): GuildState {
    const g = this.guilds.get(id);
    if (!g) throw new ApiError(404, 10004, 'Unknown Guild');
    return g;
  }

  private checkApp(app: string): void {
    if (app !== this.applicationId) throw new ApiError(403, 50001, 'Missing Access');
  }

  private mustChannel(id: string): Json {
    const ch = this.channels.get(id);
    if (!ch) throw new ApiError(404, 10003, 'Unknown Channel');
    return ch;
  }

  private mustChannelMessage(channelId: string, messageId: string): APIMessage {
    this.mustChannel(channelId);
    const msg = this.getMessages(channelId).find((m) => m.id === messageId);
    if (!msg) throw new ApiError(404, 10008, 'Unknown Message');
    return msg;
  }

  private requireBotPermission(channel: Json, needed: bigint, code: 50001 | 50013): void {
    if (!channel.guild_id) return;
    const perms = this.permissionsFor(channel.guild_id, this.botUser.id, channel.id);
    if (!(perms & Permission.ViewChannel)) throw new ApiError(403, 50001, 'Missing Access');
    if ((perms & needed) !== needed)
      throw new ApiError(403, code, code === 50001 ? 'Missing Access' : 'Missing Permissions');
  }

  private applicationObject(): Json {
    return {
      id: this.applicationId,
      name: this.botUser.username,
      icon: null,
      description: 'Discord emulator application',
      summary: '',
      type: null,
      bot: this.botUser,
      bot_public: true,
      bot_require_code_grant: false,
      verify_key: randomBytes(32).toString('hex'),
      flags: 0,
      owner: this.defaults.owner ?? this.botUser,
      team: null,
      approximate_guild_count: this.guilds.size,
      approximate_user_install_count: 0,
      redirect_uris: [],
      interactions_endpoint_url: null,
      install_params: {
        scopes: ['bot', 'applications.commands'],
        permissions: DEFAULT_EVERYONE_PERMISSIONS.toString(),
      },
      integration_types_config: { '0': {} },
      tags: [],
    };
  }

  // -------------------------------------------------------------------------------------------
  // Commands
  // -------------------------------------------------------------------------------------------

  private validateCommand(def: Json, errors: FormErrors, path: (string | number)[]): void {
    if (!def || typeof def !== 'object') {
      errors.add(path, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
      return;
    }
    const type = def.type ?? 1;
    if (![1, 2, 3, 4].includes(type))
      errors.add([...path, 'type'], 'BASE_TYPE_CHOICES', `Value must be one of {1, 2, 3, 4}.`);
    if (typeof def.name !== 'string' || def.name.length === 0) {
      errors.add([...path, 'name'], 'BASE_TYPE_REQUIRED', 'This field is required');
    } else if (type === 1 && (!COMMAND_NAME_RE.test(def.name) || def.name !== def.name.toLowerCase())) {
      errors.add([...path, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    } else {
      errors.maxLength([...path, 'name'], def.name, 32, 1);
    }
    if (type === 1) {
      if (typeof def.description !== 'string')
        errors.add([...path, 'description'], 'BASE_TYPE_REQUIRED', 'This field is required');
      else errors.maxLength([...path, 'description'], def.description, 100, 1);
    } else if (def.description) {
      errors.add(
        [...path, 'description'],
        'APPLICATION_COMMAND_INVALID_DESCRIPTION',
        'Context menu commands cannot have a description',
      );
    }
    if (def.options !== undefined) this.validateOptions(def.options, errors, [...path, 'options'], 0);
  }

  private validateOptions(options: unknown, errors: FormErrors, path: (string | number)[], depth: number): void {
    if (!Array.isArray(options)) {
      errors.add(path, 'BASE_TYPE_LIST', 'Must be a list.');
      return;
    }
    if (options.length > 25) errors.add(path, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    const names = new Set<string>();
    let seenOptional = false;
    const hasSub = options.some((o: Json) => o?.type === 1 || o?.type === 2);
    options.forEach((o: Json, i: number) => {
      const p = [...path, i];
      if (typeof o?.type !== 'number' || o.type < 1 || o.type > 11)
        errors.add([...p, 'type'], 'BASE_TYPE_CHOICES', 'Value must be one of {1..11}.');
      if (typeof o?.name !== 'string' || !COMMAND_NAME_RE.test(o.name) || o.name !== o.name.toLowerCase()) {
        errors.add([...p, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
      } else if (names.has(o.name)) {
        errors.add([...p, 'name'], 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', 'Option name already exists');
      } else {
        names.add(o.name);
      }
      if (typeof o?.description !== 'string')
        errors.add([...p, 'description'], 'BASE_TYPE_REQUIRED', 'This field is required');
      else errors.maxLength([...p, 'description'], o.description, 100, 1);
      const isSub = o?.type === 1 || o?.type === 2;
      if (hasSub && !isSub)
        errors.add(
          [...p, 'type'],
          'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
          'Sub-command and sub-command group option types are mutually exclusive to all other types',
        );
      if (isSub) {
        if (o.type === 2 && depth > 0)
          errors.add([...p, 'type'], 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Sub-command groups cannot be nested');
        if (o.type === 1 && depth > 1)
          errors.add([...p, 'type'], 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Sub-commands cannot be nested here');
        if (o.options !== undefined) this.validateOptions(o.options, errors, [...p, 'options'], depth + 1);
      } else {
        if (o?.required) {
          if (seenOptional)
            errors.add(
              [...p, 'required'],
              'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
              'Required options must be placed before non-required options',
            );
        } else {
          seenOptional = true;
        }
        if (o?.choices !== undefined) {
          if (!Array.isArray(o.choices) || o.choices.length > 25)
            errors.add([...p, 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
          if (o.autocomplete)
            errors.add(
              [...p, 'autocomplete'],
              'APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE',
              'Autocomplete cannot be set with choices',
            );
        }
      }
    });
  }

  private commandObject(def: Json, guildId: string | undefined, existing: Json | undefined): Json {
    const type = def.type ?? 1;
    return {
      id: existing?.id ?? snowflake(),
      application_id: this.applicationId,
      version: snowflake(),
      default_member_permissions: def.default_member_permissions ?? null,
      type,
      name: def.name,
      name_localizations: def.name_localizations ?? null,
      description: def.description ?? '',
      description_localizations: def.description_localizations ?? null,
      ...(def.options ? { options: clone(def.options) } : {}),
      dm_permission: def.dm_permission ?? true,
      contexts: def.contexts ?? null,
      integration_types: def.integration_types ?? [0],
      nsfw: def.nsfw ?? false,
      ...(guildId ? { guild_id: guildId } : {}),
    };
  }

  private replaceCommands(list: Json[], body: unknown, guildId: string | undefined): Json[] {
    if (!Array.isArray(body))
      throw new ApiError(400, 50035, 'Invalid Form Body', {
        _errors: [{ code: 'BASE_TYPE_LIST', message: 'Must be a list.' }],
      });
    const errors = new FormErrors();
    const seen = new Set<string>();
    body.forEach((def: Json, i: number) => {
      this.validateCommand(def, errors, [i]);
      const key = `${def?.type ?? 1}:${def?.name}`;
      if (seen.has(key))
        errors.add([i, 'name'], 'APPLICATION_COMMANDS_DUPLICATE_NAME', `Application command names must be unique`);
      seen.add(key);
    });
    if (body.filter((d: Json) => (d?.type ?? 1) === 1).length > 100)
      errors.add([], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
    errors.throwIfAny();
    const next = body.map((def: Json) =>
      this.commandObject(
        def,
        guildId,
        list.find((c) => c.name === def.name && c.type === (def.type ?? 1)),
      ),
    );
    list.splice(0, list.length, ...next);
    return list;
  }

  private upsertCommand(list: Json[], def: Json, guildId: string | undefined): Json {
    const errors = new FormErrors();
    this.validateCommand(def, errors, []);
    errors.throwIfAny();
    const idx = list.findIndex((c) => c.name === def.name && c.type === (def.type ?? 1));
    const cmd = this.commandObject(def, guildId, idx >= 0 ? list[idx] : undefined);
    if (idx >= 0) list[idx] = cmd;
    else list.push(cmd);
    return cmd;
  }

  private mustCommand(list: Json[], id: string): Json {
    const cmd = list.find((c) => c.id === id);
    if (!cmd) throw new ApiError(404, 10063, 'Unknown application command');
    return cmd;
  }

  // -------------------------------------------------------------------------------------------
  // Messages
  // -------------------------------------------------------------------------------------------

  private validateMessageBody(body: Json, files: RecordedFile[], errors: FormErrors): void {
    if (body.content !== undefined && body.content !== null) errors.maxLength(['content'], body.content, 2000);
    if (body.embeds !== undefined && body.embeds !== null) {
      if (!Array.isArray(body.embeds)) errors.add(['embeds'], 'BASE_TYPE_LIST', 'Must be a list.');
      else {
        if (body.embeds.length > 10) errors.add(['embeds'], 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
        let total = 0;
        const len = (s: unknown): number => (typeof s === 'string' ? [...s].length : 0);
        body.embeds.forEach((e: Json, i: number) => {
          const p = ['embeds', i];
          errors.maxLength([...p, 'title'], e.title, 256);
          errors.maxLength([...p, 'description'], e.description, 4096);
          errors.maxLength([...p, 'footer', 'text'], e.footer?.text, 2048);
          errors.maxLength([...p, 'author', 'name'], e.author?.name, 256);
          if (e.url !== undefined && !isHttpUrl(e.url))
            errors.add([...p, 'url'], 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
          if (e.author?.url !== undefined && !isHttpUrl(e.author.url))
            errors.add([...p, 'author', 'url'], 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
          for (const k of ['image', 'thumbnail'] as const) {
            if (e[k] !== undefined && !isHttpUrl(e[k]?.url, true))
              errors.add([...p, k, 'url'], 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
          }
          if (
            e.color !== undefined &&
            e.color !== null &&
            (!Number.isInteger(e.color) || e.color < 0 || e.color > 0xffffff)
          ) {
            errors.add([...p, 'color'], 'NUMBER_TYPE_MAX', 'int value should be less than or equal to 16777215.');
          }
          if (e.fields !== undefined) {
            if (!Array.isArray(e.fields) || e.fields.length > 25)
              errors.add([...p, 'fields'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
            else
              e.fields.forEach((f: Json, j: number) => {
                if (typeof f?.name !== 'string' || f.name.length === 0)
                  errors.add([...p, 'fields', j, 'name'], 'BASE_TYPE_REQUIRED', 'This field is required');
                else errors.maxLength([...p, 'fields', j, 'name'], f.name, 256);
                if (typeof f?.value !== 'string' || f.value.length === 0)
                  errors.add([...p, 'fields', j, 'value'], 'BASE_TYPE_REQUIRED', 'This field is required');
                else errors.maxLength([...p, 'fields', j, 'value'], f.value, 1024);
                total += len(f?.name) + len(f?.value);
              });
          }
          total += len(e.title) + len(e.description) + len(e.footer?.text) + len(e.author?.name);
        });
        if (total > 6000) errors.add(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
      }
    }
    if (body.components !== undefined && body.components !== null) {
      const v2 = ((body.flags ?? 0) & MessageFlag.ComponentsV2) !== 0;
      if (!Array.isArray(body.components)) errors.add(['components'], 'BASE_TYPE_LIST', 'Must be a list.');
      else {
        if (!v2 && body.components.length > 5)
          errors.add(['components'], 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
        const ids = new Set<string>();
        body.components.forEach((row: Json, i: number) => {
          if (!v2 && row?.type !== 1)
            errors.add(['components', i, 'type'], 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (1,).');
          if (row?.type === 1 && Array.isArray(row.components) && row.components.length > 5) {
            errors.add(['components', i, 'components'], 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
          }
        });
        let k = 0;
        for (const c of walkComponents(body.components)) {
          const p = ['components', k++];
          if (typeof c.custom_id === 'string') {
            errors.maxLength([...p, 'custom_id'], c.custom_id, 100, 1);
            if (ids.has(c.custom_id))
              errors.add(
                [...p, 'custom_id'],
                'COMPONENT_CUSTOM_ID_DUPLICATED',
                'Component custom id cannot be duplicated',
              );
            ids.add(c.custom_id);
          }
          if (c.type === 2) {
            errors.maxLength([...p, 'label'], c.label, 80);
            if (c.style === 5) {
              if (!isHttpUrl(c.url)) errors.add([...p, 'url'], 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
            } else if (c.style !== 6 && typeof c.custom_id !== 'string') {
              errors.add([...p, 'custom_id'], 'BASE_TYPE_REQUIRED', 'This field is required');
            }
          }
          if (c.type === 3 && (!Array.isArray(c.options) || c.options.length === 0 || c.options.length > 25)) {
            errors.add([...p, 'options'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 25 in length.');
          }
        }
      }
    }
    if (Array.isArray(body.attachments)) {
      body.attachments.forEach((a: Json, i: number) => {
        const idx = Number(a?.id);
        const isNew = Number.isInteger(idx) && idx < 1_000_000;
        if (isNew && !files.some((f) => f.field === `files[${idx}]`)) {
          errors.add(['attachments', i, 'id'], 'ATTACHMENT_NOT_FOUND', 'Attachment data not found');
        }
      });
    }
    for (const f of files) {
      if (f.data.length > ATTACHMENT_SIZE_LIMIT) throw new ApiError(413, 40005, 'Request entity too large');
    }
  }

  private isEmptyMessage(m: Json): boolean {
    return (
      !m.content &&
      (!m.embeds || m.embeds.length === 0) &&
      (!m.components || m.components.length === 0) &&
      (!m.attachments || m.attachments.length === 0) &&
      (!m.sticker_items || m.sticker_items.length === 0) &&
      !m.poll
    );
  }

  /** Applies create/edit fields of a request body to a message. */
  private applyMessageFields(msg: Json, body: Json, files: RecordedFile[], isEdit: boolean): void {
    if ('content' in body) msg.content = body.content ?? '';
    if ('embeds' in body) msg.embeds = (body.embeds ?? []).map((e: Json) => ({ type: 'rich', ...clone(e) }));
    if ('components' in body) msg.components = clone(body.components ?? []);
    if ('poll' in body && !isEdit) msg.poll = body.poll ? clone(body.poll) : undefined;
    if ('tts' in body && !isEdit) msg.tts = Boolean(body.tts);
    if ('sticker_ids' in body && !isEdit)
      msg.sticker_items = (body.sticker_ids ?? []).map((id: string) => ({ id, name: 'sticker', format_type: 1 }));
    if (typeof body.flags === 'number') {
      const allowed = isEdit
        ? MessageFlag.SuppressEmbeds
        : MessageFlag.SuppressEmbeds | MessageFlag.SuppressNotifications | MessageFlag.ComponentsV2;
      msg.flags = (msg.flags & ~allowed) | (body.flags & allowed);
    }
    // attachments: ids of kept attachments and `files[n]` references for new ones
    const makeAttachment = (f: RecordedFile, meta: Json | undefined): APIAttachment => {
      const id = snowflake();
      const filename = meta?.filename ?? f.filename;
      return {
        id,
        filename,
        size: f.data.length,
        url: `https://cdn.discordapp.com/attachments/${msg.channel_id}/${id}/${encodeURIComponent(filename)}`,
        proxy_url: `https://media.discordapp.net/attachments/${msg.channel_id}/${id}/${encodeURIComponent(filename)}`,
        ...(f.contentType ? { content_type: f.contentType } : {}),
        ...(meta?.description ? { description: meta.description } : {}),
        ...((msg.flags & MessageFlag.Ephemeral) !== 0 ? { ephemeral: true } : {}),
      };
    };
    if (Array.isArray(body.attachments)) {
      const prev: APIAttachment[] = msg.attachments ?? [];
      const next: APIAttachment[] = [];
      for (const a of body.attachments as Json[]) {
        const kept = prev.find((x) => x.id === String(a.id));
        if (kept) next.push(kept);
        else {
          const f = files.find((x) => x.field === `files[${a.id}]`);
          if (f) next.push(makeAttachment(f, a));
        }
      }
      for (const f of files) {
        const n = /^files\[(\d+)\]$/.exec(f.field)?.[1];
        if (!body.attachments.some((a: Json) => String(a.id) === n)) next.push(makeAttachment(f, undefined));
      }
      msg.attachments = next;
    } else if (files.length > 0) {
      msg.attachments = [...(isEdit ? (msg.attachments ?? []) : []), ...files.map((f) => makeAttachment(f, undefined))];
    }
    if ('content' in body || 'allowed_mentions' in body || !isEdit) this.computeMentions(msg, body.allowed_mentions);
  }

  private computeMentions(msg: Json, allowed: Json | undefined): void {
    const content: string = msg.content ?? '';
    const parse: string[] | undefined = allowed ? (allowed.parse ?? []) : undefined;
    const userIds = [...content.matchAll(/<@!?(\d{15,21})>/g)].map((m) => m[1]!);
    const roleIds = [...content.matchAll(/<@&(\d{15,21})>/g)].map((m) => m[1]!);
    const okUser = (id: string): boolean => !parse || parse.includes('users') || (allowed?.users ?? []).includes(id);
    const okRole = (id: string): boolean => !parse || parse.includes('roles') || (allowed?.roles ?? []).includes(id);
    msg.mentions = [...new Set(userIds)].filter(okUser).flatMap((id) => {
      const u = this.users.get(id);
      return u ? [u] : [];
    });
    msg.mention_roles = [...new Set(roleIds)].filter(okRole);
    msg.mention_everyone = /@(everyone|here)/.test(content) && (!parse || parse.includes('everyone'));
  }

  private baseMessage(channelId: string, type: number): Json {
    const msg: APIMessage = {
      id: snowflake(),
      type,
      channel_id: channelId,
      author: this.botUser,
      content: '',
      timestamp: nowIso(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      components: [],
      pinned: false,
      flags: 0 as MessageFlags,
    };
    return msg;
  }

  private storeMessage(msg: Json, visible: boolean): void {
    this.messageIndex.set(msg.id, msg as APIMessage);
    if (!visible) return;
    let list = this.messages.get(msg.channel_id);
    if (!list) this.messages.set(msg.channel_id, (list = []));
    list.push(msg as APIMessage);
    const ch = this.channels.get(msg.channel_id);
    if (ch) ch.last_message_id = msg.id;
    this.dispatchMessageEvent('MESSAGE_CREATE', msg);
  }

  private removeMessage(msg: APIMessage): void {
    const list = this.messages.get(msg.channel_id);
    if (list) {
      const i = list.indexOf(msg);
      if (i >= 0) list.splice(i, 1);
    }
    this.messageIndex.delete(msg.id);
    const ch = this.channels.get(msg.channel_id);
    if (ch)
      this.broadcast(
        'MESSAGE_DELETE',
        () => ({ id: msg.id, channel_id: msg.channel_id, ...(ch.guild_id ? { guild_id: ch.guild_id } : {}) }),
        ch.guild_id ? Intent.GuildMessages : Intent.DirectMessages,
      );
  }

  private dispatchMessageEvent(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE', msg: Json): void {
    if ((msg.flags & MessageFlag.Ephemeral) !== 0) return;
    const ch = this.channels.get(msg.channel_id);
    if (!ch) return;
    const intent = ch.guild_id ? Intent.GuildMessages : Intent.DirectMessages;
    this.broadcast(
      t,
      () => {
        const d: Json = clone(msg);
        if (ch.guild_id) {
          d.guild_id = ch.guild_id;
          const member = this.guilds.get(ch.guild_id)?.members.find((m) => m.user.id === msg.author.id);
          if (member) {
            const { user: _user, ...rest } = member;
            d.member = rest;
          }
        }
        return d;
      },
      intent,
    );
  }

  private onCreateMessage(req: RecordedRequest, channelId: string): APIMessage {
    const ch = this.mustChannel(channelId);
    const body: Json = req.body && typeof req.body === 'object' ? req.body : {};
    if (ch.type === 1) {
      const recipient: APIUser | undefined = ch.recipients?.[0];
      if (recipient && (this.dmRefusers.has(recipient.id) || recipient.bot)) {
        throw new ApiError(403, 50007, 'Cannot send messages to this user');
      }
    } else if (ch.guild_id) {
      if (ch.type !== 0 && ch.type !== 5 && ch.type !== 2)
        throw new ApiError(400, 50008, 'Cannot send messages in a non-text channel');
      this.requireBotPermission(ch, Permission.SendMessages, 50013);
      if (req.files.length > 0) this.requireBotPermission(ch, Permission.AttachFiles, 50013);
      if (body.message_reference) this.requireBotPermission(ch, Permission.ReadMessageHistory, 50013);
    }
    const errors = new FormErrors();
    this.validateMessageBody(body, req.files, errors);
    errors.throwIfAny();
    const msg = this.baseMessage(channelId, 0);
    if (body.nonce !== undefined) msg.nonce = body.nonce;
    if (body.message_reference?.message_id) {
      const ref = this.getMessages(body.message_reference.channel_id ?? channelId).find(
        (m) => m.id === body.message_reference.message_id,
      );
      if (!ref && body.message_reference.fail_if_not_exists !== false) {
        throw new ApiError(400, 50035, 'Invalid Form Body', {
          message_reference: { _errors: [{ code: 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', message: 'Unknown message' }] },
        });
      }
      if (ref) {
        msg.type = 19;
        msg.message_reference = {
          type: 0,
          message_id: ref.id,
          channel_id: ref.channel_id,
          ...(ch.guild_id ? { guild_id: ch.guild_id } : {}),
        };
        msg.referenced_message = clone(ref);
      }
    }
    this.applyMessageFields(msg, body, req.files, false);
    if (this.isEmptyMessage(msg)) throw new ApiError(400, 50006, 'Cannot send an empty message');
    this.storeMessage(msg, true);
    return msg as APIMessage;
  }

  private onEditChannelMessage(req: RecordedRequest, channelId: string, messageId: string): APIMessage {
    const msg = this.mustChannelMessage(channelId, messageId) as Json;
    if (msg.author.id !== this.botUser.id) {
      throw new ApiError(403, 50005, 'Cannot edit a message authored by another user');
    }
    return this.editMessage(msg, req) as APIMessage;
  }

  private editMessage(msg: Json, req: RecordedRequest): Json {
    const body: Json = req.body && typeof req.body === 'object' ? req.body : {};
    const errors = new FormErrors();
    this.validateMessageBody(body, req.files, errors);
    errors.throwIfAny();
    const candidate = clone(msg);
    this.applyMessageFields(candidate, body, req.files, true);
    candidate.flags &= ~MessageFlag.Loading;
    if (this.isEmptyMessage(candidate)) throw new ApiError(400, 50006, 'Cannot send an empty message');
    candidate.edited_timestamp = nowIso();
    // keep object identity (stored in lists and indexes)
    for (const k of Object.keys(msg)) if (!(k in candidate)) delete msg[k];
    Object.assign(msg, candidate);
    this.dispatchMessageEvent('MESSAGE_UPDATE', msg);
    return msg;
  }

  /** Posts a message as a (non-bot) user and dispatches MESSAGE_CREATE (needs GuildMessages / DirectMessages intents). */
  postUserMessage(channelId: string, content: string, user?: APIUser | string): APIMessage {
    const ch = this.channels.get(channelId);
    if (!ch) throw new Error(`unknown channel ${channelId}`);
    const msg = this.baseMessage(channelId, 0);
    msg.author = this.resolveUser(user);
    msg.content = content;
    this.computeMentions(msg, undefined);
    this.storeMessage(msg, true);
    return msg as APIMessage;
  }

  // -------------------------------------------------------------------------------------------
  // Interactions (REST side)
  // -------------------------------------------------------------------------------------------

  private onCallback(req: RecordedRequest, id: string, token: string): Reply {
    const it = this.interactions.get(token);
    if (!it || it.id !== id) throw new ApiError(404, 10062, 'Unknown interaction');
    if (it.callbacks.length > 0) throw new ApiError(400, 40060, 'Interaction has already been acknowledged.');
    if (this.callbackDeadlineMs !== undefined && Date.now() - it.createdAt > this.callbackDeadlineMs) {
      throw new ApiError(404, 10062, 'Unknown interaction');
    }
    const body: Json = req.body && typeof req.body === 'object' ? req.body : {};
    const type = body.type;
    const data: Json = body.data ?? {};
    const allowed: Record<number, number[]> = {
      1: [1],
      2: [4, 5, 9],
      3: [4, 5, 6, 7, 9],
      4: [8],
      5: it.payload.message ? [4, 5, 6, 7] : [4, 5],
    };
    if (!allowed[it.type]?.includes(type)) {
      throw new ApiError(400, 50035, 'Invalid Form Body', {
        type: {
          _errors: [
            {
              code: 'INTERACTION_RESPONSE_TYPE_INVALID',
              message: `Interaction callback type ${String(type)} is not valid for interaction type ${it.type}`,
            },
          ],
        },
      });
    }
    const errors = new FormErrors();
    const ephemeral = ((data.flags ?? 0) & MessageFlag.Ephemeral) !== 0;
    const channelId: string = it.payload.channel_id;
    switch (type) {
      case 4: {
        this.validateMessageBody(data, req.files, errors);
        errors.throwIfAny();
        const msg = this.interactionMessage(it, channelId, it.type === 2 ? 20 : 0);
        if (ephemeral) msg.flags |= MessageFlag.Ephemeral;
        this.applyMessageFields(msg, data, req.files, false);
        if (this.isEmptyMessage(msg)) throw new ApiError(400, 50006, 'Cannot send an empty message');
        it.original = msg as APIMessage;
        this.storeMessage(msg, !ephemeral);
        break;
      }
      case 5: {
        const msg = this.interactionMessage(it, channelId, it.type === 2 ? 20 : 0);
        msg.flags = MessageFlag.Loading | (ephemeral ? MessageFlag.Ephemeral : 0);
        it.original = msg as APIMessage;
        this.storeMessage(msg, !ephemeral);
        break;
      }
      case 6:
      case 7: {
        const target = this.componentMessage(it);
        if (type === 7) {
          this.validateMessageBody(data, req.files, errors);
          errors.throwIfAny();
          this.editMessage(target, { ...req, body: { ...data, flags: undefined } });
        }
        it.original = target as APIMessage;
        break;
      }
      case 8: {
        const choices = data.choices;
        if (!Array.isArray(choices)) errors.add(['data', 'choices'], 'BASE_TYPE_REQUIRED', 'This field is required');
        else {
          if (choices.length > 25)
            errors.add(['data', 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
          choices.forEach((c: Json, i: number) => {
            errors.maxLength(['data', 'choices', i, 'name'], c?.name ?? '', 100, 1);
            if (typeof c?.value === 'string') errors.maxLength(['data', 'choices', i, 'value'], c.value, 100);
            else if (typeof c?.value !== 'number')
              errors.add(['data', 'choices', i, 'value'], 'BASE_TYPE_REQUIRED', 'This field is required');
          });
        }
        errors.throwIfAny();
        it.choices = clone(choices);
        break;
      }
      case 9: {
        errors.maxLength(['data', 'custom_id'], data.custom_id ?? '', 100, 1);
        errors.maxLength(['data', 'title'], data.title ?? '', 45, 1);
        if (!Array.isArray(data.components) || data.components.length === 0 || data.components.length > 5) {
          errors.add(['data', 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
        }
        errors.throwIfAny();
        it.modal = clone(data);
        break;
      }
      case 1:
        break;
    }
    it.callbacks.push({ type, data: body.data, at: Date.now() });
    it.responseType = type;
    if (req.query.with_response !== 'true') return { status: 204 };
    const message = it.original && (type === 4 || type === 5 || type === 7) ? clone(it.original) : undefined;
    return {
      status: 200,
      body: {
        interaction: {
          id: it.id,
          type: it.type,
          ...(message
            ? {
                response_message_id: message.id,
                response_message_loading: (message.flags! & MessageFlag.Loading) !== 0,
                response_message_ephemeral: (message.flags! & MessageFlag.Ephemeral) !== 0,
              }
            : {}),
        },
        resource: { type, ...(message ? { message } : {}) },
      },
    };
  }

  private interactionMessage(it: InteractionState, channelId: string, type: number): Json {
    const msg = this.baseMessage(channelId, type);
    const user: APIUser = it.payload.member?.user ?? it.payload.user;
    msg.webhook_id = this.applicationId;
    msg.application_id = this.applicationId;
    msg.interaction_metadata = {
      id: it.id,
      type: it.type,
      user,
      authorizing_integration_owners: it.payload.authorizing_integration_owners,
      ...(it.type === 2 ? { name: it.payload.data?.name, command_type: it.payload.data?.type ?? 1 } : {}),
      ...(it.payload.message ? { interacted_message_id: it.payload.message.id } : {}),
    };
    if (it.type === 2) {
      msg.interaction = { id: it.id, type: it.type, name: it.payload.data?.name, user };
    }
    return msg;
  }

  /** The stored message a component interaction is attached to (adopting the payload copy if unknown). */
  private componentMessage(it: InteractionState): Json {
    const m: Json | undefined = it.payload.message;
    if (!m) throw new ApiError(400, 50035, 'Invalid Form Body');
    const stored = this.messageIndex.get(m.id);
    if (stored) return stored;
    const adopted = clone(m);
    this.messageIndex.set(adopted.id, adopted as APIMessage);
    return adopted;
  }

  private webhookInteraction(app: string, token: string): InteractionState {
    if (app !== this.applicationId) throw new ApiError(404, 10015, 'Unknown Webhook');
    const it = this.interactions.get(token);
    if (!it) throw new ApiError(401, 50027, 'Invalid Webhook Token');
    return it;
  }

  private webhookMessage(app: string, token: string, messageId: string): { it: InteractionState; msg: Json } {
    const it = this.webhookInteraction(app, token);
    if (messageId === '@original') {
      if (!it.original || it.responseType === 8 || it.responseType === 9)
        throw new ApiError(404, 10008, 'Unknown Message');
      return { it, msg: it.original };
    }
    const msg = it.original?.id === messageId ? it.original : it.followups.find((f) => f.id === messageId);
    if (!msg) throw new ApiError(404, 10008, 'Unknown Message');
    return { it, msg };
  }

  private onWebhookEdit(req: RecordedRequest, app: string, token: string, messageId: string): Reply {
    const { msg } = this.webhookMessage(app, token, messageId);
    return { status: 200, body: this.editMessage(msg, req) };
  }

  private onWebhookDelete(app: string, token: string, messageId: string): Reply {
    const { it, msg } = this.webhookMessage(app, token, messageId);
    this.removeMessage(msg as APIMessage);
    if (it.original === msg) it.original = null;
    it.followups = it.followups.filter((f) => f !== msg);
    return { status: 204 };
  }

  private onFollowup(req: RecordedRequest, app: string, token: string): Reply {
    const it = this.webhookInteraction(app, token);
    if (it.callbacks.length === 0) throw new ApiError(404, 10015, 'Unknown Webhook');
    const body: Json = req.body && typeof req.body === 'object' ? req.body : {};
    const errors = new FormErrors();
    this.validateMessageBody(body, req.files, errors);
    errors.throwIfAny();
    let msg: Json;
    const orig = it.original as Json | null;
    if (it.responseType === 5 && orig && (orig.flags & MessageFlag.Loading) !== 0) {
      // Discord: the first follow-up after a deferral edits the "thinking" message (keeping its ephemerality).
      msg = this.editMessage(orig, req);
    } else {
      msg = this.interactionMessage(it, it.payload.channel_id, 0);
      const ephemeral = ((body.flags ?? 0) & MessageFlag.Ephemeral) !== 0;
      if (ephemeral) msg.flags |= MessageFlag.Ephemeral;
      this.applyMessageFields(msg, body, req.files, false);
      if (this.isEmptyMessage(msg)) throw new ApiError(400, 50006, 'Cannot send an empty message');
      it.followups.push(msg as APIMessage);
      this.storeMessage(msg, !ephemeral);
    }
    return req.query.wait === 'true' ? { status: 200, body: msg } : { status: 204 };
  }

  // -------------------------------------------------------------------------------------------
  // Interaction payload builders
  // -------------------------------------------------------------------------------------------

  private interactionBase(type: number, ctx: InteractionContext): Json {
    let channel: Json | undefined = ctx.channelId ? this.channels.get(ctx.channelId) : undefined;
    if (ctx.channelId && !channel) throw new Error(`unknown channel ${ctx.channelId}`);
    let guildId: string | null;
    if (ctx.guildId !== undefined) guildId = ctx.guildId;
    else if (channel) guildId = channel.guild_id ?? null;
    else guildId = this.defaults.guildId || null;
    const dmRecipient: APIUser | undefined = channel?.type === 1 ? channel.recipients?.[0] : undefined;
    const user = this.resolveUser(ctx.user ?? dmRecipient);
    const base: Json = {
      id: snowflake(),
      application_id: this.applicationId,
      type,
      token: `aW50ZXJhY3Rpb246${randomBytes(24).toString('base64url')}`,
      version: 1,
      locale: ctx.locale ?? 'en-US',
      entitlements: [],
      attachment_size_limit: ATTACHMENT_SIZE_LIMIT,
    };
    if (guildId === null) {
      channel ??= this.ensureDmChannel(user);
      base.user = user;
      base.channel_id = channel.id;
      base.channel = clone(channel);
      base.app_permissions = DM_APP_PERMISSIONS.toString();
      base.authorizing_integration_owners = { '0': '0' };
      base.context = 1;
      return base;
    }
    const guild = this.guilds.get(guildId);
    if (!guild) throw new Error(`unknown guild ${guildId}`);
    channel ??=
      this.guildChannels(guildId).find((c) => c.id === this.defaults.channelId) ??
      this.guildChannels(guildId).find((c) => c.type === 0);
    if (!channel) throw new Error(`guild ${guildId} has no text channel; pass ctx.channelId`);
    let member = guild.members.find((m) => m.user.id === user.id);
    if (!member) member = this.addMember(guildId, user, { roles: ctx.roles ?? [], dispatch: false });
    else if (ctx.roles) member.roles = [...new Set([...member.roles, ...ctx.roles])];
    const memberPerms = this.permissionsFor(guildId, user.id, channel.id);
    base.guild_id = guildId;
    base.guild = { id: guildId, locale: guild.preferred_locale, features: guild.features };
    base.guild_locale = guild.preferred_locale;
    base.channel_id = channel.id;
    base.channel = { ...clone(channel), permissions: memberPerms.toString() };
    base.member = { ...clone(member), permissions: memberPerms.toString(), unusual_dm_activity_until: null };
    base.app_permissions = this.permissionsFor(guildId, this.botUser.id, channel.id).toString();
    base.authorizing_integration_owners = { '0': guildId };
    base.context = 0;
    return base;
  }

  private findCommand(name: string, guildId: string | null, type: number, commandId?: string): Json | undefined {
    const pools = [...(guildId ? [this.guildCommands.get(guildId) ?? []] : []), this.globalCommands];
    for (const pool of pools) {
      const c = pool.find((x) => (commandId ? x.id === commandId : x.name === name && x.type === type));
      if (c) return c;
    }
    return undefined;
  }

  private buildOptions(
    label: string,
    def: Json | undefined,
    input: Record<string, OptionInput>,
    o: { sub?: string; group?: string; focused?: string; partial: boolean; guildId: string | null; force: boolean },
  ): { options: Json[]; resolved: Json | undefined } {
    const fail = (msg: string): never => {
      throw new Error(`${label}: ${msg}`);
    };
    let leafDecls: Json[] | undefined;
    if (def && !o.force) {
      const top: Json[] = def.options ?? [];
      const hasSubs = top.some((x) => x.type === 1 || x.type === 2);
      if (o.group) {
        const g = top.find((x) => x.type === 2 && x.name === o.group);
        if (!g) fail(`no subcommand group '${o.group}'`);
        const s = (g!.options ?? []).find((x: Json) => x.type === 1 && x.name === o.sub);
        if (!s) fail(`no subcommand '${o.sub ?? '(none given)'}' in group '${o.group}'`);
        leafDecls = s!.options ?? [];
      } else if (o.sub) {
        const s = top.find((x) => x.type === 1 && x.name === o.sub);
        if (!s)
          fail(
            `no subcommand '${o.sub}'; declared: ${
              top
                .filter((x) => x.type === 1)
                .map((x) => x.name)
                .join(', ') || '(none)'
            }`,
          );
        leafDecls = s!.options ?? [];
      } else {
        if (hasSubs) fail(`the command has subcommands (${top.map((x) => x.name).join(', ')}); pass ctx.subcommand`);
        leafDecls = top;
      }
    }
    const resolved: Json = {};
    const addResolved = (kind: string, id: string, value: unknown): void => {
      (resolved[kind] ??= {})[id] = value;
    };
    const options: Json[] = [];
    for (const [name, raw] of Object.entries(input)) {
      const decl = leafDecls?.find((x) => x.name === name);
      if (leafDecls && !decl)
        fail(`option '${name}' is not declared; declared: ${leafDecls.map((x) => x.name).join(', ') || '(none)'}`);
      let value: unknown;
      let type: number;
      if (raw !== null && typeof raw === 'object') {
        type = decl?.type ?? raw.type;
        if ('attachment' in raw) {
          const id = snowflake();
          const a = raw.attachment;
          addResolved('attachments', id, {
            id,
            filename: a.filename,
            size: a.size ?? 0,
            url: a.url ?? `https://cdn.discordapp.com/ephemeral-attachments/${this.applicationId}/${id}/${a.filename}`,
            proxy_url:
              a.url ?? `https://media.discordapp.net/ephemeral-attachments/${this.applicationId}/${id}/${a.filename}`,
            ...(a.contentType ? { content_type: a.contentType } : {}),
            ephemeral: true,
          });
          value = id;
        } else value = raw.value;
      } else {
        value = raw;
        type =
          decl?.type ?? (typeof raw === 'string' ? 3 : typeof raw === 'boolean' ? 5 : Number.isInteger(raw) ? 4 : 10);
      }
      const focused = o.focused === name;
      if (focused && decl && !decl.autocomplete && !o.force)
        fail(`option '${name}' is not declared with autocomplete: true`);
      if (!focused && decl && !o.force) {
        const want = OPTION_JS_TYPE[type];
        if (want && typeof value !== want)
          fail(`option '${name}' (type ${type}) needs a ${want}, got ${JSON.stringify(value)}`);
        if (type === 4 && !Number.isInteger(value)) fail(`option '${name}' is an INTEGER, got ${String(value)}`);
        if (Array.isArray(decl.choices) && !decl.choices.some((c: Json) => c.value === value)) {
          fail(
            `option '${name}' only accepts its choices (${decl.choices.map((c: Json) => JSON.stringify(c.value)).join(', ')}), got ${JSON.stringify(value)}`,
          );
        }
        if (typeof value === 'string') {
          if (decl.min_length !== undefined && value.length < decl.min_length)
            fail(`option '${name}' is shorter than min_length ${decl.min_length}`);
          if (decl.max_length !== undefined && value.length > decl.max_length)
            fail(`option '${name}' is longer than max_length ${decl.max_length}`);
        }
        if (typeof value === 'number') {
          if (decl.min_value !== undefined && value < decl.min_value)
            fail(`option '${name}' is below min_value ${decl.min_value}`);
          if (decl.max_value !== undefined && value > decl.max_value)
            fail(`option '${name}' is above max_value ${decl.max_value}`);
        }
      }
      if (!focused && typeof value === 'string' && (type === 6 || type === 9)) {
        const u = this.users.get(value);
        if (u) {
          addResolved('users', value, u);
          const m = o.guildId ? this.guilds.get(o.guildId)?.members.find((x) => x.user.id === value) : undefined;
          if (m) {
            const { user: _u, ...partialMember } = m;
            addResolved('members', value, {
              ...partialMember,
              permissions: this.permissionsFor(o.guildId!, value).toString(),
            });
          }
        } else if (type === 6 && !o.force) fail(`option '${name}': unknown user ${value}`);
      }
      if (!focused && typeof value === 'string' && (type === 8 || type === 9) && o.guildId) {
        const r = this.guilds.get(o.guildId)?.roles.find((x) => x.id === value);
        if (r) addResolved('roles', value, r);
        else if (type === 8 && !o.force) fail(`option '${name}': unknown role ${value}`);
      }
      if (!focused && typeof value === 'string' && type === 7) {
        const c = this.channels.get(value);
        if (!c && !o.force) fail(`option '${name}': unknown channel ${value}`);
        if (c) {
          const permissions = (
            o.guildId ? this.permissionsFor(o.guildId, this.defaults.user?.id ?? '', value) : DM_APP_PERMISSIONS
          ).toString();
          addResolved('channels', value, {
            id: c.id,
            name: c.name,
            type: c.type,
            permissions,
            flags: c.flags ?? 0,
            ...(c.parent_id !== undefined ? { parent_id: c.parent_id } : {}),
          });
        }
      }
      options.push({ name, type, value, ...(focused ? { focused: true } : {}) });
    }
    if (leafDecls && !o.partial && !o.force) {
      const missing = leafDecls.filter((x) => x.required && !(x.name in input)).map((x) => x.name);
      if (missing.length) fail(`required option(s) missing: ${missing.join(', ')}`);
    }
    if (o.focused && !options.some((x) => x.focused)) fail(`focused option '${o.focused}' not among the options`);
    let wrapped = options;
    if (o.sub) wrapped = [{ name: o.sub, type: 1, options }];
    if (o.group) wrapped = [{ name: o.group, type: 2, options: wrapped }];
    return { options: wrapped, resolved: Object.keys(resolved).length ? resolved : undefined };
  }

  /**
   * A slash-command (CHAT_INPUT) interaction payload. When the command is registered (guild or
   * global), its definition types the options and a real client's checks apply (declared options
   * only, required present, choices/min/max respected); `ctx.force` skips them.
   */
  chatInput(name: string, options: Record<string, OptionInput> = {}, ctx: ChatInputContext = {}): Json {
    const base = this.interactionBase(InteractionKind.ApplicationCommand, ctx);
    const guildId: string | null = base.guild_id ?? null;
    const def = this.findCommand(name, guildId, 1, ctx.commandId);
    const { options: opts, resolved } = this.buildOptions(`chatInput(/${name})`, def, options, {
      ...(ctx.subcommand ? { sub: ctx.subcommand } : {}),
      ...(ctx.subcommandGroup ? { group: ctx.subcommandGroup } : {}),
      partial: false,
      guildId,
      force: ctx.force ?? false,
    });
    base.data = {
      id: def?.id ?? ctx.commandId ?? snowflake(),
      name,
      type: 1,
      ...(opts.length ? { options: opts } : {}),
      ...(resolved ? { resolved } : {}),
      ...(def?.guild_id ? { guild_id: def.guild_id } : {}),
    };
    return base;
  }

  /** An autocomplete interaction: `focused` is the option being typed, `value` what was typed so far. */
  autocomplete(name: string, focused: string, value: string | number, ctx: AutocompleteContext = {}): Json {
    const base = this.interactionBase(InteractionKind.Autocomplete, ctx);
    const guildId: string | null = base.guild_id ?? null;
    const def = this.findCommand(name, guildId, 1, ctx.commandId);
    const { options: opts } = this.buildOptions(
      `autocomplete(/${name})`,
      def,
      { ...(ctx.options ?? {}), [focused]: value },
      {
        ...(ctx.subcommand ? { sub: ctx.subcommand } : {}),
        ...(ctx.subcommandGroup ? { group: ctx.subcommandGroup } : {}),
        focused,
        partial: true,
        guildId,
        force: ctx.force ?? false,
      },
    );
    base.data = {
      id: def?.id ?? ctx.commandId ?? snowflake(),
      name,
      type: 1,
      options: opts,
      ...(def?.guild_id ? { guild_id: def.guild_id } : {}),
    };
    return base;
  }

  private resolveComponentTarget(
    label: string,
    customId: string,
    message: APIMessage | string,
    ctx: InteractionContext,
  ): { msg: Json; comp: Json | undefined } {
    const msg: Json | undefined = typeof message === 'string' ? this.messageIndex.get(message) : message;
    if (!msg) throw new Error(`${label}: unknown message ${String(message)}`);
    const comp = [...walkComponents(msg.components)].find((c) => c.custom_id === customId);
    if (!ctx.force) {
      if (!comp) {
        const ids = [...walkComponents(msg.components)].map((c) => c.custom_id).filter(Boolean);
        throw new Error(
          `${label}: message ${msg.id} has no component '${customId}' (has: ${ids.join(', ') || 'none'})`,
        );
      }
      if (comp.disabled) throw new Error(`${label}: component '${customId}' is disabled`);
    }
    return { msg, comp };
  }

  private componentBase(msg: Json, ctx: InteractionContext): Json {
    const channel = this.channels.get(msg.channel_id);
    const c: InteractionContext = { ...ctx };
    if (channel && c.channelId === undefined) c.channelId = channel.id;
    if (!channel && c.guildId === undefined && c.channelId === undefined) c.guildId = this.defaults.guildId || null;
    const base = this.interactionBase(InteractionKind.MessageComponent, c);
    base.message = clone(msg);
    return base;
  }

  /** A button click on a message (stored message id or object); the button must exist and be enabled. */
  button(customId: string, message: APIMessage | string, ctx: InteractionContext = {}): Json {
    const { msg, comp } = this.resolveComponentTarget('button', customId, message, ctx);
    if (comp && comp.type !== 2 && !ctx.force)
      throw new Error(`button: component '${customId}' is type ${comp.type}, not a button`);
    const base = this.componentBase(msg, ctx);
    base.data = { custom_id: customId, component_type: 2 };
    return base;
  }

  /** A select-menu choice; for string selects the values must be among the menu's options. */
  selectMenu(customId: string, values: string[], message: APIMessage | string, ctx: InteractionContext = {}): Json {
    const { msg, comp } = this.resolveComponentTarget('selectMenu', customId, message, ctx);
    const componentType: number = comp?.type ?? 3;
    if (comp && !ctx.force) {
      if (![3, 5, 6, 7, 8].includes(componentType))
        throw new Error(`selectMenu: component '${customId}' is type ${componentType}, not a select`);
      if (componentType === 3) {
        const allowed = (comp.options ?? []).map((x: Json) => x.value);
        const bad = values.filter((v) => !allowed.includes(v));
        if (bad.length)
          throw new Error(
            `selectMenu: values ${bad.join(', ')} are not options of '${customId}' (${allowed.join(', ')})`,
          );
      }
      const min = comp.min_values ?? 1;
      const max = comp.max_values ?? 1;
      if (values.length < min || values.length > max)
        throw new Error(`selectMenu: '${customId}' takes ${min}..${max} values, got ${values.length}`);
    }
    const base = this.componentBase(msg, ctx);
    base.data = { custom_id: customId, component_type: componentType, values };
    if (componentType === 5)
      base.data.resolved = {
        users: Object.fromEntries(values.flatMap((v) => (this.users.get(v) ? [[v, this.users.get(v)]] : []))),
      };
    return base;
  }

  /** A modal submission: fields are text-input custom_id -> value. Pass ctx.message for a modal opened from a component. */
  modalSubmit(
    customId: string,
    fields: Record<string, string>,
    ctx: InteractionContext & { message?: APIMessage | string } = {},
  ): Json {
    const msg: Json | undefined = typeof ctx.message === 'string' ? this.messageIndex.get(ctx.message) : ctx.message;
    const c: InteractionContext = { ...ctx };
    if (msg && c.channelId === undefined && this.channels.has(msg.channel_id)) c.channelId = msg.channel_id;
    const base = this.interactionBase(InteractionKind.ModalSubmit, c);
    base.data = {
      custom_id: customId,
      components: Object.entries(fields).map(([id, value]) => ({
        type: 1,
        components: [{ type: 4, custom_id: id, value }],
      })),
    };
    if (msg) base.message = clone(msg);
    return base;
  }

  /** Dispatches INTERACTION_CREATE for a payload built above; returns a handle to await the bot's answers. */
  interact(payload: Json): InteractionHandle {
    if (this.sessions.size === 0) {
      throw new Error('DiscordEmulator.interact: no gateway session (did the client log in and reach ready?)');
    }
    for (const k of [
      'id',
      'token',
      'application_id',
      'type',
      'entitlements',
      'authorizing_integration_owners',
    ] as const) {
      if (payload[k] === undefined)
        throw new Error(
          `DiscordEmulator.interact: payload lacks '${k}' (G5); build it with chatInput/autocomplete/button/...`,
        );
    }
    if (!payload.member && !payload.user)
      throw new Error("DiscordEmulator.interact: payload needs 'member' or 'user' (G5)");
    const state: InteractionState = {
      id: payload.id,
      token: payload.token,
      type: payload.type,
      payload,
      createdAt: Date.now(),
      callbacks: [],
      responseType: null,
      original: null,
      followups: [],
      choices: null,
      modal: null,
    };
    this.interactions.set(state.token, state);
    this.interactionById.set(state.id, state);
    this.dispatch('INTERACTION_CREATE', payload);
    const app = this.applicationId;
    const tok = state.token;
    return {
      id: state.id,
      token: state.token,
      payload,
      get state() {
        return state;
      },
      callback: (timeoutMs = 2000) =>
        this.waitForRequest({ method: 'POST', path: `/interactions/${state.id}/${tok}/callback` }, timeoutMs),
      editOriginal: (timeoutMs = 2000) =>
        this.waitForRequest({ method: 'PATCH', path: `/webhooks/${app}/${tok}/messages/@original` }, timeoutMs),
      followup: (timeoutMs = 2000, nth = 1) =>
        this.waitForRequests({ method: 'POST', path: `/webhooks/${app}/${tok}` }, nth, timeoutMs).then(
          (r) => r[nth - 1]!,
        ),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Gateway
  // -------------------------------------------------------------------------------------------

  /** Sessions (identified connections, current and resumable). */
  get gatewaySessions(): GatewaySession[] {
    return [...this.sessions.values()];
  }

  private onGatewayConnection(ws: WebSocket, url: URL): void {
    const compress = url.searchParams.get('compress') === 'zlib-stream';
    const conn: Conn = {
      ws,
      session: null,
      deflate: null,
      send: () => undefined,
    };
    if (compress) {
      const deflate = zlib.createDeflate();
      conn.deflate = deflate;
      let pending: Buffer[] = [];
      let chain = Promise.resolve();
      deflate.on('data', (c: Buffer) => pending.push(c));
      conn.send = (payload) => {
        const json = JSON.stringify(payload);
        chain = chain.then(
          () =>
            new Promise<void>((resolve) => {
              deflate.write(json);
              deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
                const out = Buffer.concat(pending);
                pending = [];
                if (ws.readyState === WebSocket.OPEN) ws.send(out, { binary: true });
                resolve();
              });
            }),
        );
      };
    } else {
      conn.send = (payload) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(payload));
      };
    }
    this.conns.add(conn);
    if (url.searchParams.get('v') && url.searchParams.get('v') !== '10') {
      ws.close(4012, 'Invalid API version');
      return;
    }
    ws.on('message', (data: RawData) => this.onGatewayMessage(conn, data));
    ws.on('close', (code: number) => {
      this.conns.delete(conn);
      conn.deflate?.close();
      const s = conn.session as SessionInternal | null;
      if (s && s.conn === conn) {
        s.conn = null;
        s.connected = false;
        if (code === 1000 || code === 1001) this.sessions.delete(s.id);
      }
    });
    ws.on('error', () => undefined);
    conn.send({
      op: 10,
      d: { heartbeat_interval: this.heartbeatIntervalMs, _trace: ['["discord-emulator",{"micros":0}]'] },
      s: null,
      t: null,
    });
  }

  private onGatewayMessage(conn: Conn, data: RawData): void {
    let frame: Json;
    try {
      frame = JSON.parse(
        Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'),
      );
    } catch {
      conn.ws.close(4002, 'Error while decoding payload.');
      return;
    }
    this.gatewayLog.push({ op: frame.op, d: frame.d, at: Date.now(), sessionId: conn.session?.id ?? null });
    switch (frame.op) {
      case 1: // heartbeat
        if (this.ackHeartbeats) conn.send({ op: 11, d: null, s: null, t: null });
        return;
      case 2:
        this.onIdentify(conn, frame.d ?? {});
        return;
      case 3:
        if (!conn.session) return void conn.ws.close(4003, 'Not authenticated.');
        conn.session.presence = frame.d;
        return;
      case 4:
        return;
      case 6:
        this.onResume(conn, frame.d ?? {});
        return;
      case 8:
        this.onRequestMembers(conn, frame.d ?? {});
        return;
      default:
        conn.ws.close(4001, 'Unknown opcode.');
    }
  }

  private onIdentify(conn: Conn, d: Json): void {
    if (d.token !== this.token) {
      conn.ws.close(4004, 'Authentication failed.');
      return;
    }
    if (conn.session) {
      conn.ws.close(4005, 'Already authenticated.');
      return;
    }
    if (typeof d.intents !== 'number') {
      conn.ws.close(4013, 'Invalid intent(s).');
      return;
    }
    this.identifyCount += 1;
    const shard: [number, number] = Array.isArray(d.shard) ? [d.shard[0], d.shard[1]] : [0, 1];
    const session: SessionInternal = {
      id: randomBytes(16).toString('hex'),
      seq: 0,
      intents: d.intents,
      shard,
      identify: d,
      presence: d.presence ?? null,
      connected: true,
      events: [],
      conn,
    };
    this.sessions.set(session.id, session);
    conn.session = session;
    const guilds = [...this.guilds.values()].filter((g) => this.onShard(g.id, shard));
    const ready: GatewayReadyDispatchData & Json = {
      v: 10,
      user: { ...this.botUser, verified: true, mfa_enabled: false, email: null },
      user_settings: {},
      private_channels: [],
      relationships: [],
      presences: [],
      guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['us-east'],
      session_type: 'normal',
      session_id: session.id,
      resume_gateway_url: `${this.gatewayUrl}/resume`,
      shard,
      application: { id: this.applicationId, flags: 0 as ApplicationFlags, flags_new: '0' },
      auth: {},
      _trace: ['["discord-emulator",{"micros":0}]'],
    };
    this.sendDispatch(session, 'READY', ready);
    for (const g of guilds) this.sendDispatch(session, 'GUILD_CREATE', this.guildCreatePayload(g));
  }

  private onResume(conn: Conn, d: Json): void {
    if (d.token !== this.token) {
      conn.ws.close(4004, 'Authentication failed.');
      return;
    }
    const session = this.sessions.get(d.session_id);
    if (!session) {
      conn.send({ op: 9, d: false, s: null, t: null });
      return;
    }
    if (session.conn && session.conn !== conn) session.conn.ws.close(4009, 'Session timed out.');
    this.resumeCount += 1;
    session.conn = conn;
    session.connected = true;
    conn.session = session;
    const from = typeof d.seq === 'number' ? d.seq : 0;
    for (const e of session.events) if (e.s > from) conn.send({ op: 0, t: e.t, s: e.s, d: e.d });
    this.sendDispatch(session, 'RESUMED', { _trace: ['["discord-emulator",{"micros":0}]'] });
  }

  private onRequestMembers(conn: Conn, d: Json): void {
    const session = conn.session;
    if (!session) return void conn.ws.close(4003, 'Not authenticated.');
    const guild = this.guilds.get(d.guild_id);
    if (!guild) return;
    let members = guild.members;
    if (Array.isArray(d.user_ids)) members = members.filter((m) => d.user_ids.includes(m.user.id));
    else if (typeof d.query === 'string' && d.query)
      members = members.filter((m) => m.user.username.toLowerCase().startsWith(d.query.toLowerCase()));
    if (d.limit) members = members.slice(0, d.limit);
    const notFound = Array.isArray(d.user_ids)
      ? d.user_ids.filter((id: string) => !guild.members.some((m) => m.user.id === id))
      : [];
    this.sendDispatch(session as SessionInternal, 'GUILD_MEMBERS_CHUNK', {
      guild_id: guild.id,
      members: clone(members),
      chunk_index: 0,
      chunk_count: 1,
      ...(notFound.length ? { not_found: notFound } : {}),
      ...(d.nonce ? { nonce: d.nonce } : {}),
    });
  }

  private onShard(guildId: string, shard: [number, number]): boolean {
    return Number((BigInt(guildId) >> 22n) % BigInt(shard[1])) === shard[0];
  }

  private sendDispatch(session: SessionInternal, t: string, d: unknown): number {
    session.seq += 1;
    const s = session.seq;
    session.events.push({ s, t, d });
    if (session.events.length > 1000) session.events.shift();
    session.conn?.send({ op: 0, t, s, d });
    return s;
  }

  /**
   * Sends a dispatch to every identified session (buffered for resumable disconnected ones), with a
   * monotonic per-session sequence. Returns how many sessions got it.
   */
  dispatch(t: string, d: unknown): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      this.sendDispatch(s, t, d);
      n += 1;
    }
    return n;
  }

  /** Dispatches to sessions whose intents include `intent` (Guilds by default). */
  private broadcast(t: string, make: () => unknown, intent: number = Intent.Guilds): void {
    for (const s of this.sessions.values()) {
      if ((s.intents & intent) === 0) continue;
      this.sendDispatch(s, t, make());
    }
  }

  /** Sends op 7 RECONNECT: clients reconnect to resume_gateway_url and RESUME. */
  requestReconnect(): void {
    for (const c of this.conns) c.send({ op: 7, d: null, s: null, t: null });
  }

  /** Sends op 9 INVALID_SESSION (resumable or not) to every connection. */
  invalidateSessions(resumable = false): void {
    for (const c of this.conns) {
      c.send({ op: 9, d: resumable, s: null, t: null });
      if (!resumable && c.session) this.sessions.delete(c.session.id);
    }
  }

  /** Closes every gateway socket with a code (4000 = unknown error: the client resumes). */
  dropConnections(code = 4000, reason = 'Unknown error.'): void {
    for (const c of this.conns) c.ws.close(code, reason);
  }

  // -------------------------------------------------------------------------------------------
  // Guild payloads
  // -------------------------------------------------------------------------------------------

  private guildObject(g: GuildState): Json {
    return {
      id: g.id,
      name: g.name,
      icon: null,
      icon_hash: null,
      splash: null,
      discovery_splash: null,
      owner_id: g.owner_id,
      afk_channel_id: null,
      afk_timeout: 300,
      widget_enabled: false,
      widget_channel_id: null,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: clone(g.roles),
      emojis: [],
      stickers: [],
      features: [...g.features],
      mfa_level: 0,
      application_id: null,
      system_channel_id: this.guildChannels(g.id).find((c) => c.type === 0)?.id ?? null,
      system_channel_flags: 0,
      rules_channel_id: null,
      max_presences: null,
      max_members: 500000,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      preferred_locale: g.preferred_locale,
      public_updates_channel_id: null,
      max_video_channel_users: 25,
      max_stage_video_channel_users: 50,
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
      safety_alerts_channel_id: null,
      incidents_data: null,
      hub_type: null,
    };
  }

  private guildCreatePayload(g: GuildState): Json {
    return {
      ...this.guildObject(g),
      joined_at: g.joined_at,
      large: false,
      unavailable: false,
      member_count: g.members.length,
      voice_states: [],
      members: clone(g.members),
      channels: this.guildChannels(g.id).map((c) => {
        const { guild_id: _gid, ...rest } = c;
        return clone(rest);
      }),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      lazy: true,
    };
  }
}
