import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { Embeddings } from '@langchain/core/embeddings';
import { ModelUnavailableError, type DigestEmbeddings, type EmbeddingsOptions } from './types.ts';
import { downloadHubFiles } from './hub-download.ts';

/** The files of a Model2Vec model: a tokenizer and one embedding matrix. */
const MODEL_FILES = ['config.json', 'tokenizer.json', 'model.safetensors'];
const MAX_TOKENS = 512;

/**
 * Model2Vec static embeddings: tokenize (Transformers.js, no special tokens), drop [UNK], average the rows of
 * one embedding matrix, L2-normalize. This is model2vec's `StaticModel.encode`; no ONNX runtime involved, so it
 * is fast enough to embed the whole digest in seconds on a CPU.
 */
export class StaticEmbeddings extends Embeddings implements DigestEmbeddings {
  readonly modelId: string;
  readonly dimension: number;
  private readonly tokenizer: PreTrainedTokenizer;
  private readonly matrix: Float32Array;
  private readonly vocabSize: number;
  private readonly unkId: number | undefined;
  private readonly maxChars: number;

  constructor(name: string, dir: string) {
    super({});
    let tokenizerJson: any;
    let matrix: { data: Float32Array; rows: number; cols: number };
    try {
      tokenizerJson = JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
      matrix = readEmbeddingMatrix(path.join(dir, 'model.safetensors'));
    } catch (err) {
      throw new ModelUnavailableError(
        `Could not load the static embedding model in ${dir}: ${(err as Error).message}. ` +
          'A Model2Vec model directory holds tokenizer.json and model.safetensors; point EMBEDDINGS_MODEL_DIR at one.',
      );
    }
    const vocab = tokenizerJson?.model?.vocab;
    const vocabSize = Array.isArray(vocab) ? vocab.length : Object.keys(vocab ?? {}).length;
    if (vocabSize > matrix.rows) {
      throw new ModelUnavailableError(
        `The static model in ${dir} does not fit together: its tokenizer has ${vocabSize} tokens but model.safetensors ` +
          `has ${matrix.rows} rows. Use a complete Model2Vec model directory (or download it again).`,
      );
    }
    this.tokenizer = new PreTrainedTokenizer(tokenizerJson, {});
    this.matrix = matrix.data;
    this.vocabSize = matrix.rows;
    this.dimension = matrix.cols;
    const unkToken = tokenizerJson?.model?.unk_token ?? '[UNK]';
    this.unkId = tokenizerJson?.model?.vocab?.[unkToken];
    this.maxChars = MAX_TOKENS * medianTokenLength(tokenizerJson);
    this.modelId = `static:${name}`;
  }

  /** Embed one text synchronously (the work is pure CPU; no reason to pay for promises per text). */
  embedOne(text: string): Float32Array {
    const D = this.dimension;
    const v = new Float32Array(D);
    const ids = this.tokenizer.encode(text.slice(0, this.maxChars), { add_special_tokens: false });
    let n = 0;
    for (const id of ids) {
      if (id === this.unkId || id < 0 || id >= this.vocabSize) continue;
      const off = id * D;
      for (let j = 0; j < D; j++) v[j]! += this.matrix[off + j]!;
      if (++n >= MAX_TOKENS) break;
    }
    let norm = 0;
    for (let j = 0; j < D; j++) norm += v[j]! * v[j]!;
    norm = Math.sqrt(norm) + 1e-32;
    for (let j = 0; j < D; j++) v[j]! /= norm;
    return v;
  }

  override async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => Array.from(this.embedOne(t)));
  }

  override async embedQuery(text: string): Promise<number[]> {
    return Array.from(this.embedOne(text));
  }
}

/** Read the single 2-D tensor of a safetensors file as float32 (F32, F16, BF16 and I8 are supported). */
export function readEmbeddingMatrix(file: string): { data: Float32Array; rows: number; cols: number } {
  const buf = readFileSync(file);
  if (buf.length < 8) throw new Error(`${path.basename(file)} is too short to be a safetensors file`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen <= 0 || 8 + headerLen > buf.length) throw new Error(`${path.basename(file)} has a corrupt header`);
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, any>;
  const name = 'embeddings' in header ? 'embeddings' : Object.keys(header).find((k) => k !== '__metadata__');
  const t = name ? header[name] : undefined;
  if (!t || !Array.isArray(t.shape) || t.shape.length !== 2)
    throw new Error(`${path.basename(file)} holds no 2-D embedding tensor`);
  const [rows, cols] = t.shape as [number, number];
  const start = 8 + headerLen + t.data_offsets[0];
  const end = 8 + headerLen + t.data_offsets[1];
  const count = rows * cols;
  if (!Number.isInteger(count) || count <= 0) throw new Error(`${path.basename(file)} has an invalid tensor shape`);
  if (end > buf.length || end - start < count * bytesPer(t.dtype)) {
    throw new Error(
      `${path.basename(file)} is truncated (its tensor needs ${count * bytesPer(t.dtype)} bytes, the file holds ${Math.max(0, buf.length - start)})`,
    );
  }
  const raw = buf.subarray(start, end);
  const data = new Float32Array(count);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) data[i] = raw.readFloatLE(i * 4);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) data[i] = halfToFloat(raw.readUInt16LE(i * 2));
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) data[i] = bf16ToFloat(raw.readUInt16LE(i * 2));
      break;
    case 'I8':
      // model2vec's int8 uses one global scale; it cancels under L2 normalization, so raw values are fine.
      for (let i = 0; i < count; i++) data[i] = raw.readInt8(i);
      break;
    default:
      throw new Error(`unsupported tensor dtype ${t.dtype} in ${path.basename(file)}`);
  }
  return { data, rows, cols };
}

function bytesPer(dtype: string): number {
  return dtype === 'F32' ? 4 : dtype === 'I8' ? 1 : 2;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

// One shared word: bf16 is the top half of a float32.
const bf16Bits = new Uint32Array(1);
const bf16Float = new Float32Array(bf16Bits.buffer);
function bf16ToFloat(b: number): number {
  bf16Bits[0] = b << 16;
  return bf16Float[0]!;
}

/** model2vec cuts inputs to 512 × the median vocabulary string length before tokenizing. */
function medianTokenLength(tokenizerJson: any): number {
  const vocab = tokenizerJson?.model?.vocab;
  const keys: string[] = Array.isArray(vocab) ? vocab.map((v: [string, number]) => v[0]) : Object.keys(vocab ?? {});
  if (!keys.length) return 8;
  const lens = keys.map((k) => k.length).sort((a, b) => a - b);
  return Math.max(1, lens[Math.floor(lens.length / 2)]!);
}

/**
 * Load the static model from `modelDir`, or else from the Hub into `<cacheDir>/<owner>--<name>` on first use.
 */
export async function loadStaticEmbeddings(opts: EmbeddingsOptions): Promise<StaticEmbeddings> {
  if (opts.modelDir) {
    if (!existsSync(opts.modelDir)) {
      throw new ModelUnavailableError(
        `EMBEDDINGS_MODEL_DIR points at ${opts.modelDir}, which does not exist. Set it to a Model2Vec model directory ` +
          '(tokenizer.json + model.safetensors), or unset it to download the default model from the Hub.',
      );
    }
    return new StaticEmbeddings(path.basename(path.resolve(opts.modelDir)), opts.modelDir);
  }
  const dir = path.join(opts.cacheDir, opts.model.replace(/\//g, '--'));
  if (!MODEL_FILES.every((f) => existsSync(path.join(dir, f)))) {
    try {
      // Few, short retries: offline, the person should hear how to fix it in seconds, not after a minute.
      await downloadHubFiles({
        endpoint: opts.hfEndpoint,
        repo: opts.model,
        files: MODEL_FILES,
        destDir: dir,
        retries: 1,
        minDelayMs: 250,
        maxDelayMs: 1000,
      });
    } catch (err) {
      throw new ModelUnavailableError(
        `No embedding model is available offline: downloading ${opts.model} from ${opts.hfEndpoint} failed ` +
          `(${(err as Error).message}). Set EMBEDDINGS_MODEL_DIR to a local Model2Vec model directory, ` +
          'or allow network access to the Hub (HF_ENDPOINT sets a mirror).',
      );
    }
  }
  return new StaticEmbeddings(opts.model, dir);
}
