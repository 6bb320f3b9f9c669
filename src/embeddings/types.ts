import { UserFacingError } from '../errors.ts';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';

/**
 * LangChain's `EmbeddingsInterface`, plus which model it is and how wide its vectors are, so the index can refuse
 * to mix vectors from two models. Vectors are L2-normalized: cosine similarity is a dot product. Providers extend
 * LangChain's `Embeddings` class and implement this.
 */
export interface DigestEmbeddings extends EmbeddingsInterface {
  /** Stable identity of the model, recorded in the index, e.g. `static:minishlab/potion-base-4M`. */
  readonly modelId: string;
  readonly dimension: number;
  /**
   * One text embedded synchronously, for models cheap enough to embed single words on the fly (static models):
   * the relevance judge compares question words with paper words by their vectors. Absent for the others.
   */
  embedOne?(text: string): Float32Array;
}

export type EmbeddingsProvider = 'static' | 'onnx';

export interface EmbeddingsOptions {
  provider: EmbeddingsProvider;
  /** A Hub model id, e.g. `minishlab/potion-base-4M` or `Xenova/bge-small-en-v1.5`. */
  model: string;
  /** A local model directory; when set nothing is downloaded. */
  modelDir?: string;
  /** Where downloaded models are cached (`<data>/models`). */
  cacheDir: string;
  /** Hub base URL (`HF_ENDPOINT`). */
  hfEndpoint: string;
  /** Prefix for queries (not documents), e.g. bge's retrieval instruction. Empty for none. */
  queryInstruction?: string;
}

/** Raised when no model can be loaded; the message says how to fix it. */
export class ModelUnavailableError extends UserFacingError {
  override name = 'ModelUnavailableError';
}
