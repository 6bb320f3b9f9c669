import type { DigestEmbeddings } from '../embeddings/types.ts';
import type { VectorIndex, VectorItem } from '../index/vector-index.ts';
import type { PaperStore, UpsertOutcome } from '../store/paper-store.ts';
import type { SourceBatch } from '../sources/files.ts';
import type { Skipped } from '../types.ts';

export interface IngestSummary {
  added: number;
  updated: number;
  unchanged: number;
  skipped: number;
  /** Chunks embedded in this run (new or changed text, or missing vectors repaired). */
  embedded: number;
  /** Chunks in the index after the run. */
  chunks: number;
  seconds: number;
  /** Every skipped entry with its reason, for a verbose report. */
  skippedEntries: Skipped[];
}

/** Hooks for a progress bar; all optional. */
export interface IngestProgress {
  embedStart?(total: number): void;
  embedProgress?(done: number): void;
  embedEnd?(): void;
}

const EMBED_BATCH = 256;
/** Write the vector index at least this often during a long embedding run, so a kill loses little work. */
const COMMIT_EVERY_MS = 5_000;

/**
 * Papers into the store, then the vector index reconciled with the store: every stored chunk gets a vector for
 * its current text, and vectors of chunks that no longer exist are dropped. Reconciliation is also how a run
 * interrupted at any point is completed by the next one.
 */
export class Ingester {
  constructor(
    private readonly store: PaperStore,
    private readonly vectors: VectorIndex,
    private readonly embeddings: DigestEmbeddings,
    private readonly progress: IngestProgress = {},
    /** Called once at the end of a run that added or changed papers (the app resets its corpus statistics). */
    private readonly onChanged?: () => void | Promise<void>,
  ) {}

  /** @internal */
  async changed(): Promise<void> {
    await this.onChanged?.();
  }

  /** Start a run: add source batches as they arrive (each is stored at once), then `finish` embeds. */
  start(): IngestRun {
    return new IngestRun(this);
  }

  /** Store the papers of some source batches and bring the vectors up to date. */
  async ingest(batches: SourceBatch[]): Promise<IngestSummary> {
    const run = this.start();
    for (const b of batches) run.add(b);
    return run.finish();
  }

  /** @internal */
  storeBatch(batch: SourceBatch) {
    return this.store.upsertPapers(batch.papers);
  }

  get chunkCount(): number {
    return this.vectors.size;
  }

  /** Make the vector index mirror the store's chunks. */
  async reconcile(): Promise<{ embedded: number; deleted: number }> {
    const refs = this.store.chunkRefs();
    const wanted = new Set<string>();
    const toEmbed: typeof refs = [];
    const moved: VectorItem[] = [];
    for (const ref of refs) {
      wanted.add(ref.id);
      const have = this.vectors.meta(ref.id);
      if (!have || have.h !== ref.hash) toEmbed.push(ref);
      else if (have.d !== Number(ref.date.replace(/-/g, ''))) {
        // Same text, earlier digest day discovered: keep the vector, fix its date.
        moved.push({
          id: ref.id,
          paperId: ref.paperId,
          date: ref.date,
          hash: ref.hash,
          vector: this.vectors.vector(ref.id)!,
        });
      }
    }
    // Vectors of chunks no longer stored, and damaged ones of no chunk (a damaged one of a chunk is re-embedded).
    const orphans = [...[...this.vectors.entries()].map(([id]) => id), ...this.vectors.damaged].filter(
      (id) => !wanted.has(id),
    );
    await this.vectors.delete(orphans);
    await this.vectors.upsert(moved);

    if (toEmbed.length) {
      this.progress.embedStart?.(toEmbed.length);
      let lastCommit = performance.now();
      const texts = this.store.getChunks(toEmbed.map((r) => r.id));
      for (let i = 0; i < toEmbed.length; i += EMBED_BATCH) {
        const batch = toEmbed.slice(i, i + EMBED_BATCH);
        const vecs = await this.embeddings.embedDocuments(batch.map((r) => texts.get(r.id)?.text ?? ''));
        await this.vectors.upsert(batch.map((r, j) => ({ ...r, vector: vecs[j]! })));
        this.progress.embedProgress?.(Math.min(i + EMBED_BATCH, toEmbed.length));
        if (performance.now() - lastCommit > COMMIT_EVERY_MS) {
          await this.vectors.commit();
          lastCommit = performance.now();
        }
        await new Promise((r) => setImmediate(r)); // let a progress bar redraw and signals arrive
      }
      this.progress.embedEnd?.();
    }
    await this.vectors.commit();
    return { embedded: toEmbed.length, deleted: orphans.length };
  }
}

const RANK: Record<UpsertOutcome, number> = { unchanged: 0, updated: 1, added: 2 };

/** One ingest: counts accumulate over the batches added; `finish` embeds what changed and reports. */
export class IngestRun {
  private readonly started = performance.now();
  /** Per paper, the strongest outcome over the run: a paper added by one day file and seen again is "added". */
  private readonly outcomes = new Map<string, UpsertOutcome>();
  private readonly skippedEntries: Skipped[] = [];

  constructor(private readonly ingester: Ingester) {}

  add(batch: SourceBatch): void {
    for (const [id, outcome] of this.ingester.storeBatch(batch)) {
      const prev = this.outcomes.get(id);
      if (!prev || RANK[outcome] > RANK[prev]) this.outcomes.set(id, outcome);
    }
    this.skippedEntries.push(...batch.skipped);
  }

  async finish(): Promise<IngestSummary> {
    const { embedded } = await this.ingester.reconcile();
    const count = (o: UpsertOutcome) => [...this.outcomes.values()].filter((v) => v === o).length;
    if (count('added') || count('updated')) await this.ingester.changed();
    return {
      added: count('added'),
      updated: count('updated'),
      unchanged: count('unchanged'),
      skipped: this.skippedEntries.length,
      embedded,
      chunks: this.ingester.chunkCount,
      seconds: (performance.now() - this.started) / 1000,
      skippedEntries: this.skippedEntries,
    };
  }
}
