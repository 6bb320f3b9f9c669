/**
 * The `onnx` embeddings provider: a Transformers.js `feature-extraction` pipeline (a sentence-transformers style
 * ONNX model such as `Xenova/bge-small-en-v1.5`), mean-pooled and L2-normalized, wrapped in LangChain's
 * `HuggingFaceTransformersEmbeddings` (@langchain/community).
 *
 * Transformers.js notes (3.8.x):
 * - A local directory must be passed as an ABSOLUTE path. Transformers.js treats anything that looks like a Hub id
 *   (`org/name`, `name`, so also a relative path like `models/bge`) as a name under `env.localModelPath` (inside
 *   node_modules by default) and may then try the Hub; an absolute path (`/…`) is not a valid Hub id, so it is read
 *   as is. We therefore `path.resolve` the directory.
 * - `local_files_only: true` is a per-call equivalent of `env.allowRemoteModels = false`: a missing file fails with
 *   "file was not found locally" before any request is made. We use it instead of flipping the global flag, so a
 *   local load never changes how other loads behave.
 * - The Hub host is only configurable globally (`env.remoteHost`), so Hub loads are serialized and the previous
 *   value is restored afterwards. All files are fetched while the pipeline is built, which happens at load time
 *   (the probe below), so nothing is fetched later with a different host.
 * - Downloads go to `cache_dir` (a per-call option); later loads of the same model are served from that cache
 *   even without network access, because the cache is checked before any request.
 * - The pipeline's `normalize: true` divides by the norm without an epsilon, so a text whose pooled vector is zero
 *   (no known tokens, e.g. `''` with a static-lookup model) comes out as NaNs. We ask the pipeline for mean pooling
 *   only and L2-normalize ourselves as `v / (‖v‖ + 1e-32)` (Model2Vec's formula: zero stays zero, like the static
 *   provider), and reject any non-finite output instead of passing it on.
 * - `dtype` is passed explicitly (otherwise Transformers.js warns on every load): `fp32` (`onnx/model.onnx`), or
 *   `q8` (`onnx/model_quantized.onnx`) for a local directory that only has the quantized file.
 *
 * Wrapper settings: the wrapper's defaults (batches of 512 run all at once through `Promise.all`, and 6 retries with
 * back-off for an error that is local and deterministic) do not suit a local model, so batches are smaller, run one
 * at a time (`maxConcurrency: 1`) and are not retried. The wrapper has no notion of a query instruction, model id
 * or dimension, so `OnnxEmbeddings` delegates to it and adds those.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { env, type PretrainedModelOptions } from '@huggingface/transformers';
import { HuggingFaceTransformersEmbeddings } from '@langchain/community/embeddings/huggingface_transformers';
import { Embeddings } from '@langchain/core/embeddings';
import { ModelUnavailableError, type DigestEmbeddings, type EmbeddingsOptions } from './types.ts';

/** Texts per pipeline call. Padding is to the longest text of a batch, so keep batches modest. */
const BATCH_SIZE = 32;
/** A sentence any English vocabulary covers, embedded once at load to learn (and check) the dimension. */
const PROBE_TEXT = 'This is a short English sentence used to check the embedding model.';

class OnnxEmbeddings extends Embeddings implements DigestEmbeddings {
  readonly modelId: string;
  /** Set by `probe()` during `loadOnnxEmbeddings`, before the instance is handed out. */
  dimension = 0;

  constructor(
    private readonly inner: HuggingFaceTransformersEmbeddings,
    modelId: string,
    private readonly queryInstruction: string,
  ) {
    super({});
    this.modelId = modelId;
  }

  override async embedDocuments(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const vectors = await this.inner.embedDocuments(texts);
    if (vectors.length !== texts.length) {
      throw new Error(`${this.modelId}: got ${vectors.length} embeddings for ${texts.length} texts`);
    }
    return vectors.map((v) => this.finish(v));
  }

  override async embedQuery(text: string): Promise<number[]> {
    return this.finish(await this.inner.embedQuery(this.queryInstruction + text));
  }

  /** Embeds the probe sentence and records the dimension; throws if the model's output is unusable. */
  async probe(): Promise<void> {
    const raw = await this.inner.embedDocuments([PROBE_TEXT]);
    const first = raw[0];
    if (raw.length !== 1 || !first || first.length === 0) {
      throw new Error('the model returned no embedding for a probe sentence');
    }
    this.dimension = first.length;
    const v = this.finish(first);
    if (Math.abs(norm(v) - 1) > 1e-3) {
      throw new Error('the model returned a zero vector for a probe sentence (is it a text-embedding model?)');
    }
  }

  /** Validates a mean-pooled vector and L2-normalizes it. */
  private finish(v: number[]): number[] {
    if (v.length !== this.dimension) {
      throw new Error(`${this.modelId}: embedding has ${v.length} dimensions, expected ${this.dimension}`);
    }
    if (!v.every(Number.isFinite)) throw new Error(`${this.modelId}: the model produced non-finite values`);
    const n = norm(v) + 1e-32;
    return v.map((x) => x / n);
  }
}

function norm(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/** An error's message with its causes (`fetch failed` alone hides the `ECONNREFUSED …` underneath). */
function describeError(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur !== undefined && cur !== null && depth < 4; depth++) {
    const text = cur instanceof Error ? cur.message : String(cur);
    if (text && !parts.includes(text)) parts.push(text);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(' <- ');
}

/** Serializes loads, because `env.remoteHost` is global. */
let loadQueue: Promise<unknown> = Promise.resolve();

/**
 * Loads the ONNX embeddings model: from `opts.modelDir` when set (nothing is downloaded), else the Hub model
 * `opts.model` from `opts.hfEndpoint`, cached in `opts.cacheDir`. Throws `ModelUnavailableError` when that fails.
 */
export async function loadOnnxEmbeddings(opts: EmbeddingsOptions): Promise<DigestEmbeddings> {
  const run = loadQueue.then(() => load(opts));
  loadQueue = run.catch(() => undefined);
  return run;
}

async function load(opts: EmbeddingsOptions): Promise<DigestEmbeddings> {
  const modelDir = opts.modelDir ? path.resolve(opts.modelDir) : undefined;
  const source = modelDir
    ? `the local model directory ${modelDir}`
    : `the Hub model "${opts.model}" from ${opts.hfEndpoint} (cache: ${opts.cacheDir})`;
  const howToFix = modelDir
    ? 'Fix: point EMBEDDINGS_MODEL_DIR at a directory holding a Transformers.js model (config.json, tokenizer.json, ' +
      'tokenizer_config.json, onnx/model.onnx), or unset it to download the model from HF_ENDPOINT.'
    : 'Fix: set EMBEDDINGS_MODEL_DIR to a local model directory (config.json, tokenizer.json, tokenizer_config.json, ' +
      `onnx/model.onnx), or allow network access to HF_ENDPOINT (${opts.hfEndpoint}).`;
  const fail = (what: string, cause?: unknown): ModelUnavailableError => {
    const reason = cause === undefined ? '' : `: ${describeError(cause)}`;
    return new ModelUnavailableError(`Could not load ONNX embeddings from ${source}: ${what}${reason}. ${howToFix}`, {
      cause,
    });
  };

  let modelRef: string;
  let modelId: string;
  const pretrained: PretrainedModelOptions = { cache_dir: opts.cacheDir, dtype: 'fp32', device: 'cpu' };
  let previousHost: string | undefined;

  if (modelDir) {
    if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) throw fail('the directory does not exist');
    for (const file of ['config.json', 'tokenizer.json']) {
      if (!existsSync(path.join(modelDir, file))) throw fail(`${file} is missing`);
    }
    if (!existsSync(path.join(modelDir, 'onnx', 'model.onnx'))) {
      if (!existsSync(path.join(modelDir, 'onnx', 'model_quantized.onnx'))) {
        throw fail('neither onnx/model.onnx nor onnx/model_quantized.onnx exists');
      }
      pretrained.dtype = 'q8';
    }
    pretrained.local_files_only = true;
    modelRef = modelDir; // absolute: see the notes at the top
    modelId = `onnx:${path.basename(modelDir)}`;
  } else {
    if (!opts.model) throw fail('no model id is configured');
    let host: string;
    try {
      const url = new URL(opts.hfEndpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`unsupported protocol ${url.protocol}`);
      host = url.href.endsWith('/') ? url.href : `${url.href}/`;
    } catch (e) {
      throw fail(`HF_ENDPOINT is not a valid http(s) URL (${opts.hfEndpoint})`, e);
    }
    previousHost = env.remoteHost;
    env.remoteHost = host;
    modelRef = opts.model;
    modelId = `onnx:${opts.model}`;
  }

  try {
    const inner = new HuggingFaceTransformersEmbeddings({
      model: modelRef,
      pretrainedOptions: pretrained,
      pipelineOptions: { pooling: 'mean', normalize: false },
      batchSize: BATCH_SIZE,
      maxConcurrency: 1,
      maxRetries: 0,
    });
    const embeddings = new OnnxEmbeddings(inner, modelId, opts.queryInstruction ?? '');
    await embeddings.probe(); // builds the pipeline: every file is read or downloaded here
    return embeddings;
  } catch (e) {
    throw fail('the model failed to load or to embed a probe sentence', e);
  } finally {
    if (previousHost !== undefined) env.remoteHost = previousHost;
  }
}
