import { staticDir, haveModel } from './helpers/shared.ts';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { loadStaticEmbeddings, readEmbeddingMatrix, StaticEmbeddings } from '../src/embeddings/static.ts';
import { ModelUnavailableError } from '../src/embeddings/types.ts';
import { HfEmulator } from './helpers/hf-emulator.ts';

const REPO = 'test-org/potion-mirror';
const FILES = ['config.json', 'tokenizer.json', 'model.safetensors'];
const TEXTS = [
  'Speculative decoding with a small draft model',
  'Protein structure prediction from amino acid sequences',
  'Café crème brûlée — naïve façade',
  '',
];

let work: string;
let emu: HfEmulator | undefined;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'hub-model-'));
});
afterEach(async () => {
  await emu?.close();
  emu = undefined;
  await rm(work, { recursive: true, force: true });
});

function appFor(dataDir: string, endpoint: string, repo = REPO): App {
  return new App(
    loadConfig({ EMBEDDINGS_PROVIDER: 'static', EMBEDDINGS_MODEL: repo, HF_ENDPOINT: endpoint }, { dataDir }),
  );
}

async function listFiles(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir)).sort() : [];
}

/** A copy of the shared model with its safetensors replaced. */
async function modelDirWith(name: string, safetensors: Buffer): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await copyFile(path.join(staticDir, 'config.json'), path.join(dir, 'config.json'));
  await copyFile(path.join(staticDir, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  await writeFile(path.join(dir, 'model.safetensors'), safetensors);
  return dir;
}

/** Writes one 2-D tensor as a safetensors file. */
function safetensors(dtype: string, shape: [number, number], data: Buffer, name = 'embeddings'): Buffer {
  let header = JSON.stringify({ [name]: { dtype, shape, data_offsets: [0, data.length] } });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, Buffer.from(header), data]);
}

const F = new Float32Array(1);
const U = new Uint32Array(F.buffer);
/** float32 → float16 bits; exact for the small integers of an int8 matrix (no rounding or subnormals needed). */
function floatToHalf(x: number): number {
  F[0] = x;
  const u = U[0]!;
  const sign = (u >>> 16) & 0x8000;
  if (x === 0) return sign;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = (u >>> 13) & 0x3ff;
  return sign | (exp << 10) | mant;
}

describe.skipIf(!haveModel)(
  haveModel
    ? 'the static model from the Hub'
    : `the static model from the Hub (skipped: no static model at ${staticDir})`,
  () => {
    it('downloads config, tokenizer and matrix into <dataDir>/models/<owner>--<name>, embeds like the local dir, and caches', async () => {
      emu = await HfEmulator.start({ repos: { [REPO]: staticDir } });
      const data = path.join(work, 'data');
      const app = appFor(data, emu.endpoint);
      const emb = await app.embeddings();
      app.close();

      const cache = path.join(data, 'models', 'test-org--potion-mirror');
      expect(await listFiles(cache)).toEqual(FILES.slice().sort()); // nothing else, no .partial left
      for (const f of FILES)
        expect((await readFile(path.join(cache, f))).equals(readFileSync(path.join(staticDir, f)))).toBe(true);
      expect(emu.requests.map((r) => [r.method, r.url, r.status])).toEqual(
        FILES.map((f) => ['GET', `/${REPO}/resolve/main/${f}`, 200]),
      );
      expect(emb.modelId).toBe(`static:${REPO}`);
      expect(emb.dimension).toBe(128);

      const local = await loadStaticEmbeddings({
        provider: 'static',
        model: 'unused',
        modelDir: staticDir,
        cacheDir: path.join(work, 'unused'),
        hfEndpoint: 'http://127.0.0.1:9',
      });
      expect(await emb.embedDocuments(TEXTS)).toEqual(await local.embedDocuments(TEXTS));
      expect(await emb.embedQuery(TEXTS[0]!)).toEqual(await local.embedQuery(TEXTS[0]!));
      const v = await emb.embedQuery(TEXTS[1]!);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);

      // Second use, new process state: nothing is requested.
      emu.clearLog();
      const again = appFor(data, emu.endpoint);
      const emb2 = await again.embeddings();
      again.close();
      expect(emu.requests).toEqual([]);
      expect(await emb2.embedQuery(TEXTS[0]!)).toEqual(await local.embedQuery(TEXTS[0]!));
    });

    it('follows the Hub redirect to a CDN and survives a body cut off mid-download', async () => {
      emu = await HfEmulator.start({ repos: { [REPO]: staticDir }, redirectFiles: true });
      emu.truncateNext('model.safetensors', { bytes: 100_000 });
      const data = path.join(work, 'data');
      const app = appFor(data, emu.endpoint);
      const emb = await app.embeddings();
      app.close();
      expect(emu.log('model.safetensors').map((r) => r.status)).toContain('truncated');
      const local = new StaticEmbeddings('x', staticDir);
      expect(await emb.embedDocuments(TEXTS)).toEqual(await local.embedDocuments(TEXTS));
    });

    describe('offline with no cached model', () => {
      // One load with the Hub unreachable (a port that refused connections a moment ago), checked two ways.
      let offline: { err: unknown; seconds: number; files: string[] };
      beforeAll(async () => {
        const probe = await HfEmulator.start({ repos: { [REPO]: staticDir } });
        const endpoint = probe.endpoint;
        await probe.close();
        const dir = await mkdtemp(path.join(tmpdir(), 'hub-model-offline-'));
        try {
          const app = appFor(path.join(dir, 'data'), endpoint);
          const started = Date.now();
          const err = await app.embeddings().catch((e: unknown) => e);
          app.close();
          const seconds = (Date.now() - started) / 1000;
          offline = {
            err,
            seconds,
            files: await listFiles(path.join(dir, 'data', 'models', 'test-org--potion-mirror')),
          };
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }, 60_000);

      it('ModelUnavailableError that points at EMBEDDINGS_MODEL_DIR, nothing left behind', () => {
        expect(offline.err).toBeInstanceOf(ModelUnavailableError);
        const msg = (offline.err as Error).message;
        expect(msg).toContain('EMBEDDINGS_MODEL_DIR');
        expect(msg).toContain(REPO);
        expect(msg).toMatch(/ECONNREFUSED/);
        expect(offline.files).not.toContain('model.safetensors');
        expect(offline.files.filter((f) => f.endsWith('.partial'))).toEqual([]);
      });

      it('the error comes quickly (a refused connection is not retried for many seconds)', () => {
        expect(offline.seconds, `took ${offline.seconds.toFixed(1)} s to report an unreachable Hub`).toBeLessThan(5);
      });
    });

    it('an unknown repo is a ModelUnavailableError naming the repo, without retries', async () => {
      emu = await HfEmulator.start({ repos: { [REPO]: staticDir } });
      const app = appFor(path.join(work, 'data'), emu.endpoint, 'nobody/no-such-model');
      const err = await app.embeddings().catch((e: unknown) => e);
      app.close();
      expect(err).toBeInstanceOf(ModelUnavailableError);
      expect((err as Error).message).toMatch(/nobody\/no-such-model/);
      expect(emu.requests).toHaveLength(1);
    });

    describe('a damaged or foreign safetensors file gives a clear error, not garbage vectors', () => {
      const original = () => readFileSync(path.join(staticDir, 'model.safetensors'));

      it('truncated file', async () => {
        const buf = original();
        const dir = await modelDirWith('truncated', buf.subarray(0, Math.floor(buf.length / 2)));
        const err = (() => {
          try {
            new StaticEmbeddings('truncated', dir);
          } catch (e) {
            return e;
          }
        })();
        expect(err).toBeInstanceOf(ModelUnavailableError);
        expect((err as Error).message).toContain(dir);
        expect((err as Error).message).toMatch(/model\.safetensors .*(truncated|corrupt|incomplete)/i);
      });

      it('random bytes', async () => {
        const dir = await modelDirWith('random', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
        expect(() => new StaticEmbeddings('random', dir)).toThrow(ModelUnavailableError);
        expect(() => new StaticEmbeddings('random', dir)).toThrow(
          /model\.safetensors (has a corrupt header|is too short)/,
        );
      });

      it('an empty file and a header that is not JSON', async () => {
        expect(() => new StaticEmbeddings('e', 'x')).toThrow(ModelUnavailableError);
        const empty = await modelDirWith('empty', Buffer.alloc(0));
        expect(() => new StaticEmbeddings('empty', empty)).toThrow(/too short to be a safetensors file/);
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(16n);
        const notJson = await modelDirWith(
          'notjson',
          Buffer.concat([len, Buffer.from('{"embeddings": ['), Buffer.alloc(64)]),
        );
        expect(() => new StaticEmbeddings('notjson', notJson)).toThrow(ModelUnavailableError);
        expect(() => new StaticEmbeddings('notjson', notJson)).toThrow(/notjson/);
      });

      it('a tensor that is not 2-D, or of an unsupported dtype', async () => {
        const oneD = await modelDirWith(
          'oned',
          (() => {
            let h = JSON.stringify({ embeddings: { dtype: 'F32', shape: [16], data_offsets: [0, 64] } });
            h += ' '.repeat((8 - (h.length % 8)) % 8);
            const l = Buffer.alloc(8);
            l.writeBigUInt64LE(BigInt(h.length));
            return Buffer.concat([l, Buffer.from(h), Buffer.alloc(64)]);
          })(),
        );
        expect(() => new StaticEmbeddings('oned', oneD)).toThrow(/holds no 2-D embedding tensor/);
        const f64 = await modelDirWith('f64', safetensors('F64', [4, 2], Buffer.alloc(64)));
        expect(() => new StaticEmbeddings('f64', f64)).toThrow(/unsupported tensor dtype F64/);
      });

      it('a matrix with fewer rows than the tokenizer has tokens is refused', async () => {
        const buf = original();
        const hl = Number(buf.readBigUInt64LE(0));
        const cols = 128;
        const rows = 1000; // the first 1000 rows of the real matrix: most real words would fall off the end
        const dir = await modelDirWith(
          'short-vocab',
          safetensors('I8', [rows, cols], buf.subarray(8 + hl, 8 + hl + rows * cols)),
        );
        expect(() => new StaticEmbeddings('short-vocab', dir)).toThrow(ModelUnavailableError);
        expect(() => new StaticEmbeddings('short-vocab', dir)).toThrow(/1000.*29528|29528.*1000/);
      });

      it('F32, F16 and BF16 copies of the int8 matrix give the same vectors', async () => {
        const { data, rows, cols } = readEmbeddingMatrix(path.join(staticDir, 'model.safetensors'));
        const f32 = Float32Array.from(data);
        const u32 = new Uint32Array(f32.buffer);
        const f16 = new Uint16Array(data.length);
        const bf16 = new Uint16Array(data.length);
        for (let i = 0; i < data.length; i++) {
          f16[i] = floatToHalf(data[i]!);
          bf16[i] = u32[i]! >>> 16;
        }
        const ref = await new StaticEmbeddings('ref', staticDir).embedDocuments(TEXTS);
        const bytes = (a: Float32Array | Uint16Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
        for (const [dtype, raw] of [
          ['F32', bytes(f32)],
          ['F16', bytes(f16)],
          ['BF16', bytes(bf16)],
        ] as const) {
          const dir = await modelDirWith(dtype, safetensors(dtype, [rows, cols], raw));
          const got = await new StaticEmbeddings(dtype, dir).embedDocuments(TEXTS);
          const maxDiff = Math.max(...got.flatMap((v, i) => v.map((x, j) => Math.abs(x - ref[i]![j]!))));
          expect(maxDiff, dtype).toBeLessThan(1e-6);
        }
      });
    });
  },
);
