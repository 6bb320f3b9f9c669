import type { DateRange, Hit, Paper } from '../types.ts';

/** A source the answer cites: numbered in order of first use in the answer text. */
export interface Citation {
  n: number;
  paper: Paper;
  /** The HF paper page (arXiv papers) or a search link (papers from a copied page). */
  url: string;
}

/** What a person gets back for a question: every claim cites a retrieved paper, or it says so plainly. */
export interface Answer {
  question: string;
  /** True when the digest has nothing relevant enough: `text` says so, `citations` is empty. */
  abstained: boolean;
  /** The answer, with `[n]` markers that refer to `citations`. */
  text: string;
  citations: Citation[];
  /** What retrieval returned, best first (also when abstaining). */
  retrieved: Hit[];
  /** When abstaining: the closest papers, clearly labelled as not answering the question. */
  closest: Hit[];
  /** Which answerer produced the text: `extractive`, `openai:gpt-4o-mini`, `metadata`, ... */
  answerer: string;
  /** A note for the reader, e.g. that the model failed and the extractive answer is shown instead. */
  note?: string;
  /** How many papers were searched (for "searched N papers" footers). */
  searched: number;
}

export interface AskOptions extends DateRange {}

/** Answers questions about the digest. */
export interface Asker {
  ask(question: string, opts?: AskOptions): Promise<Answer>;
}
