/**
 * `doctor`: checks what the bot keeps on disk and repairs what it can.
 * - the database: SQLite's `integrity_check`, and the BM25 index's own check (repair: rebuilt from the papers);
 * - the vectors against the stored chunks: one vector per chunk, of the model's width, finite, for the chunk's
 *   current text, and none without a chunk (repair: the damaged and missing are re-embedded, orphans dropped).
 */
import type { App } from './app.ts';
import { REBUILD_LEXICAL_INDEX } from './store/database.ts';

export interface HealthReport {
  database: { ok: boolean; problems: string[] };
  lexical: { ok: boolean; problem?: string };
  vectors: {
    chunks: number;
    vectors: number;
    /** Chunks with no usable vector (never embedded, an interrupted ingest, or damaged). */
    missing: number;
    /** Stored vectors that were not finite numbers of the index's width. */
    damaged: number;
    /** Vectors for a chunk's older text. */
    stale: number;
    /** Vectors of no stored chunk. */
    orphans: number;
    /** The model's width against the vectors' (when both are known). */
    dimension: { model: number | null; vectors: number | null };
  };
  ok: boolean;
}

export async function checkHealth(app: App): Promise<HealthReport> {
  const rows = app.db.pragma('integrity_check') as { integrity_check: string }[];
  const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
  let lexical: HealthReport['lexical'] = { ok: true };
  try {
    app.db.exec("INSERT INTO papers_fts(papers_fts) VALUES('integrity-check')");
  } catch (err) {
    lexical = { ok: false, problem: (err as Error).message };
  }
  const vectors = await app.vectors();
  const refs = app.store.chunkRefs();
  const wanted = new Set(refs.map((r) => r.id));
  let missing = 0;
  let stale = 0;
  for (const r of refs) {
    const m = vectors.meta(r.id);
    if (!m) missing++;
    else if (m.h !== r.hash) stale++;
  }
  let orphans = 0;
  let width: number | null = null;
  for (const [id] of vectors.entries()) {
    if (!wanted.has(id)) orphans++;
    width ??= vectors.vector(id)?.length ?? null;
  }
  const model = app.indexModel()?.dimension ?? null;
  const v = {
    chunks: refs.length,
    vectors: vectors.size,
    missing,
    damaged: vectors.damaged.length,
    stale,
    orphans,
    dimension: { model, vectors: width },
  };
  const widthOk = model === null || width === null || model === width;
  const ok = !problems.length && lexical.ok && !missing && !v.damaged && !stale && !orphans && widthOk;
  return { database: { ok: !problems.length, problems }, lexical, vectors: v, ok };
}

/** Repairs what `checkHealth` found that can be repaired; returns what it did, in words. */
export async function repair(app: App, report: HealthReport): Promise<string[]> {
  const done: string[] = [];
  if (!report.lexical.ok) {
    app.db.transaction(() => app.db.exec(REBUILD_LEXICAL_INDEX))();
    done.push('rebuilt the BM25 index from the papers');
  }
  const v = report.vectors;
  if (v.missing || v.damaged || v.stale || v.orphans) {
    const { embedded, deleted } = await (await app.ingester()).reconcile();
    done.push(`re-embedded ${embedded} chunk(s) and dropped ${deleted} orphan vector(s)`);
  }
  return done;
}

/** The report as lines for a person. */
export function describeHealth(r: HealthReport): string[] {
  const v = r.vectors;
  const lines = [
    r.database.ok
      ? 'database: ok (integrity_check)'
      : `database: DAMAGED: ${r.database.problems.slice(0, 5).join('; ')}`,
    r.lexical.ok ? 'BM25 index: ok' : `BM25 index: DAMAGED (${r.lexical.problem}); --repair rebuilds it`,
    `vectors: ${v.vectors} for ${v.chunks} chunks` +
      (v.missing || v.damaged || v.stale || v.orphans
        ? `: ${v.missing} missing, ${v.damaged} damaged, ${v.stale} stale, ${v.orphans} orphan; --repair re-embeds them`
        : ': ok'),
  ];
  if (v.dimension.model !== null && v.dimension.vectors !== null && v.dimension.model !== v.dimension.vectors) {
    lines.push(
      `vectors are ${v.dimension.vectors} wide but the model that built the index is ${v.dimension.model}: run reindex`,
    );
  }
  if (!r.database.ok)
    lines.push('The database itself is damaged: stop the bot and restore a backup (README, "Operations").');
  return lines;
}
