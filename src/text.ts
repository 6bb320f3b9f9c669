/** Small text utilities shared by sources, chunking and presentation. */

/** Collapse all whitespace runs (hard wraps included) to single spaces. */
export function normalizeSpace(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * Collapse an abstract's hard wraps (`\n` inside a paragraph) while keeping real paragraph breaks
 * (a blank line) as `\n\n`.
 */
export function collapseHardWraps(s: string): string {
  return s
    .split(/\n\s*\n/)
    .map(normalizeSpace)
    .filter((p) => p.length > 0)
    .join('\n\n');
}

/** Lower-case word tokens (letters/digits), for keyword matching. */
export function words(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}]+(?:[-'][\p{L}\p{N}]+)*/gu) ?? [];
}
