import type { DateRange, Hit, Paper } from '../types.ts';

/** A source the answer cites: numbered in order of first use in the answer text. */
export interface Citation {
  n: number;
  paper: Paper;
  /** The HF paper page (arXiv papers) or a search link (papers from a copied page). */
  url: string;
}

/**
 * How a question was met: `answer` (cited), `closest` (no paper answers it; the nearest papers are listed,
 * uncited) or `none` (nothing in the digest is related: junk, trivia, another field).
 */
export type Outcome = 'answer' | 'closest' | 'none';

/** What a person gets back for a question: every claim cites a retrieved paper, or it says so plainly. */
export interface Answer {
  question: string;
  outcome: Outcome;
  /** True unless the outcome is `answer`: `text` then says so and `citations` is empty. */
  abstained: boolean;
  /** The answer, with `[n]` markers that refer to `citations`. */
  text: string;
  citations: Citation[];
  /** What retrieval returned, best first (also when abstaining). */
  retrieved: Hit[];
  /** For `closest`: the nearest papers (at most 3), each with one line on what it does; never cited. */
  closest: ClosestPaper[];
  /** Which answerer produced the text: `extractive`, `openai:gpt-4o-mini`, `metadata`, ... */
  answerer: string;
  /** A note for the reader, e.g. that the model failed and the extractive answer is shown instead. */
  note?: string;
  /** How many papers were searched (for "searched N papers" footers). */
  searched: number;
}

/** A paper near the question that does not answer it, with one line on what it does. */
export interface ClosestPaper {
  paper: Paper;
  /** What the paper does, in one sentence (HF's summary, or the abstract's sentence that says it). */
  line: string;
}

export interface AskOptions extends DateRange {
  /**
   * The papers of the asker's previous answer, for follow-ups ("which of these have code?", "tell me more about
   * the second one"), best first as they were shown.
   */
  previous?: Paper[];
}

/** Answers questions about the digest. */
export interface Asker {
  ask(question: string, opts?: AskOptions): Promise<Answer>;
}

/**
 * Writes an answer from numbered sources, `[n]` after each claim; whatever it writes is checked (citations.ts)
 * before anyone sees it. The extractive answerer and the chat-model answerer both are one.
 */
export interface Answerer {
  answer(question: string, hits: Hit[]): Promise<string>;
}

/** A chat model's yes/no on whether a source answers a question (near the judge's threshold). */
export interface SourceCheck {
  answers(question: string, hit: Hit): Promise<boolean>;
}
