/**
 * Test fixture: turn the shared static (Model2Vec) model into a tiny Transformers.js-loadable ONNX model.
 *
 * The ONNX graph is a single `Gather` of the (dequantized) embedding matrix by `input_ids`, so the
 * `feature-extraction` pipeline with mean pooling + L2 normalization reproduces the static model's embedding
 * direction: the rows of `[UNK]` and of every special token are zeroed, so they add nothing to the sum, and the
 * different token count (the static model drops them, the pipeline averages over them) cancels in the
 * normalization. The int8 matrix is written as float32 values equal to the int8 values; the missing global
 * quantization scale cancels in the normalization too.
 *
 * The protobuf is written by hand (a minimal varint / length-delimited encoder), following onnx.proto3.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

// ---------------------------------------------------------------------------------------------------------------
// Minimal protobuf encoder (proto3 wire format: varint = 0, length-delimited = 2).

type Field = { no: number; kind: 'varint'; value: number | bigint } | { no: number; kind: 'bytes'; value: Uint8Array };

function varint(value: number | bigint): Uint8Array {
  // int64 fields: negative numbers are two's complement on 64 bits (10 bytes). We only write non-negative ones.
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

function tag(no: number, wireType: 0 | 2): Uint8Array {
  return varint((no << 3) | wireType);
}

/** Encodes one message from its fields, in the given order. */
function message(fields: readonly Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    if (f.kind === 'varint') {
      parts.push(tag(f.no, 0), varint(f.value));
    } else {
      parts.push(tag(f.no, 2), varint(f.value.length), f.value);
    }
  }
  return Buffer.concat(parts);
}

const int = (no: number, value: number | bigint): Field => ({ no, kind: 'varint', value });
const str = (no: number, value: string): Field => ({ no, kind: 'bytes', value: Buffer.from(value, 'utf8') });
const sub = (no: number, value: Uint8Array): Field => ({ no, kind: 'bytes', value });

// ---------------------------------------------------------------------------------------------------------------
// ONNX messages (field numbers from onnx/onnx.proto3).

const TensorDataType = { FLOAT: 1, INT64: 7 } as const;

/** TensorShapeProto.Dimension: dim_value = 1, dim_param = 2. */
type Dim = number | string;

/** ValueInfoProto { name = 1; type = 2 } with TypeProto { tensor_type = 1 } and TypeProto.Tensor { elem_type = 1; shape = 2 }. */
function valueInfo(name: string, elemType: number, dims: readonly Dim[]): Uint8Array {
  const shape = message(dims.map((d) => sub(1, message([typeof d === 'number' ? int(1, d) : str(2, d)]))));
  const tensorType = message([int(1, elemType), sub(2, shape)]);
  const typeProto = message([sub(1, tensorType)]);
  return message([str(1, name), sub(2, typeProto)]);
}

/** TensorProto { dims = 1 (repeated int64); data_type = 2; name = 8; raw_data = 9 }. */
function tensor(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): Uint8Array {
  return message([...dims.map((d) => int(1, d)), int(2, dataType), str(8, name), sub(9, raw)]);
}

/** NodeProto { input = 1; output = 2; name = 3; op_type = 4 }. */
function node(opType: string, name: string, inputs: readonly string[], outputs: readonly string[]): Uint8Array {
  return message([...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, name), str(4, opType)]);
}

/**
 * The ONNX model: inputs `input_ids`, `attention_mask` (int64 [batch, seq]); output `last_hidden_state`
 * (float32 [batch, seq, dim]) = Gather(embeddings, input_ids). `attention_mask` is accepted but unused (the
 * pipeline's mean pooling applies it; padding is `[PAD]`, whose row is zero anyway).
 */
function buildOnnxModel(matrix: Float32Array, vocabSize: number, dim: number): Uint8Array {
  const raw = new Uint8Array(matrix.buffer, matrix.byteOffset, matrix.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('raw_data must be little-endian');

  // GraphProto { node = 1; name = 2; initializer = 5; input = 11; output = 12 }
  const graph = message([
    sub(1, node('Gather', 'embed_tokens', ['embeddings', 'input_ids'], ['last_hidden_state'])),
    str(2, 'static_embeddings'),
    sub(5, tensor('embeddings', TensorDataType.FLOAT, [vocabSize, dim], raw)),
    sub(11, valueInfo('input_ids', TensorDataType.INT64, ['batch_size', 'sequence_length'])),
    sub(11, valueInfo('attention_mask', TensorDataType.INT64, ['batch_size', 'sequence_length'])),
    sub(12, valueInfo('last_hidden_state', TensorDataType.FLOAT, ['batch_size', 'sequence_length', dim])),
  ]);
  // ModelProto { ir_version = 1; producer_name = 2; producer_version = 3; graph = 7; opset_import = 8 }
  // OperatorSetIdProto { domain = 1; version = 2 }
  return message([
    int(1, 8),
    str(2, 'hf-digest-bot test fixture'),
    str(3, '1'),
    sub(7, graph),
    sub(8, message([str(1, ''), int(2, 13)])),
  ]);
}

// ---------------------------------------------------------------------------------------------------------------

interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads the single `embeddings` tensor of a Model2Vec safetensors file as float32 (int8 values kept as is). */
async function readStaticMatrix(file: string): Promise<{ matrix: Float32Array; rows: number; dim: number }> {
  const buf = await readFile(file);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, SafetensorsEntry>;
  const entry = header.embeddings;
  if (entry?.shape.length !== 2) throw new Error(`${file}: no 2-D "embeddings" tensor`);
  const [rows, dim] = entry.shape as [number, number];
  const start = 8 + headerLen + entry.data_offsets[0];
  const count = rows * dim;
  const matrix = new Float32Array(count);
  switch (entry.dtype) {
    case 'I8': {
      const src = new Int8Array(buf.buffer, buf.byteOffset + start, count);
      matrix.set(src);
      break;
    }
    case 'F32': {
      const copy = Buffer.from(buf.subarray(start, start + count * 4)); // aligned copy
      matrix.set(new Float32Array(copy.buffer, copy.byteOffset, count));
      break;
    }
    default:
      throw new Error(`${file}: unsupported dtype ${entry.dtype}`);
  }
  return { matrix, rows, dim };
}

interface TokenizerJson {
  model: { vocab: Record<string, number>; unk_token?: string };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  post_processor?: {
    type?: string;
    special_tokens?: Record<string, { id: string; ids: number[]; tokens: string[] }>;
  } | null;
  [key: string]: unknown;
}

/**
 * Builds a Transformers.js-loadable model directory in `outDir` (created if needed) from the static model in
 * `staticDir`: `config.json`, `tokenizer.json`, `tokenizer_config.json` and `onnx/model.onnx`.
 */
export async function buildOnnxModelFromStatic(staticDir: string, outDir: string): Promise<void> {
  const tokenizer = JSON.parse(await readFile(path.join(staticDir, 'tokenizer.json'), 'utf8')) as TokenizerJson;
  const { matrix, rows, dim } = await readStaticMatrix(path.join(staticDir, 'model.safetensors'));
  const vocab = tokenizer.model.vocab;
  const vocabSize = Object.keys(vocab).length;
  if (vocabSize !== rows) throw new Error(`vocab has ${vocabSize} tokens but the matrix has ${rows} rows`);

  // Fix the post_processor: upstream still names the old bge ids (101/102); point it at this vocab's ids.
  // (Transformers.js maps special tokens by their string, but other consumers, e.g. HF `tokenizers`, use `ids`.)
  const special = tokenizer.post_processor?.special_tokens;
  if (special) {
    for (const entry of Object.values(special)) {
      entry.ids = entry.tokens.map((t) => {
        const id = vocab[t];
        if (id === undefined) throw new Error(`post_processor token ${t} is not in the vocab`);
        return id;
      });
    }
  }

  // Zero [UNK] and every special token ([PAD], [CLS], [SEP], [MASK]): the static model never counts them.
  const zeroIds = new Set<number>();
  const unk = vocab[tokenizer.model.unk_token ?? '[UNK]'];
  if (unk !== undefined) zeroIds.add(unk);
  for (const t of tokenizer.added_tokens ?? []) if (t.special) zeroIds.add(t.id);
  for (const id of zeroIds) matrix.fill(0, id * dim, (id + 1) * dim);

  const tokenId = (t: string): number | undefined => vocab[t];
  const config = {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: dim,
    vocab_size: vocabSize,
    // No transformer layers: the "encoder" is the embedding lookup alone.
    num_hidden_layers: 0,
    num_attention_heads: 1,
    intermediate_size: dim,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    pad_token_id: tokenId('[PAD]') ?? 0,
    torch_dtype: 'float32',
  };
  const tokenizerConfig = {
    tokenizer_class: 'BertTokenizer',
    model_max_length: 512,
    do_lower_case: true,
    clean_up_tokenization_spaces: true,
    unk_token: '[UNK]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
  };

  await mkdir(path.join(outDir, 'onnx'), { recursive: true });
  await writeFile(path.join(outDir, 'config.json'), JSON.stringify(config, null, 2));
  await writeFile(path.join(outDir, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(path.join(outDir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
  await writeFile(path.join(outDir, 'onnx', 'model.onnx'), buildOnnxModel(matrix, vocabSize, dim));
}
