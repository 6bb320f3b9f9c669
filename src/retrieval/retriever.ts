import type { DigestEmbeddings } from '../embeddings/types.ts';
import type { CosineSpread, VectorIndex } from '../index/vector-index.ts';
import { dot } from '../vector-math.ts';
import type { PaperStore } from '../store/paper-store.ts';
import type { DateRange, Hit } from '../types.ts';
import { DEFAULT_FUSION, fuse, type Candidate, type FusionOptions } from './fusion.ts';

export interface SearchOptions extends DateRange {
  /** How many papers to return (default 10). */
  k?: number;
  fusion?: FusionOptions;
}

/** Retrieved papers, with how the question's similarity spreads over the searched chunks (for the judge). */
export interface Retrieval {
  hits: Hit[];
  /** Undefined when no vector was searched (an empty index or range). */
  spread?: CosineSpread;
}

/** How many candidates each retriever contributes before fusion. */
const DENSE_CHUNKS = 150;
const LEXICAL_PAPERS = 100;
const CHUNKS_PER_HIT = 2;

/**
 * Hybrid retrieval: dense (chunk vectors) and lexical (BM25 over papers) candidates, every candidate then
 * scored by both where possible, fused, and grouped per paper with its best chunks.
 */
export class Retriever {
  constructor(
    private readonly store: PaperStore,
    private readonly vectors: VectorIndex,
    private readonly embeddings: DigestEmbeddings,
    private readonly defaults: FusionOptions = DEFAULT_FUSION,
  ) {}

  async search(query: string, opts: SearchOptions = {}): Promise<Hit[]> {
    return (await this.retrieve(query, opts)).hits;
  }

  async retrieve(query: string, opts: SearchOptions = {}): Promise<Retrieval> {
    const k = opts.k ?? 10;
    const q = query.trim();
    if (!q) return { hits: [] };
    const range: DateRange = { since: opts.since, until: opts.until };
    const qv = await this.embeddings.embedQuery(q);

    const cands = new Map<string, Candidate>();
    const get = (id: string) => cands.get(id) ?? cands.set(id, { id }).get(id)!;
    let spread: CosineSpread | undefined;
    for (const m of this.vectors.query(qv, DENSE_CHUNKS, range, (s) => (spread = s))) {
      const c = get(m.paperId);
      if (c.dense === undefined || m.score > c.dense) c.dense = m.score;
    }
    for (const r of this.store.lexicalSearch(q, LEXICAL_PAPERS, range)) get(r.id).lexical = r.score;

    // Score every candidate's chunks exactly: lexical-only candidates get a dense score too, and each hit
    // gets its best chunks as evidence.
    const chunkScores = new Map<string, { id: string; score: number }[]>();
    for (const c of cands.values()) {
      const scores: { id: string; score: number }[] = [];
      for (const chunk of this.vectors.chunkIdsOf(c.id)) {
        const v = this.vectors.vector(chunk);
        if (v) scores.push({ id: chunk, score: dot(qv, v) });
      }
      scores.sort((a, b) => b.score - a.score);
      chunkScores.set(c.id, scores);
      if (scores[0] && (c.dense === undefined || scores[0].score > c.dense)) c.dense = scores[0].score;
    }

    const ranked = fuse([...cands.values()], opts.fusion ?? this.defaults).slice(0, k);
    const papers = this.store.getMany(ranked.map((r) => r.id));
    const evidence = ranked.flatMap((r) => (chunkScores.get(r.id) ?? []).slice(0, CHUNKS_PER_HIT));
    const chunkText = this.store.getChunks(evidence.map((e) => e.id));
    const hits: Hit[] = [];
    for (const r of ranked) {
      const paper = papers.get(r.id);
      if (!paper) continue; // a vector whose paper is gone: reconciliation will remove it
      const c = cands.get(r.id)!;
      const chunks = (chunkScores.get(r.id) ?? []).slice(0, CHUNKS_PER_HIT).flatMap((s) => {
        const t = chunkText.get(s.id);
        return t ? [{ text: t.text, score: s.score }] : [];
      });
      hits.push({ paper, score: r.score, dense: c.dense, lexical: c.lexical, chunks });
    }
    return spread ? { hits, spread } : { hits };
  }

  /**
   * Papers nearest to a paper: the mean of its chunk vectors against every chunk, grouped per paper, itself
   * excluded. Undefined when the paper is unknown.
   */
  similar(paperId: string, opts: SearchOptions = {}): Hit[] | undefined {
    const centroid = this.vectors.centroidOf(paperId);
    if (!centroid) return undefined;
    const k = opts.k ?? 10;
    const best = new Map<string, { score: number; chunk: string }>();
    for (const m of this.vectors.query(centroid, (k + 1) * 6, { since: opts.since, until: opts.until })) {
      if (m.paperId === paperId) continue;
      const b = best.get(m.paperId);
      if (!b || m.score > b.score) best.set(m.paperId, { score: m.score, chunk: m.chunkId });
    }
    const ranked = [...best.entries()].sort((a, b) => b[1].score - a[1].score).slice(0, k);
    const papers = this.store.getMany(ranked.map(([id]) => id));
    const texts = this.store.getChunks(ranked.map(([, b]) => b.chunk));
    return ranked.flatMap(([id, b]) => {
      const paper = papers.get(id);
      const t = texts.get(b.chunk);
      return paper
        ? [{ paper, score: b.score, dense: b.score, chunks: t ? [{ text: t.text, score: b.score }] : [] }]
        : [];
    });
  }
}
