/**
 * The relevance judge: does a retrieved paper answer the question, is it only related, or is nothing related?
 *
 * Signals that are comparable across questions of any length (raw cosines and BM25 scores grow with the
 * question's length, so they are not used):
 * - coverage: the idf-weighted share of the question's content words that the paper contains (stemmed);
 * - soft coverage: the same, where a word the paper does not contain still counts by how close its nearest paper
 *   word is in the embedding model's word space ("chatbot" ~ "assistant"), over title, abstract, HF keywords and
 *   summary;
 * - lift: the paper's best chunk cosine in standard deviations above the question's mean cosine over every
 *   chunk searched (how much this paper stands out for this question, whatever its length);
 * - margin: the paper's soft coverage minus the best other paper's (a clear winner, or a crowd of partial matches);
 * - first, lexShare: whether it is the retriever's first paper, and its BM25 score relative to the best;
 * - domain: the question's mean cosine over every chunk searched, which tells a question about ML research from
 *   trivia or chit-chat (measured: it barely grows with the length of unanswerable questions, r = -0.05).
 * A small logistic model per embedding model (calibration.ts) turns them into a confidence.
 */
import type { DigestEmbeddings } from '../embeddings/types.ts';
import type { CosineSpread } from '../index/vector-index.ts';
import type { CorpusStats } from '../retrieval/corpus-stats.ts';
import { stem } from '../stem.ts';
import { words } from '../text.ts';
import type { Hit, Paper } from '../types.ts';
import type { Outcome } from './types.ts';
import { calibrationFor, type Calibration } from './calibration.ts';
import { contentTerms } from './question.ts';

/** What the judge saw of one retrieved paper, and the probability that it answers the question. */
export type Evidence = Features & { confidence: number };

export interface Judgement {
  outcome: Outcome;
  /** Per hit, in the order given. */
  evidence: Evidence[];
  /** The hits an answer may cite: confident enough, and not far behind the best. */
  answering: Hit[];
  /** The best confidence among the papers considered. */
  best: number;
  /** Near the answer threshold: a chat model, when configured, may settle it. */
  borderline: boolean;
  /** The calibration used (its model key). */
  calibration: string;
}

/** A question frame that asks about a subject, so that one word after it is a question ("what is GRPO?"). */
const ASKS_ABOUT =
  /^\s*(?:what(?:'s| is| are| does)|who (?:is|are)|define|explain|describe|tell me (?:about|more about)|how does|(?:any )?(?:papers?|work|research) (?:on|about)|anything (?:on|about)|summari[sz]e)\b/i;

/** Papers considered for an answer. */
const CONSIDER = 5;
/** A paper below this share of the best confidence is not cited beside it. */
const CITE_RELATIVE = 0.75;
/** Question words weighed (a pasted abstract has hundreds). */
const MAX_TERMS = 24;
const PAPER_CACHE = 4000;

/** A paper's distinct words (title, HF keywords and summary, abstract), once per paper, with stems and vectors. */
interface PaperWords {
  words: string[];
  /** Stem -> indexes of the words with that stem. */
  stemIndex: Map<string, number[]>;
  /** The words' vectors, row-major, for soft coverage (models with `embedOne`). */
  vectors?: Float32Array;
}

/** The features of one (question, paper) pair, as the calibration script also computes them. */
export interface Features {
  coverage: number;
  soft: number;
  lift: number;
  /** This paper's soft coverage minus the best of the other papers considered: a clear winner or a crowd. */
  margin: number;
  /** The question's mean cosine over every chunk searched: how much it reads like the digest's papers at all. */
  domain: number;
  /** 1 for the retriever's first paper. */
  first: number;
  /** BM25 score relative to the best BM25 score among the papers considered. */
  lexShare: number;
  /** 1 when the question names something ("GRPO", "Mamba") and every content word of it is common in the corpus. */
  common: number;
}

/** An acronym, a mixed-case or versioned name anywhere ("GRPO", "LoRA", "Qwen3"), or a capitalized word after the first. */
function namesSomething(question: string): boolean {
  const tokens = question.match(/[\p{L}\p{N}][\p{L}\p{N}-]*/gu) ?? [];
  return tokens.some(
    (t, i) =>
      (/^[\p{Lu}\p{N}-]{2,}$/u.test(t) && /\p{Lu}/u.test(t)) ||
      /\p{Ll}\p{Lu}/u.test(t) ||
      /\p{L}.*\d|\d.*\p{L}/u.test(t) ||
      (i > 0 && /^\p{Lu}\p{Ll}/u.test(t)),
  );
}

/** A word in this share of the corpus's papers (and at least 5) is one of the digest's own terms. */
const COMMON_SHARE = 0.003;

/**
 * Whether a question is about the digest's subjects at all: it reads like the papers (`domain`), or every word of
 * it is one of the digest's common terms and the paper contains them all ("GRPO", "Mamba": names the static
 * model embeds poorly). Trivia sharing one rare word with a paper is neither.
 */
export function isRelated(f: Features, c: Calibration): boolean {
  return f.domain >= c.relatedAt || (f.common === 1 && f.coverage >= 1);
}

export const FEATURES = ['coverage', 'soft', 'lift', 'margin', 'domain', 'first', 'lexShare'] as const;

export type FeatureName = (typeof FEATURES)[number];

/**
 * Which papers an answer may cite (indexes into `evidence`): related, confident enough, and not far behind the
 * best. The judge and the calibration script decide with this one rule.
 */
export function answeringIndexes(evidence: readonly Evidence[], c: Calibration): number[] {
  const best = Math.max(0, ...evidence.map((e) => e.confidence));
  return evidence.flatMap((e, i) => (e.confidence >= c.answerAt && e.confidence >= CITE_RELATIVE * best ? [i] : []));
}

export function confidence(f: Features, c: Calibration): number {
  // Nothing unrelated is answered, whatever the words: trivia sharing one rare word with a paper.
  if (!isRelated(f, c)) return 0;
  let z = c.bias;
  for (const k of FEATURES) z += (c.weights[k] ?? 0) * f[k];
  return 1 / (1 + Math.exp(-z));
}

export class RelevanceJudge {
  private readonly papers = new Map<string, PaperWords>();
  private readonly wordVectors = new Map<string, Float32Array>();
  readonly calibration: Calibration;

  constructor(
    private readonly stats: Pick<CorpusStats, 'idf' | 'docFreq' | 'papers'>,
    private readonly embeddings: DigestEmbeddings,
  ) {
    this.calibration = calibrationFor(embeddings.modelId);
  }

  /** Forget cached paper words (after an ingest changed papers). */
  reset(): void {
    this.papers.clear();
  }

  /** The features of each hit against the question. */
  features(question: string, hits: Hit[], spread?: CosineSpread): Features[] {
    const terms = contentTerms(question).slice(0, MAX_TERMS);
    const weights = terms.map((t) => this.stats.idf(t));
    const total = weights.reduce((a, b) => a + b, 0) || 1;
    const termStems = terms.map((t) => t.split(/[-']/).filter(Boolean).map(stem));
    const termVectors = this.embeddings.embedOne ? terms.map((t) => this.wordVector(t)) : undefined;
    const { soft: ramp } = this.calibration;
    const base = hits.map((h) => {
      const pw = this.paperWords(h.paper);
      const n = pw.words.length;
      // credit[k]: how much paper word k stands for question word t (1 for the same stem).
      let hard = 0;
      let soft = 0;
      terms.forEach((_, t) => {
        const exact = termStems[t]!.length === 1 ? pw.stemIndex.get(termStems[t]![0]!) : undefined;
        const whole = termStems[t]!.every((st) => pw.stemIndex.has(st));
        const credit = new Float32Array(n);
        if (exact !== undefined) for (const k of exact) credit[k] = 1;
        else if (whole) for (const st of termStems[t]!) for (const k of pw.stemIndex.get(st)!) credit[k] = 1;
        const tv = termVectors?.[t];
        if (tv && pw.vectors) {
          const d = tv.length;
          for (let k = 0; k < n; k++) {
            if (credit[k] === 1) continue;
            let sim = 0;
            const off = k * d;
            for (let j = 0; j < d; j++) sim += tv[j]! * pw.vectors[off + j]!;
            credit[k] = Math.min(1, Math.max(0, (sim - ramp.from) / (ramp.to - ramp.from))) * ramp.max;
          }
        }
        let best = 0;
        for (let k = 0; k < n; k++) if (credit[k]! > best) best = credit[k]!;
        const w = weights[t]!;
        if (whole) hard += w;
        soft += w * best;
      });
      const lift = spread && spread.sd > 1e-6 && h.dense !== undefined ? (h.dense - spread.mean) / spread.sd : 0;
      return {
        coverage: hard / total,
        soft: soft / total,
        lift,
      };
    });
    const maxLex = Math.max(0, ...hits.map((h) => h.lexical ?? 0));
    const minDf = Math.max(5, COMMON_SHARE * this.stats.papers());
    // Names the static model embeds poorly: written with a capital or a digit ("GRPO", "Mamba", "Qwen3"), and
    // common in the corpus; plain words ("meaning of life") are left to `domain`.
    const named = namesSomething(question);
    const common = named && terms.length > 0 && terms.every((t) => this.stats.docFreq(t) >= minDf) ? 1 : 0;
    return base.map((f, i) => ({
      ...f,
      margin: f.soft - Math.max(0, ...base.filter((_, j) => j !== i).map((o) => o.soft)),
      domain: spread?.mean ?? 0,
      first: i === 0 ? 1 : 0,
      lexShare: maxLex > 0 ? (hits[i]!.lexical ?? 0) / maxLex : 0,
      common,
    }));
  }

  /**
   * The outcome for a question and its retrieved papers (best first):
   * - `none` when the question is not about the digest's subjects (`isRelated`), or has no content word (junk, a
   *   mention, an operator);
   * - `answer` when a paper's confidence reaches `answerAt` (a bare word names a subject but asks nothing of it,
   *   so it is never answered; `asked` is the whole question when `question` is only its topic);
   * - `closest` otherwise.
   */
  judge(question: string, hits: Hit[], spread?: CosineSpread, opts: { asked?: string } = {}): Judgement {
    const c = this.calibration;
    const considered = hits.slice(0, CONSIDER);
    const feats = this.features(question, considered, spread);
    const evidence = feats.map((f) => ({ ...f, confidence: confidence(f, c) }));
    const best = Math.max(0, ...evidence.map((e) => e.confidence));
    // Words are counted in what the person asked ("diffusion papers with code" asks more than "diffusion").
    const terms = Math.max(contentTerms(question).length, opts.asked ? contentTerms(opts.asked).length : 0);
    const base = { evidence, best, calibration: c.model };
    const related = evidence.some((e) => isRelated(e, c));
    if (!terms || !considered.length || !related) return { ...base, outcome: 'none', answering: [], borderline: false };
    const cite = new Set(answeringIndexes(evidence, c));
    const answering = considered.filter((_, i) => cite.has(i));
    // One word names a subject but asks nothing of it, unless it is asked about ("what is GRPO?").
    const asks = terms >= 2 || ASKS_ABOUT.test(opts.asked ?? question);
    if (answering.length && asks) return { ...base, outcome: 'answer', answering, borderline: false };
    return { ...base, outcome: 'closest', answering: [], borderline: asks && best >= c.borderlineAt };
  }

  private paperWords(p: Paper): PaperWords {
    let pw = this.papers.get(p.id);
    if (pw) return pw;
    const text = `${p.title} ${(p.aiKeywords ?? []).join(' ')} ${p.aiSummary ?? ''} ${p.abstract}`;
    const list = [
      ...new Set(
        words(text)
          .flatMap((w) => w.split(/[-']/))
          .filter((w) => w.length >= 2),
      ),
    ];
    const stemIndex = new Map<string, number[]>();
    list.forEach((w, k) => {
      const st = stem(w);
      (stemIndex.get(st) ?? stemIndex.set(st, []).get(st)!).push(k);
    });
    pw = { words: list, stemIndex };
    if (this.embeddings.embedOne) {
      const dim = this.embeddings.dimension;
      const m = new Float32Array(list.length * dim);
      list.forEach((w, k) => m.set(this.wordVector(w), k * dim));
      pw.vectors = m;
    }
    if (this.papers.size >= PAPER_CACHE) this.papers.clear();
    this.papers.set(p.id, pw);
    return pw;
  }

  private wordVector(w: string): Float32Array {
    let v = this.wordVectors.get(w);
    if (!v) {
      if (this.wordVectors.size > 200_000) this.wordVectors.clear();
      v = this.embeddings.embedOne!(w);
      this.wordVectors.set(w, v);
    }
    return v;
  }
}
