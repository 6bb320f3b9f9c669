/**
 * Structured logging for the bot and its jobs: one JSON object per line on stderr (`{"t","level","event",...}`), so a log
 * collector can parse it and a person can grep it. Secrets never reach the output: the bot token and any other
 * registered secret are replaced, and so are interaction/webhook tokens inside Discord URLs (they grant the
 * right to post as the bot for 15 minutes).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** Where lines go (default: stderr). */
  write?: (line: string) => void;
  /** Lowest level written (default `info`). */
  level?: LogLevel;
  /** Strings that must never appear in the output (the bot token). */
  secrets?: (string | undefined)[];
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export const REDACTED = '[redacted]';

/** Something shaped like a Discord bot token (base64 id . timestamp . hmac). */
const TOKEN_SHAPE = /\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}\b/g;
/** Interaction and webhook tokens inside REST paths. */
const URL_TOKENS = /(\/(?:webhooks|interactions)\/\d+\/)[^/\s?"'\\]+/g;

/** Removes secrets from a string. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join(REDACTED);
  return out.replace(TOKEN_SHAPE, REDACTED).replace(URL_TOKENS, `$1${REDACTED}`);
}

/** An error as loggable fields (name, message, Discord code/status, the request that failed, stack). */
export function errorFields(err: unknown): LogFields {
  if (!(err instanceof Error)) return { error: String(err) };
  const e = err as Error & { code?: unknown; status?: unknown; method?: unknown; url?: unknown; cause?: unknown };
  const out: LogFields = { error: e.message, errorName: e.name };
  if (e.code !== undefined) out.code = e.code;
  if (typeof e.status === 'number') out.status = e.status;
  if (typeof e.method === 'string') out.method = e.method;
  if (typeof e.url === 'string') out.url = e.url;
  if (e.stack) out.stack = e.stack;
  return out;
}

function serialize(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return errorFields(v);
    return v;
  });
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const min = ORDER[opts.level ?? 'info'];
  const secrets = (opts.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length > 0);
  const log =
    (level: LogLevel) =>
    (event: string, fields: LogFields = {}) => {
      if (ORDER[level] < min) return;
      let line: string;
      try {
        line = serialize({ t: new Date().toISOString(), level, event, ...fields });
      } catch (e) {
        line = serialize({ t: new Date().toISOString(), level, event, unserializable: String(e) });
      }
      write(redact(line, secrets));
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that drops everything (benchmarks). */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
