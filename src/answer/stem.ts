import { words } from '../text.ts';

/**
 * A light English stemmer for matching a question's words inside sentences (FTS5 stems for BM25, but sentence
 * selection runs in memory): plural, -ing, -ed and a few derivational endings. Over-stemming is harmless here.
 */
export function stem(w: string): string {
  let s = w.toLowerCase();
  if (s.length <= 3) return s;
  for (const [suffix, repl] of [
    ['ational', 'ate'], ['ization', 'ize'], ['ations', 'ate'], ['ation', 'ate'], ['iveness', 'ive'], ['fulness', 'ful'],
    ['ousness', 'ous'], ['ities', 'ity'], ['ments', 'ment'], ['ingly', ''], ['edly', ''], ['ies', 'y'], ['sses', 'ss'],
    ['ing', ''], ['ers', 'er'], ['ed', ''], ['es', 'e'], ['s', ''],
  ] as const) {
    if (s.endsWith(suffix) && s.length - suffix.length >= 3) {
      s = s.slice(0, s.length - suffix.length) + repl;
      break;
    }
  }
  return s.replace(/e$/, '');
}

export function stems(text: string): Set<string> {
  return new Set(words(text).map(stem));
}
