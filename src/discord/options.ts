/** Reading slash-command options the same way in every command. */

import { DateInputError, resolveDay } from '../dates.ts';
import type { DateRange } from '../types.ts';
import { UserError } from './command.ts';
import { escapeText } from './escape.ts';

/** A date option: `YYYY-MM-DD`, `today`, `yesterday` or `Nd` (N days ago), in UTC like the digest's dates. */
export function parseDay(value: string | null | undefined, name: string, now: Date): string | undefined {
  if (value === null || value === undefined || !value.trim()) return undefined;
  try {
    return resolveDay(value, name, now);
  } catch (e) {
    if (e instanceof DateInputError) {
      throw new UserError(
        `\`${name}\` must be a date like 2025-03-14, \`today\`, \`yesterday\` or \`7d\` (7 days ago); got "${escapeText(value.slice(0, 40))}".`,
      );
    }
    throw e;
  }
}

/** The `since`/`until` options as a range, checked to be in order. */
export function parseRange(since: string | null, until: string | null, now: Date): DateRange {
  const range: DateRange = {};
  const s = parseDay(since, 'since', now);
  const u = parseDay(until, 'until', now);
  if (s) range.since = s;
  if (u) range.until = u;
  if (s && u && s > u) throw new UserError(`\`since\` (${s}) is after \`until\` (${u}).`);
  return range;
}
