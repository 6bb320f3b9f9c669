import type { PaperStore } from '../store/paper-store.ts';

/**
 * Word statistics of the indexed corpus, shared by everything that weighs words: the relevance judge, the
 * extractive answerer and the topic matcher. Document frequencies come from the BM25 index itself (FTS5's
 * tokenizer and stemmer), so a word weighs the same everywhere. The app owns one and resets it after an ingest.
 */
export class CorpusStats {
  private readonly idfCache = new Map<string, number>();
  private readonly dfCache = new Map<string, number>();
  /** Papers in the index, read once per reset (counting them per word would cost a query each). */
  private n?: number;

  constructor(private readonly store: PaperStore) {}

  papers(): number {
    return (this.n ??= Math.max(1, this.store.stats().papers));
  }

  /** How many papers contain the word (stemmed), cached. */
  docFreq(term: string): number {
    let df = this.dfCache.get(term);
    if (df === undefined) {
      if (this.dfCache.size > 200_000) this.dfCache.clear();
      df = this.store.docFreq(term);
      this.dfCache.set(term, df);
    }
    return df;
  }

  /** BM25's idf. A word no paper contains still counts: it is part of a question the digest cannot answer. */
  idf(term: string): number {
    let v = this.idfCache.get(term);
    if (v === undefined) {
      const n = this.papers();
      const df = this.docFreq(term);
      v = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      if (this.idfCache.size > 200_000) this.idfCache.clear();
      this.idfCache.set(term, v);
    }
    return v;
  }

  /** The largest idf any word can have (a word no paper contains). */
  maxIdf(): number {
    const n = this.papers();
    return Math.log(1 + (n + 0.5) / 0.5);
  }

  /** Forget everything (papers were added or changed). */
  reset(): void {
    this.idfCache.clear();
    this.dfCache.clear();
    this.n = undefined;
  }
}
