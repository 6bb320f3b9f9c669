import { Embeddings } from '@langchain/core/embeddings';
import type { DigestEmbeddings } from '../../src/embeddings/types.ts';

/** Deterministic stand-in for a model: each word hashed to one of `dimension` (64) dimensions, L2-normalized. */
export class HashEmbeddings extends Embeddings implements DigestEmbeddings {
  readonly modelId = 'test:hash';
  readonly dimension: number;
  constructor(dimension = 64) {
    super({});
    this.dimension = dimension;
  }
  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dimension);
    for (const w of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
      let h = 7;
      for (const c of w) h = (h * 31 + c.charCodeAt(0)) >>> 0;
      v[h % this.dimension]! += 1;
    }
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  }
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => Array.from(this.embedOne(t)));
  }
  override async embedQuery(text: string): Promise<number[]> {
    return Array.from(this.embedOne(text));
  }
}
