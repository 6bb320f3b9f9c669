import type { PaperStore } from '../store/paper-store.ts';
import type { Hit } from '../types.ts';
import { queryTerms } from '../index/lexical-query.ts';

/**
 * A paper is relevant enough to answer from when coverage + COSINE_WEIGHT * cosine reaches THRESHOLD.
 * Calibrated on scripts/eval (60 topical and 30 detail questions the digest answers, 25 it cannot): coverage
 * alone separates them best, the cosine breaks near ties. `npm run eval` prints the resulting abstention accuracy.
 */
export const THRESHOLD = 0.54;
export const COSINE_WEIGHT = 0.25;

export function relevanceStrength(r: Relevance): number {
  return r.coverage + COSINE_WEIGHT * r.cosine;
}

export function isRelevant(r: Relevance): boolean {
  return relevanceStrength(r) >= THRESHOLD;
}

/** How well each retrieved paper covers the question, in [0, 1] per signal. */
export interface Relevance {
  /** idf-weighted share of the question's content words that the paper contains. */
  coverage: number;
  /** Best chunk cosine similarity to the question. */
  cosine: number;
}

/**
 * Scores retrieved papers against the question with signals that are comparable across questions (fused
 * scores are not: they are normalized per query). Rare words weigh more: a paper that shares only "model" and
 * "learning" with a question about sourdough covers almost nothing of it.
 */
export class RelevanceScorer {
  private readonly idfCache = new Map<string, number>();
  /** Papers in the index, read once per reset (counting them per word would cost a query each). */
  private papers?: number;

  constructor(private readonly store: PaperStore) {}

  idf(term: string): number {
    let v = this.idfCache.get(term);
    if (v === undefined) {
      const n = (this.papers ??= Math.max(1, this.store.stats().papers));
      const df = this.store.docFreq(term);
      // A word no paper contains still counts (it is part of the question the digest cannot answer).
      v = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      this.idfCache.set(term, v);
    }
    return v;
  }

  /** Forget cached word statistics (after an ingest). */
  reset(): void {
    this.idfCache.clear();
    this.papers = undefined;
  }

  score(question: string, hits: Hit[]): Relevance[] {
    const terms = queryTerms(question).slice(0, 24);
    const weights = terms.map((t) => this.idf(t));
    const total = weights.reduce((a, b) => a + b, 0);
    const ids = hits.map((h) => h.paper.id);
    const presence = terms.map((t) => this.store.papersContaining(t, ids));
    return hits.map((h) => {
      let covered = 0;
      terms.forEach((_, i) => {
        if (presence[i]!.has(h.paper.id)) covered += weights[i]!;
      });
      return { coverage: total > 0 ? covered / total : 0, cosine: h.dense ?? 0 };
    });
  }
}
