/**
 * The shapes every part of the bot agrees on. A `Paper` comes out of every source, a `Hit` out of
 * retrieval, and later an `Answer` out of the answerer.
 */

/** One paper of the Hugging Face Daily Papers digest, normalized from any source. */
export interface Paper {
  /** arXiv id (`2608.18565`); papers copied from a web page get `title-<hash>` (see `titleId`). */
  id: string;
  /** Digest day, `YYYY-MM-DD`: the first day the paper was on the list (not arXiv's publication time). */
  date: string;
  title: string;
  /** Abstract with hard wraps collapsed; paragraphs are separated by a blank line. */
  abstract: string;
  authors: string[];
  upvotes: number;
  comments: number;
  githubUrl?: string;
  projectUrl?: string;
  /** HF's generated one-sentence summary, when the API has one. */
  aiSummary?: string;
  /** HF's generated keywords, when the API has them. */
  aiKeywords?: string[];
}

/** A piece of one paper's text that is embedded on its own (the title is kept with every chunk). */
export interface Chunk {
  /** `<paperId>#<index>` */
  id: string;
  paperId: string;
  index: number;
  /** The text that was embedded: title, then a window of abstract sentences. */
  text: string;
}

/** Inclusive digest-date bounds, `YYYY-MM-DD`. */
export interface DateRange {
  since?: string;
  until?: string;
}

/** One retrieved paper: a paper appears once, with its best-matching chunks. */
export interface Hit {
  paper: Paper;
  /** Fused relevance score; higher is better, comparable only within one result list. */
  score: number;
  /** Per-retriever evidence, for explanations, abstention and debugging. */
  dense?: number;
  lexical?: number;
  /** Best-matching chunks of this paper, best first. */
  chunks: { text: string; score: number }[];
}

/** A source entry that could not become a `Paper`, and why. */
export interface Skipped {
  where: string;
  reason: string;
}
