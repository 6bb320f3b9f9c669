import { addDays, assertDate } from '../sources/hf-api.ts';

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
  assertDate(input.trim(), what);
  return input.trim();
}
