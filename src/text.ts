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

// Abbreviations that end with a period but do not end a sentence.
const ABBREV = /(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|Tab|No|approx|resp|incl|Dr|Mr|Ms|Prof|St)\.|\b[A-Z]\.)$/;

/** Split prose into sentences; conservative about abbreviations, decimals and initials. */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const s = normalizeSpace(para);
    if (!s) continue;
    let start = 0;
    // A sentence ends at . ! ? (optionally followed by a closing quote/bracket) before whitespace and an
    // upper-case letter, digit or opening bracket/quote.
    const re = /[.!?]["')\]]?\s+(?=[A-Z0-9("'[])/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s))) {
      const end = m.index + m[0].trimEnd().length;
      const candidate = s.slice(start, end);
      if (ABBREV.test(candidate)) continue;
      out.push(candidate.trim());
      start = m.index + m[0].length;
    }
    const rest = s.slice(start).trim();
    if (rest) out.push(rest);
  }
  return out;
}

/** Lower-case word tokens (letters/digits), for keyword matching. */
export function words(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}]+(?:[-'][\p{L}\p{N}]+)*/gu) ?? [];
}
