import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
// The LocalIndex module alone: vectra's package entry also loads its OpenAI and web-fetching helpers (~1.3 s).
import { LocalIndex } from 'vectra/lib/LocalIndex.js';
import type { DateRange } from '../types.ts';

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
      await restoreBackup(dir);
      index = new LocalIndex<VectorMeta>(dir);
      items = await index.listItems();
    }
    const map = new Map<string, VectorMeta>();
    const vectors = new Map<string, Float32Array>();
    for (const it of items) {
      map.set(it.id, it.metadata);
      vectors.set(it.id, Float32Array.from(it.vector));
    }
    return new VectorIndex(dir, index, map, vectors);
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

  /** Nearest chunks by cosine similarity, optionally within a digest-date range. */
  async query(vector: ArrayLike<number>, k: number, range: DateRange = {}): Promise<VectorMatch[]> {
    if (!this.items.size) return [];
    const filter: Record<string, unknown> = {};
    if (range.since) filter.$gte = dayNumber(range.since);
    if (range.until) filter.$lte = dayNumber(range.until);
    const results = await this.index.queryItems(
      Array.from(vector),
      '',
      k,
      Object.keys(filter).length ? ({ d: filter } as never) : undefined,
    );
    return results.map((r) => ({ chunkId: r.item.id, paperId: r.item.metadata.p, score: r.score }));
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
