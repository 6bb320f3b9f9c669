import { safeLinks } from '../sources/links.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Chunk, DateRange, Paper } from '../types.ts';
import { chunkPaper, contentHash } from '../index/chunk.ts';
import { ftsMatchExpression, ftsPhrase } from '../index/lexical-query.ts';

export type UpsertOutcome = 'added' | 'updated' | 'unchanged';

export interface StoreStats {
  papers: number;
  chunks: number;
  days: number;
  from: string | null;
  to: string | null;
}

/** A stored chunk as the vector index must mirror it. */
export interface ChunkRef {
  id: string;
  paperId: string;
  hash: string;
  date: string;
}

interface PaperRow {
  n: number;
  id: string;
  date: string;
  title: string;
  abstract: string;
  authors: string;
  upvotes: number;
  comments: number;
  github_url: string | null;
  project_url: string | null;
  ai_summary: string | null;
  ai_keywords: string | null;
  last_seen: string;
  record_hash: string;
}

function rowToPaper(r: PaperRow): Paper {
  const p: Paper = {
    id: r.id,
    date: r.date,
    title: r.title,
    abstract: r.abstract,
    authors: JSON.parse(r.authors) as string[],
    upvotes: r.upvotes,
    comments: r.comments,
  };
  // Rows stored by an older version may hold any link: what is shown is checked again here.
  Object.assign(p, safeLinks(r.github_url, r.project_url));
  if (r.ai_summary) p.aiSummary = r.ai_summary;
  if (r.ai_keywords) p.aiKeywords = JSON.parse(r.ai_keywords) as string[];
  return p;
}

/** Canonical hash of a whole record, independent of property order. */
function recordHash(p: Paper): string {
  return contentHash(
    JSON.stringify([
      p.id,
      p.date,
      p.title,
      p.abstract,
      p.authors,
      p.upvotes,
      p.comments,
      p.githubUrl ?? null,
      p.projectUrl ?? null,
      p.aiSummary ?? null,
      p.aiKeywords ?? null,
    ]),
  );
}

interface Sighting {
  paper: Paper;
  lastSeen: string;
}

/**
 * Fold a new sighting of a paper into what is known: the paper keeps the first day it was on the digest and the
 * counts and links of its most recent sighting (a later snapshot is fresher; the same day again replaces).
 */
function fold(prev: Sighting | undefined, next: Paper): Sighting {
  if (!prev) return { paper: next, lastSeen: next.date };
  // biome-ignore lint/complexity/useMathMinMax: the dates are YYYY-MM-DD strings, compared as strings
  const date = prev.paper.date < next.date ? prev.paper.date : next.date;
  if (prev.lastSeen > next.date) return { paper: { ...prev.paper, date }, lastSeen: prev.lastSeen };
  return { paper: { ...next, date }, lastSeen: next.date };
}

/**
 * Papers, their chunks and the lexical (FTS5 BM25) index, in SQLite. Every write is one transaction, so a crash
 * leaves the previous state; the vector index is reconciled against the chunks stored here.
 */
export class PaperStore extends SqliteStore {
  getMeta(key: string): string | undefined {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
      key,
      value,
    );
  }

  /** Add or update papers (sightings from any number of days) in one transaction. */
  upsertPapers(papers: Paper[]): Map<string, UpsertOutcome> {
    const outcomes = new Map<string, UpsertOutcome>();
    const select = this.stmt('SELECT * FROM papers WHERE id = ?');
    const insert = this.stmt(
      `INSERT INTO papers (id, date, title, abstract, authors, upvotes, comments, github_url, project_url, ai_summary,
         ai_keywords, last_seen, record_hash, updated_at)
       VALUES (@id, @date, @title, @abstract, @authors, @upvotes, @comments, @github_url, @project_url, @ai_summary,
         @ai_keywords, @last_seen, @record_hash, @updated_at)
       ON CONFLICT(id) DO UPDATE SET date = excluded.date, title = excluded.title, abstract = excluded.abstract,
         authors = excluded.authors, upvotes = excluded.upvotes, comments = excluded.comments,
         github_url = excluded.github_url, project_url = excluded.project_url, ai_summary = excluded.ai_summary,
         ai_keywords = excluded.ai_keywords, last_seen = excluded.last_seen, record_hash = excluded.record_hash,
         updated_at = excluded.updated_at
       RETURNING n`,
    );
    const delChunks = this.stmt('DELETE FROM chunks WHERE paper_id = ?');
    const insChunk = this.stmt('INSERT INTO chunks (id, paper_id, idx, text, hash) VALUES (?, ?, ?, ?, ?)');
    const delFts = this.stmt('DELETE FROM papers_fts WHERE rowid = ?');
    const insFts = this.stmt('INSERT INTO papers_fts (rowid, title, abstract, keywords, date) VALUES (?, ?, ?, ?, ?)');

    // Same-id sightings are folded in day order, so the result does not depend on the order of the input.
    const byId = new Map<string, Paper[]>();
    for (const p of papers) (byId.get(p.id) ?? byId.set(p.id, []).get(p.id)!).push(p);

    this.db.transaction(() => {
      const now = new Date().toISOString();
      for (const [id, sightings] of byId) {
        const row = select.get(id) as PaperRow | undefined;
        let state: Sighting | undefined = row ? { paper: rowToPaper(row), lastSeen: row.last_seen } : undefined;
        for (const s of [...sightings].sort((a, b) => a.date.localeCompare(b.date))) state = fold(state, s);
        const p = state!.paper;
        const hash = recordHash(p);
        if (row && row.record_hash === hash && row.last_seen === state!.lastSeen) {
          outcomes.set(id, 'unchanged');
          continue;
        }
        const r = insert.get({
          id: p.id,
          date: p.date,
          title: p.title,
          abstract: p.abstract,
          authors: JSON.stringify(p.authors),
          upvotes: p.upvotes,
          comments: p.comments,
          github_url: p.githubUrl ?? null,
          project_url: p.projectUrl ?? null,
          ai_summary: p.aiSummary ?? null,
          ai_keywords: p.aiKeywords ? JSON.stringify(p.aiKeywords) : null,
          last_seen: state!.lastSeen,
          record_hash: hash,
          updated_at: now,
        }) as { n: number };
        const textChanged = !row || row.title !== p.title || row.abstract !== p.abstract;
        if (textChanged) {
          delChunks.run(id);
          for (const c of chunkPaper(p)) insChunk.run(c.id, c.paperId, c.index, c.text, contentHash(c.text));
        }
        delFts.run(r.n);
        insFts.run(r.n, p.title, p.abstract, (p.aiKeywords ?? []).join(' ; '), p.date);
        // A moved `last_seen` alone (which snapshot we hold) changes nothing a reader sees.
        outcomes.set(id, !row ? 'added' : row.record_hash !== hash ? 'updated' : 'unchanged');
      }
    })();
    return outcomes;
  }

  get(id: string): Paper | undefined {
    const row = this.stmt('SELECT * FROM papers WHERE id = ?').get(id) as PaperRow | undefined;
    return row && rowToPaper(row);
  }

  getMany(ids: string[]): Map<string, Paper> {
    const out = new Map<string, Paper>();
    if (!ids.length) return out;
    const stmt = this.stmt(`SELECT * FROM papers WHERE id IN (SELECT value FROM json_each(?))`);
    for (const r of stmt.all(JSON.stringify(ids)) as PaperRow[]) out.set(r.id, rowToPaper(r));
    return out;
  }

  getChunks(ids: string[]): Map<string, Chunk> {
    const out = new Map<string, Chunk>();
    if (!ids.length) return out;
    const rows = this.db
      .prepare(`SELECT id, paper_id, idx, text FROM chunks WHERE id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(ids)) as { id: string; paper_id: string; idx: number; text: string }[];
    for (const r of rows) out.set(r.id, { id: r.id, paperId: r.paper_id, index: r.idx, text: r.text });
    return out;
  }

  chunksOf(paperId: string): Chunk[] {
    const rows = this.db
      .prepare('SELECT id, paper_id, idx, text FROM chunks WHERE paper_id = ? ORDER BY idx')
      .all(paperId) as { id: string; paper_id: string; idx: number; text: string }[];
    return rows.map((r) => ({ id: r.id, paperId: r.paper_id, index: r.idx, text: r.text }));
  }

  /** Every chunk with what the vector index must hold for it. */
  chunkRefs(): ChunkRef[] {
    return this.db
      .prepare('SELECT c.id, c.paper_id AS paperId, c.hash, p.date FROM chunks c JOIN papers p ON p.id = c.paper_id')
      .all() as ChunkRef[];
  }

  /** BM25 over title, abstract and HF keywords (title weighted up), best first; scores are positive. */
  lexicalSearch(query: string, k: number, range: DateRange = {}): { id: string; score: number }[] {
    const match = ftsMatchExpression(query);
    if (!match) return [];
    // Rank and filter inside FTS5, then look up ids for the top k only: joining before the LIMIT costs ~4x.
    const rows = this.stmt(
      `SELECT rowid, -bm25(papers_fts, 2.0, 1.0, 1.0) AS score FROM papers_fts
       WHERE papers_fts MATCH ? AND date >= ? AND date <= ?
       ORDER BY bm25(papers_fts, 2.0, 1.0, 1.0) LIMIT ?`,
    ).all(match, range.since ?? '0000-00-00', range.until ?? '9999-99-99', k) as {
      rowid: number;
      score: number;
    }[];
    if (!rows.length) return [];
    const idOf = this.stmt('SELECT id FROM papers WHERE n = ?').pluck();
    return rows.flatMap((r) => {
      const id = idOf.get(r.rowid) as string | undefined;
      return id ? [{ id, score: r.score }] : [];
    });
  }

  /** The latest digest day on or before `day` (default: the latest of all). */
  latestDay(day?: string): string | undefined {
    const row = this.stmt('SELECT MAX(date) AS d FROM papers WHERE date <= ?').get(day ?? '9999-99-99') as {
      d: string | null;
    };
    return row.d ?? undefined;
  }

  /** Papers of a digest-date range, most upvoted first. */
  papersBetween(range: DateRange, opts: { withCode?: boolean; limit?: number } = {}): Paper[] {
    const rows = this.stmt(
      `SELECT * FROM papers WHERE date >= ? AND date <= ? ${opts.withCode ? 'AND github_url IS NOT NULL' : ''}
       ORDER BY upvotes DESC, comments DESC, id LIMIT ?`,
    ).all(range.since ?? '0000-00-00', range.until ?? '9999-99-99', opts.limit ?? -1) as PaperRow[];
    return rows.map(rowToPaper);
  }

  /** Digest days on or after `since` that have papers, oldest first. */
  daysWithPapers(since = '0000-00-00'): string[] {
    return this.stmt('SELECT DISTINCT date FROM papers WHERE date >= ? ORDER BY date').pluck().all(since) as string[];
  }

  countBetween(range: DateRange): number {
    return (
      this.stmt('SELECT COUNT(*) AS n FROM papers WHERE date >= ? AND date <= ?').get(
        range.since ?? '0000-00-00',
        range.until ?? '9999-99-99',
      ) as { n: number }
    ).n;
  }

  /** Papers whose id or title contains `text` (case-insensitive), for autocomplete; title starts rank first. */
  findByTitle(text: string, limit = 25): Paper[] {
    const t = text.trim();
    if (!t) return this.papersBetween({ since: this.latestDay() }, { limit });
    const escaped = t.replace(/[\\%_]/g, (c) => `\\${c}`);
    const rows = this.stmt(
      `SELECT * FROM papers WHERE id = ? OR title LIKE ? ESCAPE '\\'
       ORDER BY (id = ?) DESC, (title LIKE ? ESCAPE '\\') DESC, date DESC LIMIT ?`,
    ).all(t, `%${escaped}%`, t, `${escaped}%`, limit) as PaperRow[];
    return rows.map(rowToPaper);
  }

  /** How many papers contain a term (FTS5's own tokenizer and stemmer), for idf weights. */
  docFreq(term: string): number {
    const match = ftsMatchExpression(term);
    if (!match) return 0;
    return (this.stmt('SELECT COUNT(*) AS n FROM papers_fts WHERE papers_fts MATCH ?').get(match) as { n: number }).n;
  }

  /**
   * Papers whose title or HF keywords contain every phrase of one of `alternatives` (each phrase consecutive
   * words, FTS5's stemmer: "video generators" contains "video generation"). Words are quoted, never FTS5 syntax.
   */
  papersAbout(alternatives: string[][][]): string[] {
    const alts = alternatives.filter((phrases) => phrases.length && phrases.every((w) => w.length));
    if (!alts.length) return [];
    const match = alts.map((phrases) => `({title keywords} : (${phrases.map(ftsPhrase).join(' AND ')}))`).join(' OR ');
    return this.stmt(`SELECT p.id FROM papers_fts f JOIN papers p ON p.n = f.rowid WHERE papers_fts MATCH ?`)
      .pluck()
      .all(match) as string[];
  }

  /** Which of the given papers contain `term` (same tokenizer and stemmer as BM25). */
  papersContaining(term: string, paperIds: string[]): Set<string> {
    const match = ftsMatchExpression(term);
    if (!match || !paperIds.length) return new Set();
    const rows = this.stmt(
      `SELECT p.id FROM papers_fts f JOIN papers p ON p.n = f.rowid
       WHERE papers_fts MATCH ? AND f.rowid IN (SELECT n FROM papers WHERE id IN (SELECT value FROM json_each(?)))`,
    )
      .pluck()
      .all(match, JSON.stringify(paperIds)) as string[];
    return new Set(rows);
  }

  stats(): StoreStats {
    const p = this.db
      .prepare(
        'SELECT COUNT(*) AS papers, COUNT(DISTINCT date) AS days, MIN(date) AS "from", MAX(date) AS "to" FROM papers',
      )
      .get() as { papers: number; days: number; from: string | null; to: string | null };
    const c = this.stmt('SELECT COUNT(*) AS chunks FROM chunks').get() as { chunks: number };
    return { papers: p.papers, chunks: c.chunks, days: p.days, from: p.from, to: p.to };
  }
}
