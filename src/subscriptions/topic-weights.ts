/** A plain topic as weighted words and adjacent-word pairs, per alternative (topic.ts splits the alternatives). */
import type { Topic } from './topic.ts';
import { GENERIC, GENERIC_WEIGHT, PAIR_WEIGHT } from './tuning.ts';

export interface Term {
  stem: string;
  word: string;
  weight: number;
}
export interface Pair {
  key: string;
  weight: number;
}
export interface Alternative {
  terms: Term[];
  pairs: Pair[];
  total: number;
  /** Runs as written, with their pair keys, to explain a match by phrase. */
  runs: { phrase: string; pairKeys: string[]; terms: Term[] }[];
}

/** The weighted words and pairs of each alternative of a topic (idf of each word, generic words a tenth). */
export function weighTopic(topic: Extract<Topic, { kind: 'semantic' }>, idf: (word: string) => number): Alternative[] {
  return topic.alternatives.map((runs) => {
    const terms: Term[] = [];
    const pairs: Pair[] = [];
    const seen = new Set<string>();
    const shownRuns: Alternative['runs'] = [];
    for (const run of runs) {
      const runTerms: Term[] = [];
      run.words.forEach((word, i) => {
        const stem = run.stems[i]!;
        const term = { stem, word, weight: idf(word) * (GENERIC.has(word) ? GENERIC_WEIGHT : 1) };
        runTerms.push(term);
        if (seen.has(stem)) return;
        seen.add(stem);
        terms.push(term);
      });
      const pairKeys: string[] = [];
      for (let i = 0; i + 1 < run.words.length; i++) {
        const [a, b] = [run.words[i]!, run.words[i + 1]!];
        if (GENERIC.has(a) || GENERIC.has(b)) continue;
        const key = `${run.stems[i]} ${run.stems[i + 1]}`;
        pairs.push({ key, weight: PAIR_WEIGHT * Math.max(idf(a), idf(b)) });
        pairKeys.push(key);
      }
      shownRuns.push({ phrase: run.words.join(' '), pairKeys, terms: runTerms });
    }
    const total = terms.reduce((s, t) => s + t.weight, 0) + pairs.reduce((s, p) => s + p.weight, 0);
    return { terms, pairs, total, runs: shownRuns };
  });
}

/** A topic's phrases for finding corpus papers about it: per alternative, its runs without the generic words. */
export function anchorPhrases(topic: Extract<Topic, { kind: 'semantic' }>): string[][][] {
  return topic.alternatives.map((runs) => {
    const phrases: string[][] = [];
    for (const run of runs) {
      let cur: string[] = [];
      for (const w of [...run.words, '']) {
        if (w && !GENERIC.has(w)) cur.push(w);
        else if (cur.length) {
          phrases.push(cur);
          cur = [];
        }
      }
    }
    return phrases;
  });
}
