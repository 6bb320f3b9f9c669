import { staticDir } from './helpers/shared.ts';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { env, PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadOnnxEmbeddings } from '../src/embeddings/onnx.ts';
import { ModelUnavailableError, type DigestEmbeddings, type EmbeddingsOptions } from '../src/embeddings/types.ts';
import { buildOnnxModelFromStatic } from './helpers/onnx-fixture.ts';

const skipReason = existsSync(path.join(staticDir, 'model.safetensors'))
  ? undefined
  : `the shared static model is absent (${staticDir})`;

/** A closed port: any network attempt fails at once instead of reaching anything. */
const CLOSED_ENDPOINT = 'http://127.0.0.1:9';
const BGE_INSTRUCTION = 'Represent this sentence for searching relevant passages: ';

/** The static model's embedding, per PROVENANCE.md (model2vec `StaticModel.encode`), as the reference. */
function staticReference(dir: string): (text: string) => number[] {
  const tj = JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number> };
  };
  const tok = new PreTrainedTokenizer(tj, {});
  const buf = readFileSync(path.join(dir, 'model.safetensors'));
  const hlen = Number(buf.readBigUInt64LE(0));
  const h = (
    JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8')) as Record<
      string,
      { shape: [number, number]; data_offsets: [number, number] }
    >
  ).embeddings!;
  const [rows, dim] = h.shape;
  const m = new Int8Array(buf.buffer, buf.byteOffset + 8 + hlen + h.data_offsets[0], rows * dim);
  const unk = tj.model.vocab['[UNK]'];
  return (text) => {
    const ids = tok
      .encode(text, { add_special_tokens: false })
      .filter((i) => i !== unk)
      .slice(0, 512);
    const v = new Array<number>(dim).fill(0);
    for (const id of ids) for (let j = 0; j < dim; j++) v[j]! += m[id * dim + j]!;
    for (let j = 0; j < dim; j++) v[j]! /= Math.max(ids.length, 1);
    const n = Math.hypot(...v) + 1e-32;
    return v.map((x) => x / n);
  };
}

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: readonly number[]): number => Math.sqrt(dot(a, a));
const cosine = (a: readonly number[], b: readonly number[]): number => dot(a, b) / (norm(a) * norm(b));

const SENTENCES = [
  'Neural architecture search',
  'Automatically designing network architectures with reinforcement learning.',
  'Mixture-of-Experts routing in sparse expert models',
  'Speculative decoding: a small draft model speeds up LLM inference!',
  'Café crème brûlée, naïve façade — accents are stripped.',
  'Diffusion models for image generation (DDPM, score matching) in 2024',
  '中文分词 and 日本語 mixed with English words',
  'Graph neural networks for molecules 🚀🧪 with emoji',
  `A word longer than a hundred characters ${'x'.repeat(120)} becomes [UNK].`,
  'Protein structure prediction with AlphaFold\nacross two lines\tand tabs',
];

describe.skipIf(skipReason !== undefined)(`onnx embeddings${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let tmp: string;
  let modelDir: string;
  let emb: DigestEmbeddings;
  let reference: (text: string) => number[];
  const base = (): EmbeddingsOptions => ({
    provider: 'onnx',
    model: 'test',
    modelDir,
    cacheDir: path.join(tmp, 'cache'),
    hfEndpoint: CLOSED_ENDPOINT,
  });

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'onnx-embeddings-'));
    modelDir = path.join(tmp, 'potion-onnx');
    await buildOnnxModelFromStatic(staticDir, modelDir);
    emb = await loadOnnxEmbeddings(base());
    reference = staticReference(staticDir);
  });

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reports its identity and dimension', () => {
    expect(emb.modelId).toBe('onnx:potion-onnx');
    expect(emb.dimension).toBe(128);
  });

  it('returns unit vectors that agree with the static model', async () => {
    const vectors = await emb.embedDocuments(SENTENCES);
    expect(vectors).toHaveLength(SENTENCES.length);
    SENTENCES.forEach((s, i) => {
      const v = vectors[i]!;
      expect(v).toHaveLength(128);
      expect(norm(v)).toBeCloseTo(1, 5);
      const ref = reference(s);
      expect(norm(ref)).toBeCloseTo(1, 5); // every sentence has known tokens
      expect(cosine(v, ref), s).toBeGreaterThan(0.999);
    });
  });

  it('embeds a text with no known tokens as the zero vector, like the static model (not NaN)', async () => {
    const [empty] = await emb.embedDocuments(['']);
    expect(empty).toHaveLength(128);
    expect(empty!.every((x) => x === 0)).toBe(true);
  });

  it('scores related sentences above unrelated ones', async () => {
    const [nas, designing, speech, gnn, messagePassing] = await emb.embedDocuments([
      'neural architecture search',
      'automatically designing network architectures',
      'speech recognition for low-resource languages',
      'graph neural networks for molecules',
      'message passing on molecular graphs',
    ]);
    expect(dot(nas!, designing!)).toBeGreaterThan(dot(nas!, speech!));
    expect(dot(gnn!, messagePassing!)).toBeGreaterThan(dot(gnn!, speech!));
    expect(dot(gnn!, messagePassing!)).toBeGreaterThan(0.5);
  });

  it('prepends the query instruction to queries only', async () => {
    const withInstruction = await loadOnnxEmbeddings({ ...base(), queryInstruction: BGE_INSTRUCTION });
    const q = 'sparse expert models';
    const [plainDoc, instructedText] = await emb.embedDocuments([q, BGE_INSTRUCTION + q]);

    // Queries: the instruction is applied, and only when configured.
    expect(cosine(await withInstruction.embedQuery(q), instructedText!)).toBeGreaterThan(0.99999);
    expect(cosine(await emb.embedQuery(q), plainDoc!)).toBeGreaterThan(0.99999);
    expect(cosine(plainDoc!, instructedText!)).toBeLessThan(0.99);
    // Documents: never.
    const [doc] = await withInstruction.embedDocuments([q]);
    expect(cosine(doc!, plainDoc!)).toBeGreaterThan(0.99999);
  });

  it('fails with ModelUnavailableError for an incomplete directory, without touching the network', async () => {
    // Everything the pre-checks look for is there; Transformers.js itself finds tokenizer_config.json missing.
    const incomplete = path.join(tmp, 'incomplete');
    await cp(modelDir, incomplete, { recursive: true });
    await rm(path.join(incomplete, 'tokenizer_config.json'));
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const err: unknown = await loadOnnxEmbeddings({ ...base(), modelDir: incomplete }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelUnavailableError);
    expect((err as Error).message).toContain('tokenizer_config.json');
    expect((err as Error).message).toContain('EMBEDDINGS_MODEL_DIR');
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

// These need no model files, so they run even when the shared static model is absent.
describe('onnx embeddings: load failures', () => {
  let tmp: string;
  const base = (): EmbeddingsOptions => ({
    provider: 'onnx',
    model: 'test',
    cacheDir: path.join(tmp, 'cache'),
    hfEndpoint: CLOSED_ENDPOINT,
  });

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'onnx-embeddings-fail-'));
  });

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('fails with ModelUnavailableError for a missing directory, without touching the network', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const missing = path.join(tmp, 'no-such-model');
    const err: unknown = await loadOnnxEmbeddings({ ...base(), modelDir: missing }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelUnavailableError);
    const message = (err as Error).message;
    expect(message).toContain(missing);
    expect(message).toContain('does not exist');
    expect(message).toContain('EMBEDDINGS_MODEL_DIR');
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('fails with ModelUnavailableError when the Hub is unreachable, and restores env.remoteHost', async () => {
    const hostBefore = env.remoteHost;
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const err: unknown = await loadOnnxEmbeddings({ ...base(), model: 'Xenova/bge-small-en-v1.5' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelUnavailableError);
    const message = (err as Error).message;
    expect(message).toContain('Xenova/bge-small-en-v1.5');
    expect(message).toContain(`allow network access to HF_ENDPOINT (${CLOSED_ENDPOINT})`);
    expect(message).toContain('EMBEDDINGS_MODEL_DIR');
    expect(env.remoteHost).toBe(hostBefore);
    // The request went to HF_ENDPOINT (and nowhere else).
    expect(fetchSpy).toHaveBeenCalled();
    for (const [url] of fetchSpy.mock.calls) {
      expect(String(url)).toMatch(/^http:\/\/127\.0\.0\.1:9\/Xenova\/bge-small-en-v1\.5\//);
    }
  });
});
