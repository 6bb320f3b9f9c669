/**
 * Dates as the digest knows them: calendar days written `YYYY-MM-DD`, UTC arithmetic (the digest's days are
 * UTC days), today in a configured time zone, and days as people type them on the command line or in Discord.
 */
import { UserFacingError } from './errors.ts';

/** A bad date or date range given by the caller. */
export class DateInputError extends UserFacingError {
  override name = 'DateInputError';
}

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
    throw new DateInputError(
      `Invalid ${what} ${JSON.stringify(date)}: expected a calendar date as YYYY-MM-DD, e.g. 2025-09-30.`,
    );
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

/** The calendar day of `now` in `timeZone`, `YYYY-MM-DD`. */
export function dayIn(timeZone: string, now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** True for a time zone this runtime knows (IANA names such as Europe/Paris, or UTC). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Today's date in UTC, `YYYY-MM-DD`. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/**
 * A day as typed on the command line: `YYYY-MM-DD`, `today`, `yesterday`, or `Nd` (N days ago), in UTC
 * like the digest's own dates.
 */
export function resolveDay(input: string, what: string, now: Date = new Date()): string {
  const v = input.trim().toLowerCase();
  const today = todayUtc(now);
  if (v === 'today') return today;
  if (v === 'yesterday') return addDays(today, -1);
  const ago = /^(\d{1,4})d$/.exec(v);
  if (ago) return addDays(today, -Number(ago[1]));
  if (!isValidDate(input.trim())) {
    throw new DateInputError(
      `Invalid ${what} ${JSON.stringify(input)}: use YYYY-MM-DD (e.g. 2025-09-30), today, yesterday or Nd (N days ago, e.g. 7d).`,
    );
  }
  return input.trim();
}

/** A `--since`/`--until` pair as typed; a reversed range is an error rather than silently empty. */
export function resolveRange(
  since: string | undefined,
  until: string | undefined,
  now: Date = new Date(),
): { since?: string; until?: string } {
  const s = since ? resolveDay(since, '--since', now) : undefined;
  const u = until ? resolveDay(until, '--until', now) : undefined;
  if (s && u && s > u) throw new DateInputError(`The range is reversed: --since ${s} is after --until ${u}.`);
  return { ...(s ? { since: s } : {}), ...(u ? { until: u } : {}) };
}
