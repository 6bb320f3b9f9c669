/**
 * The relevance judge's calibration, one per embedding model: the soft-coverage word-similarity ramp and a
 * logistic model over judge.ts's features, with the thresholds of each outcome. A model
 * that was never calibrated gets the lexical fallback (coverage only): another model's similarity scale must not
 * be trusted silently. `npm run eval -- --calibrate` fits these on the dev split and prints them.
 */
import type { FeatureName } from './judge.ts';

export interface Calibration {
  /** The `modelId` this was fitted for, or `lexical` for the fallback. */
  model: string;
  /** Soft coverage: a paper word at cosine `from` gives no credit, at `to` or more `max` of a word's weight. */
  soft: { from: number; to: number; max: number };
  /** Logistic weights of judge.ts's features; a feature left out weighs 0. */
  weights: Partial<Record<FeatureName, number>>;
  bias: number;
  /** Confidence from which a paper answers. */
  answerAt: number;
  /**
   * The question's mean cosine over the searched chunks from which it counts as about the digest's subjects
   * (`closest` rather than `none`); below, nothing is answered either.
   */
  relatedAt: number;
  /** From here to `answerAt`, a configured chat model may check whether the source answers. */
  borderlineAt: number;
  /** What the fit measured, for people reading this file. */
  figures: string;
}

/** The static model in ../shared (potion-base-4M-int8), fitted by `npm run eval -- --answers --calibrate`. */
const STATIC_POTION_4M: Calibration = {
  model: 'static:potion-base-4M-int8',
  soft: { from: 0.5, to: 0.8, max: 0.8 },
  weights: { coverage: 1.095, soft: 3.095, lift: 0.77, margin: 2.517, domain: 3.138, first: 0.688, lexShare: 1.363 },
  bias: -6.428,
  answerAt: 0.895,
  relatedAt: 0.092,
  borderlineAt: 0.4,
  figures:
    'dev split, 330 questions, 1235 (question, paper) pairs of which 184 relevant: 54% of the answerable questions ' +
    'answered, 2.7% of all questions answered wrongly or without warrant, 2.3% of the answerable below relatedAt',
};

/** For a model without its own calibration: word overlap alone, which means the same for every model. */
export const LEXICAL_FALLBACK: Calibration = {
  model: 'lexical',
  soft: { from: 1, to: 2, max: 0 },
  weights: { coverage: 10 },
  bias: -6,
  answerAt: 0.5,
  relatedAt: -1,
  borderlineAt: 0.3,
  figures: 'not fitted: coverage alone, answering from 60% of the question covered',
};

const CALIBRATIONS = new Map<string, Calibration>([[STATIC_POTION_4M.model, STATIC_POTION_4M]]);

export function calibrationFor(modelId: string): Calibration {
  return CALIBRATIONS.get(modelId) ?? LEXICAL_FALLBACK;
}
