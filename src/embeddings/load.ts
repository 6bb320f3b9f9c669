import type { DigestEmbeddings, EmbeddingsOptions } from './types.ts';

/** The configured embeddings provider; each provider's heavy imports load only when it is chosen. */
export async function loadEmbeddings(opts: EmbeddingsOptions): Promise<DigestEmbeddings> {
  if (opts.provider === 'onnx') {
    const { loadOnnxEmbeddings } = await import('./onnx.ts');
    return loadOnnxEmbeddings(opts);
  }
  const { loadStaticEmbeddings } = await import('./static.ts');
  return loadStaticEmbeddings(opts);
}
