/**
 * Fusing the dense and lexical candidate lists of one query into one ranking of papers.
 *
 * Plain reciprocal rank fusion throws the scores away: on a large corpus it lets a weak dense list (static
 * embeddings are poor on jargon) outvote a confident BM25 list. `convex` keeps the scores: each list is scaled
 * to [0, 1] within the query (BM25 by its best score, cosine between the candidates' floor and best) and the two
 * are mixed with a weight that favours BM25, so dense evidence reorders and fills in rather than overrules.
 */

export interface Candidate {
  id: string;
  /** Best chunk cosine similarity, when the paper was scored densely. */
  dense?: number;
  /** BM25 score, when the paper matched lexically. */
  lexical?: number;
}

export type FusionMethod = 'convex' | 'rrf' | 'bm25' | 'dense';

export interface FusionOptions {
  method: FusionMethod;
  /** Weight of BM25 in `convex` (the dense weight is 1 - alpha). */
  alpha: number;
  /** `rrf` constant. */
  k: number;
}

export const DEFAULT_FUSION: FusionOptions = { method: 'convex', alpha: 0.6, k: 60 };

export function fuse(cands: Candidate[], opts: FusionOptions = DEFAULT_FUSION): { id: string; score: number }[] {
  let scored: { id: string; score: number }[];
  switch (opts.method) {
    case 'bm25':
      scored = cands.filter((c) => c.lexical !== undefined).map((c) => ({ id: c.id, score: c.lexical! }));
      break;
    case 'dense':
      scored = cands.filter((c) => c.dense !== undefined).map((c) => ({ id: c.id, score: c.dense! }));
      break;
    case 'rrf': {
      const rank = (key: 'dense' | 'lexical') => {
        const order = cands.filter((c) => c[key] !== undefined).sort((a, b) => b[key]! - a[key]!);
        return new Map(order.map((c, i) => [c.id, i + 1]));
      };
      const rd = rank('dense');
      const rl = rank('lexical');
      scored = cands.map((c) => {
        const a = rd.get(c.id);
        const b = rl.get(c.id);
        return { id: c.id, score: (a ? 1 / (opts.k + a) : 0) + (b ? 1 / (opts.k + b) : 0) };
      });
      break;
    }
    case 'convex': {
      const lex = cands.map((c) => c.lexical ?? 0);
      const maxLex = Math.max(0, ...lex);
      const dens = cands.filter((c) => c.dense !== undefined).map((c) => c.dense!);
      const maxDense = dens.length ? Math.max(...dens) : 0;
      const floor = dens.length ? Math.min(...dens) : 0;
      const span = maxDense - floor || 1;
      scored = cands.map((c) => {
        const l = maxLex > 0 ? (c.lexical ?? 0) / maxLex : 0;
        const d = c.dense !== undefined ? Math.max(0, (c.dense - floor) / span) : 0;
        return { id: c.id, score: opts.alpha * l + (1 - opts.alpha) * d };
      });
      break;
    }
  }
  return scored.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}
