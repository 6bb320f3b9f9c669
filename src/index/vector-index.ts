import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
// The LocalIndex module alone: vectra's package entry also loads its OpenAI and web-fetching helpers (~1.3 s).
import { LocalIndex } from 'vectra/lib/LocalIndex.js';
import type { DateRange } from '../types.ts';
import { unitMean } from '../vector-math.ts';

/** What each vector carries: its paper, digest day (as YYYYMMDD, for range filters) and chunk text hash. */
export type VectorMeta = { p: string; d: number; h: string };

export interface VectorItem {
  /** Chunk id, `<paper id>#<index>`. */
  id: string;
  paperId: string;
  date: string;
  hash: string;
  vector: ArrayLike<number>;
}

/** How a query's cosine similarities spread over the chunks it was compared with (all chunks in range). */
export interface CosineSpread {
  mean: number;
  sd: number;
  n: number;
}

export interface VectorMatch {
  chunkId: string;
  paperId: string;
  score: number;
}

const INDEX_FILE = 'index.json';
const BACKUP_FILE = 'index.json.bak';

const dayNumber = (d: string): number => Number(d.replace(/-/g, ''));

// Six decimals keep cosine similarities exact to ~1e-6 and halve the size of Vectra's JSON file.
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * Chunk vectors in a Vectra `LocalIndex` (one JSON file). Vectra rewrites that file in place, so before each
 * write the last good file is copied aside; a file cut short by a crash is replaced by that copy on open, and
 * the store's reconciliation re-embeds whatever the copy lacks.
 */
export class VectorIndex {
  private pending = 0;

  private constructor(
    private readonly dir: string,
    private index: LocalIndex<VectorMeta>,
    private readonly items: Map<string, VectorMeta>,
    private readonly vectors: Map<string, Float32Array>,
    private readonly damagedIds = new Set<string>(),
  ) {}

  static async open(dir: string): Promise<VectorIndex> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, INDEX_FILE);
    let index = new LocalIndex<VectorMeta>(dir);
    if (!(await index.isIndexCreated())) {
      if (await exists(path.join(dir, BACKUP_FILE))) await restoreBackup(dir);
      else await index.createIndex({ version: 1 });
      index = new LocalIndex<VectorMeta>(dir);
    }
    let items: Awaited<ReturnType<typeof index.listItems>>;
    try {
      items = await index.listItems();
    } catch (err) {
      // Cut short by a crash mid-write: fall back to the copy made before that write.
      if (!(await exists(path.join(dir, BACKUP_FILE)))) {
        throw new Error(
          `The vector index ${file} is damaged (${(err as Error).message}) and has no backup. ` +
            'Delete that folder and run the ingest again: papers already stored are re-embedded.',
        );
      }
      try {
        await restoreBackup(dir);
        index = new LocalIndex<VectorMeta>(dir);
        items = await index.listItems();
      } catch (backupErr) {
        throw new Error(
          `The vector index ${file} is damaged (${(err as Error).message}) and so is its backup ` +
            `(${(backupErr as Error).message}). Delete that folder and run the ingest again: papers already stored ` +
            'are re-embedded.',
        );
      }
    }
    const map = new Map<string, VectorMeta>();
    const vectors = new Map<string, Float32Array>();
    // A vector that is not a list of finite numbers of the index's width (most items agree on it) is damaged:
    // left out, so a search never reads it, and re-embedded by the next reconcile (ingest, doctor --repair).
    const widths = new Map<number, number>();
    for (const it of items)
      if (Array.isArray(it.vector)) widths.set(it.vector.length, (widths.get(it.vector.length) ?? 0) + 1);
    const dim = [...widths.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
    const damaged: string[] = [];
    for (const it of items) {
      const v = it.vector as unknown;
      const ok =
        Array.isArray(v) && v.length === dim && dim > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
      if (!ok || !it.metadata || typeof it.metadata.p !== 'string') {
        damaged.push(it.id);
        continue;
      }
      map.set(it.id, it.metadata);
      vectors.set(it.id, Float32Array.from(v as number[]));
    }
    return new VectorIndex(dir, index, map, vectors, new Set(damaged));
  }

  /** Chunk ids whose stored vectors were damaged when the index was opened (left out until re-embedded). */
  get damaged(): readonly string[] {
    return [...this.damagedIds];
  }

  get size(): number {
    return this.items.size;
  }

  /** Every stored chunk id with its hash and day, to reconcile against the store. */
  entries(): IterableIterator<[string, VectorMeta]> {
    return this.items.entries();
  }

  async upsert(items: VectorItem[]): Promise<void> {
    if (!items.length) return;
    await this.begin();
    for (const it of items) {
      const metadata: VectorMeta = { p: it.paperId, d: dayNumber(it.date), h: it.hash };
      const vector = Array.from(it.vector, round6);
      await this.index.upsertItem({ id: it.id, vector, metadata });
      this.items.set(it.id, metadata);
      this.vectors.set(it.id, Float32Array.from(vector));
      this.damagedIds.delete(it.id);
      this.packed = undefined;
    }
    this.pending += items.length;
  }

  async delete(ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.begin();
    for (const id of ids) {
      await this.index.deleteItem(id);
      this.items.delete(id);
      this.vectors.delete(id);
      this.damagedIds.delete(id);
      this.packed = undefined;
    }
    this.pending += ids.length;
  }

  /** Write pending changes to disk (backup first, so a crash mid-write loses at most this batch). */
  async commit(): Promise<void> {
    if (!this.pending) return;
    const file = path.join(this.dir, INDEX_FILE);
    const tmp = path.join(this.dir, `${BACKUP_FILE}.tmp`);
    await copyFile(file, tmp);
    await rename(tmp, path.join(this.dir, BACKUP_FILE));
    await this.index.endUpdate();
    this.pending = 0;
  }

  /** What is stored for one chunk: its paper, day and text hash. */
  meta(chunkId: string): VectorMeta | undefined {
    return this.items.get(chunkId);
  }

  /** The stored vector of one chunk (unit length), for scoring known candidates exactly. */
  vector(chunkId: string): Float32Array | undefined {
    return this.vectors.get(chunkId);
  }

  /**
   * Nearest chunks by cosine similarity, optionally within a digest-date range. Vectra keeps the vectors on
   * disk; queries scan a packed copy (one Float32Array, rebuilt after writes) with a bounded heap, because
   * Vectra's own `queryItems` sorts every item and copies objects on each query (several times slower).
   */
  query(
    vector: ArrayLike<number>,
    k: number,
    range: DateRange = {},
    spread?: (s: CosineSpread) => void,
  ): VectorMatch[] {
    const packed = this.pack();
    const n = packed.ids.length;
    if (!n || k <= 0) return [];
    const dim = vector.length;
    if (dim !== packed.dim) throw new Error(`query vector has ${dim} dimensions, the index ${packed.dim}`);
    const lo = range.since ? dayNumber(range.since) : -Infinity;
    const hi = range.until ? dayNumber(range.until) : Infinity;
    const q = Float32Array.from(vector);
    const heap = new TopK(k);
    const m = packed.matrix;
    // The spread costs two additions per chunk: it makes a best score comparable across questions (how far
    // above this question's usual similarity it stands), which raw cosines are not.
    let sum = 0;
    let sumSq = 0;
    let seen = 0;
    for (let i = 0; i < n; i++) {
      const d = packed.days[i]!;
      if (d < lo || d > hi) continue;
      let s = 0;
      const off = i * dim;
      for (let j = 0; j < dim; j++) s += q[j]! * m[off + j]!;
      sum += s;
      sumSq += s * s;
      seen++;
      heap.push(s, i);
    }
    if (spread && seen) {
      const mean = sum / seen;
      spread({ mean, sd: Math.sqrt(Math.max(0, sumSq / seen - mean * mean)), n: seen });
    }
    return heap.sorted().map(([score, i]) => ({ chunkId: packed.ids[i]!, paperId: packed.papers[i]!, score }));
  }

  /** The unit-length mean of a paper's chunk vectors: the paper as one vector. Undefined when it has none. */
  centroidOf(paperId: string): Float32Array | undefined {
    return unitMean(
      this.chunkIdsOf(paperId)
        .map((id) => this.vectors.get(id))
        .filter((v): v is Float32Array => !!v),
    );
  }

  /** The ids of the papers that have vectors. */
  paperIds(): string[] {
    return [...this.pack().byPaper.keys()];
  }

  /** The ids of one paper's chunks that have vectors. */
  chunkIdsOf(paperId: string): string[] {
    return this.pack().byPaper.get(paperId) ?? [];
  }

  private packed?: {
    ids: string[];
    papers: string[];
    days: Int32Array;
    matrix: Float32Array;
    dim: number;
    byPaper: Map<string, string[]>;
  };

  private pack() {
    if (this.packed) return this.packed;
    const ids = [...this.vectors.keys()];
    const dim = ids.length ? this.vectors.get(ids[0]!)!.length : 0;
    const matrix = new Float32Array(ids.length * dim);
    const days = new Int32Array(ids.length);
    const papers: string[] = [];
    const byPaper = new Map<string, string[]>();
    ids.forEach((id, i) => {
      matrix.set(this.vectors.get(id)!, i * dim);
      const meta = this.items.get(id)!;
      days[i] = meta.d;
      papers.push(meta.p);
      (byPaper.get(meta.p) ?? byPaper.set(meta.p, []).get(meta.p)!).push(id);
    });
    this.packed = { ids, papers, days, matrix, dim, byPaper };
    return this.packed;
  }

  private async begin(): Promise<void> {
    if (this.pending === 0) {
      try {
        await this.index.beginUpdate();
      } catch (err) {
        if (!/already in progress/.test((err as Error).message)) throw err;
      }
    }
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function restoreBackup(dir: string): Promise<void> {
  const backup = path.join(dir, BACKUP_FILE);
  JSON.parse(await readFile(backup, 'utf8')); // a damaged backup must not replace anything
  const tmp = path.join(dir, `${INDEX_FILE}.restore`);
  await copyFile(backup, tmp);
  await rename(tmp, path.join(dir, INDEX_FILE));
  await rm(tmp, { force: true });
}

/** The k largest scores seen, kept in a min-heap: O(n log k) instead of sorting all n. */
class TopK {
  private readonly scores: number[] = [];
  private readonly items: number[] = [];

  constructor(private readonly k: number) {}

  push(score: number, item: number): void {
    const s = this.scores;
    if (s.length < this.k) {
      s.push(score);
      this.items.push(item);
      this.up(s.length - 1);
    } else if (score > s[0]!) {
      s[0] = score;
      this.items[0] = item;
      this.down(0);
    }
  }

  sorted(): [number, number][] {
    return this.scores.map((s, i): [number, number] => [s, this.items[i]!]).sort((a, b) => b[0] - a[0]);
  }

  private swap(a: number, b: number): void {
    [this.scores[a], this.scores[b]] = [this.scores[b]!, this.scores[a]!];
    [this.items[a], this.items[b]] = [this.items[b]!, this.items[a]!];
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.scores[p]! <= this.scores[i]!) break;
      this.swap(p, i);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.scores.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.scores[l]! < this.scores[m]!) m = l;
      if (r < n && this.scores[r]! < this.scores[m]!) m = r;
      if (m === i) return;
      this.swap(m, i);
      i = m;
    }
  }
}
