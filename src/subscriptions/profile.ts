/**
 * Topic profiles: what the corpus's papers about a topic look like in embedding space, so that a new paper is
 * judged also by how much it reads like them, not only by the topic's words (an "RLVR" paper that talks of
 * verifiable rewards and GRPO; a weather paper that mentions RLVR in passing).
 *
 * A topic's anchors are the corpus papers whose title or HF keywords contain the topic as a phrase (each run
 * of content words consecutive; see `anchorPhrases`). Each paper is one vector, the mean of its chunk vectors.
 * The profile is Fisher's linear discriminant between the anchors and the whole corpus: w = S⁻¹ (mean of the
 * anchors - mean of the corpus), S the corpus covariance shrunk toward a multiple of the identity. A paper's
 * profile score is its projection on w scaled so that 0 is the corpus mean and 1 the anchors' mean (clipped to
 * [-1, 2]). A topic with fewer than `MIN_ANCHORS` anchors has no profile: too few papers to learn from.
 *
 * Cost: building reads every paper's vector once and inverts a d x d matrix (~0.1 s for 5,400 papers, d = 128);
 * a profile is one FTS5 query, a mean over its anchors and one d x d product.
 */
import type { VectorIndex } from '../index/vector-index.ts';
import { dot } from '../vector-math.ts';
import type { PaperStore } from '../store/paper-store.ts';

/** Fewer anchors than this: no profile. */
export const MIN_ANCHORS = 5;
/** Covariance shrinkage: S + SHRINK x (trace S / d) x I. */
const SHRINK = 0.05;

export interface Profile {
  /** How many corpus papers the profile was learned from. */
  anchors: number;
  /** Discriminant direction, and the projections of the corpus mean and of the anchors' mean on it. */
  w: Float64Array;
  lo: number;
  hi: number;
}

export class TopicProfiles {
  private constructor(
    private readonly store: PaperStore,
    /** Each paper with vectors as one vector, the mean of its chunks'. */
    private readonly papers: Map<string, Float32Array>,
    private readonly dim: number,
    private readonly mean: Float64Array,
    /** Inverse of the shrunk covariance, row-major d x d. */
    private readonly inverse: Float64Array,
  ) {}

  /** Undefined when the index has fewer papers than dimensions, or no spread: nothing to learn a covariance from. */
  static build(store: PaperStore, vectors: VectorIndex): TopicProfiles | undefined {
    const papers = new Map<string, Float32Array>();
    for (const id of vectors.paperIds()) {
      const v = vectors.centroidOf(id);
      if (v) papers.set(id, v);
    }
    const rows = [...papers.values()];
    const d = rows[0]?.length ?? 0;
    if (!d || rows.length <= d) return undefined;
    const n = rows.length;
    const mean = new Float64Array(d);
    for (const r of rows) for (let i = 0; i < d; i++) mean[i]! += r[i]! / n;
    const cov = new Float64Array(d * d);
    const x = new Float64Array(d);
    for (const r of rows) {
      for (let i = 0; i < d; i++) x[i] = r[i]! - mean[i]!;
      for (let i = 0; i < d; i++) {
        const xi = x[i]!;
        const off = i * d;
        for (let j = i; j < d; j++) cov[off + j]! += xi * x[j]!;
      }
    }
    let trace = 0;
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) cov[j * d + i] = cov[i * d + j]! /= n;
      trace += cov[i * d + i]!;
    }
    if (!(trace > 1e-12)) return undefined; // every paper the same vector: nothing to tell apart
    for (let i = 0; i < d; i++) cov[i * d + i]! += (SHRINK * trace) / d;
    const inverse = invertSpd(cov, d);
    return inverse ? new TopicProfiles(store, papers, d, mean, inverse) : undefined;
  }

  /** The profile of a topic given as its alternative wordings, each a list of phrases; undefined: too few anchors. */
  profile(alternatives: string[][][]): Profile | undefined {
    const anchors = this.store
      .papersAbout(alternatives)
      .map((id) => this.papers.get(id))
      .filter((v): v is Float32Array => !!v);
    if (anchors.length < MIN_ANCHORS) return undefined;
    const d = this.dim;
    const diff = new Float64Array(d);
    for (const a of anchors) for (let i = 0; i < d; i++) diff[i]! += a[i]!;
    for (let i = 0; i < d; i++) diff[i]! /= anchors.length;
    const anchorMean = Float64Array.from(diff);
    for (let i = 0; i < d; i++) diff[i]! -= this.mean[i]!;
    const w = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += this.inverse[i * d + j]! * diff[j]!;
      w[i] = s;
    }
    const lo = dot(this.mean, w);
    const hi = dot(anchorMean, w);
    return hi - lo > 1e-9 ? { anchors: anchors.length, w, lo, hi } : undefined; // anchors like the corpus: no profile
  }

  /** How much a paper (its chunk vectors' mean) looks like the anchors: 0 the corpus average, 1 the anchors' average. */
  static score(profile: Profile, paper: Float32Array): number {
    return Math.min(2, Math.max(-1, (dot(paper, profile.w) - profile.lo) / (profile.hi - profile.lo)));
  }
}

/**
 * Inverse of a symmetric positive definite matrix (Cholesky); the shrinkage above keeps it well conditioned.
 * Undefined if it is not positive definite after all (non-finite input).
 */
function invertSpd(a: Float64Array, n: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j && !(s > 0)) return undefined;
      l[i * n + j] = i === j ? Math.sqrt(s) : s / l[j * n + j]!;
    }
  }
  // Solve L Lᵀ X = I column by column.
  const inv = new Float64Array(n * n);
  const y = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
      y[i] = s / l[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * inv[k * n + c]!;
      inv[i * n + c] = s / l[i * n + i]!;
    }
  }
  return inv;
}
