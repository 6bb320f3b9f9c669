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

/**
 * Text made safe to echo: NUL and other control characters, bidi overrides and isolates (which can make a title
 * read backwards), zero-width spaces, a byte-order mark and lone surrogates (which break URL encoding) are
 * removed. Tabs and line breaks stay; so does the zero-width joiner of emoji sequences.
 */
export function stripUnsafe(text: string): string {
  return text
    .replace(
      /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g,
      '',
    )
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
}
