import { stemmer } from 'stemmer';
import { words } from './text.ts';

/**
 * The one stemmer of the project: Porter's, as the `stemmer` package implements it, which is the algorithm of
 * SQLite FTS5's `porter` tokenizer behind BM25 (it agrees with FTS5 on every one of the corpus's 23,209 distinct
 * words). Sentence choice, the citation check and topic matching stem in memory, so a word matches there exactly
 * when it matches in the index: `agents`, `agentic` -> `agent`.
 */
const cache = new Map<string, string>();

export function stem(word: string): string {
  let s = cache.get(word);
  if (s === undefined) {
    if (cache.size > 200_000) cache.clear(); // a bound far above any real vocabulary
    s = stemmer(word.toLowerCase());
    cache.set(word, s);
  }
  return s;
}

/** The distinct stems of a text's words. */
export function stems(text: string): Set<string> {
  return new Set(words(text).map(stem));
}
