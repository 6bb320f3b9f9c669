import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkPaper } from '../src/index/chunk.ts';
import { ftsMatchExpression } from '../src/index/lexical-query.ts';
import { openDatabase, type Db } from '../src/store/database.ts';
import { PaperStore } from '../src/store/paper-store.ts';
import type { Paper } from '../src/types.ts';
import { longAbstract, TOPICS, type TopicKey, topicPaper } from './helpers/synthetic-days.ts';

let work: string;
let dbFile: string;
let db: Db;
let store: PaperStore;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'store-'));
  dbFile = path.join(work, 'data', 'digest.db');
  db = openDatabase(dbFile);
  store = new PaperStore(db);
});
afterEach(async () => {
  if (db.open) db.close();
  await rm(work, { recursive: true, force: true });
});

const paper = topicPaper;

const ALL = (date = '2025-03-03'): Paper[] => (Object.keys(TOPICS) as TopicKey[]).map((k) => paper(k, date));

type Row = {
  id: string;
  date: string;
  upvotes: number;
  comments: number;
  last_seen: string;
  updated_at: string;
  record_hash: string;
};
const row = (id: string) => db.prepare('SELECT * FROM papers WHERE id = ?').get(id) as Row | undefined;
const chunkRows = (id: string) =>
  db.prepare('SELECT id, idx, text, hash FROM chunks WHERE paper_id = ? ORDER BY idx').all(id) as {
    id: string;
    idx: number;
    text: string;
    hash: string;
  }[];
const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
const ids = (hits: { id: string }[]) => hits.map((h) => h.id);

describe('PaperStore.upsertPapers', () => {
  it('adds papers with their chunks and lexical rows', () => {
    const out = store.upsertPapers(ALL());
    expect([...out.values()]).toEqual(Array(8).fill('added'));
    expect(count('papers')).toBe(8);
    expect(count('papers_fts')).toBe(8);
    expect(count('chunks')).toBe(ALL().reduce((n, p) => n + chunkPaper(p).length, 0));
    const p = store.get(TOPICS.draft.id)!;
    expect(p).toEqual(paper('draft', '2025-03-03'));
    expect(store.chunksOf(TOPICS.draft.id).map((c) => c.text)).toEqual(chunkPaper(p).map((c) => c.text));
    expect(store.stats()).toEqual({
      papers: 8,
      chunks: count('chunks'),
      days: 1,
      from: '2025-03-03',
      to: '2025-03-03',
    });
  });

  it('is idempotent: the same input twice leaves everything unchanged, byte for byte', () => {
    store.upsertPapers(ALL());
    const before = {
      papers: db.prepare('SELECT * FROM papers ORDER BY id').all(),
      chunks: db.prepare('SELECT * FROM chunks ORDER BY id').all(),
      fts: db.prepare('SELECT rowid, * FROM papers_fts ORDER BY rowid').all(),
    };
    const out = store.upsertPapers(ALL());
    expect([...out.values()]).toEqual(Array(8).fill('unchanged'));
    expect(db.prepare('SELECT * FROM papers ORDER BY id').all()).toEqual(before.papers); // updated_at untouched too
    expect(db.prepare('SELECT * FROM chunks ORDER BY id').all()).toEqual(before.chunks);
    expect(db.prepare('SELECT rowid, * FROM papers_fts ORDER BY rowid').all()).toEqual(before.fts);
  });

  it('property order and a reopened database do not matter', () => {
    store.upsertPapers(ALL());
    db.close();
    db = openDatabase(dbFile);
    store = new PaperStore(db);
    const shuffled = ALL()
      .map((p) => Object.fromEntries(Object.entries(p).reverse()) as unknown as Paper)
      .reverse();
    expect([...store.upsertPapers(shuffled).values()]).toEqual(Array(8).fill('unchanged'));
  });

  it('a changed abstract is "updated" and its chunks are replaced (old chunk ids gone)', () => {
    const long = paper('protein', '2025-03-03', { abstract: longAbstract('protein folding') });
    store.upsertPapers([long, paper('draft', '2025-03-03')]);
    const old = chunkRows(long.id);
    expect(old.length).toBeGreaterThanOrEqual(3);
    const draftChunks = chunkRows(TOPICS.draft.id);

    const short = paper('protein', '2025-03-03', {
      abstract: 'A rewritten abstract about amyloid aggregation kinetics. It is short.',
    });
    const out = store.upsertPapers([short, paper('draft', '2025-03-03')]);
    expect(out.get(long.id)).toBe('updated');
    expect(out.get(TOPICS.draft.id)).toBe('unchanged');
    const now = chunkRows(long.id);
    expect(now.map((c) => c.id)).toEqual([`${long.id}#0`]);
    expect(now[0]!.text).toBe(`${short.title}. ${short.abstract}`);
    expect(now[0]!.text).not.toBe(old[0]!.text);
    expect(now[0]!.hash).not.toBe(old[0]!.hash);
    const gone = old.slice(1).map((c) => c.id);
    expect(store.getChunks(gone).size).toBe(0);
    expect(store.chunkRefs().map((r) => r.id)).not.toEqual(expect.arrayContaining(gone));
    expect(chunkRows(TOPICS.draft.id)).toEqual(draftChunks); // the other paper's chunks are untouched
    // The lexical index follows the new text.
    expect(ids(store.lexicalSearch('amyloid aggregation', 10))).toEqual([long.id]);
    expect(ids(store.lexicalSearch('steady gain configuration', 10))).toEqual([]);
    expect(count('papers_fts')).toBe(2);
  });

  it('a changed title also replaces the chunks; a change of counts only keeps them', () => {
    store.upsertPapers([paper('grasp', '2025-03-03')]);
    const before = chunkRows(TOPICS.grasp.id);
    expect(store.upsertPapers([paper('grasp', '2025-03-03', { upvotes: 99, comments: 4 })]).get(TOPICS.grasp.id)).toBe(
      'updated',
    );
    expect(chunkRows(TOPICS.grasp.id)).toEqual(before);
    expect(store.get(TOPICS.grasp.id)).toMatchObject({ upvotes: 99, comments: 4 });
    store.upsertPapers([paper('grasp', '2025-03-03', { title: 'A Renamed Gripper Paper' })]);
    expect(chunkRows(TOPICS.grasp.id).every((c) => c.text.startsWith('A Renamed Gripper Paper.'))).toBe(true);
    expect(ids(store.lexicalSearch('renamed gripper', 5))).toEqual([TOPICS.grasp.id]);
  });

  describe('the same paper on two days', () => {
    const early = () => paper('weather', '2025-03-03', { upvotes: 2, comments: 0 });
    const late = () =>
      paper('weather', '2025-03-07', { upvotes: 40, comments: 6, githubUrl: 'https://github.com/example/wx' });
    const expected = { date: '2025-03-03', upvotes: 40, comments: 6, githubUrl: 'https://github.com/example/wx' };

    it.each([
      ['one call, late first', [[late(), early()]]],
      ['one call, early first', [[early(), late()]]],
      ['late day, then early day', [[late()], [early()]]],
      ['early day, then late day', [[early()], [late()]]],
    ])('%s: one paper with the earlier date and the later counts', (_name, calls) => {
      for (const c of calls) store.upsertPapers(c);
      expect(count('papers')).toBe(1);
      expect(store.get(TOPICS.weather.id)).toMatchObject(expected);
      expect(row(TOPICS.weather.id)!.last_seen).toBe('2025-03-07');
      // Seeing either day again changes nothing.
      expect(store.upsertPapers([early()]).get(TOPICS.weather.id)).toBe('unchanged');
      expect(store.upsertPapers([late()]).get(TOPICS.weather.id)).toBe('unchanged');
      expect(store.get(TOPICS.weather.id)).toMatchObject(expected);
      expect(store.stats()).toMatchObject({ papers: 1, days: 1, from: '2025-03-03', to: '2025-03-03' });
      expect(new Set(store.chunkRefs().map((r) => r.date))).toEqual(new Set(['2025-03-03']));
    });

    it('the same day seen again with fresher counts replaces them', () => {
      store.upsertPapers([early()]);
      expect(store.upsertPapers([paper('weather', '2025-03-03', { upvotes: 5 })]).get(TOPICS.weather.id)).toBe(
        'updated',
      );
      expect(store.get(TOPICS.weather.id)!.upvotes).toBe(5);
    });
  });
});

describe('PaperStore.lexicalSearch', () => {
  beforeEach(() => {
    const days: Record<TopicKey, string> = {
      draft: '2025-03-03',
      protein: '2025-03-03',
      grasp: '2025-03-04',
      weather: '2025-03-04',
      music: '2025-03-05',
      tumor: '2025-03-06',
      speech: '2025-03-07',
      code: '2025-03-10',
    };
    store.upsertPapers((Object.keys(TOPICS) as TopicKey[]).map((k) => paper(k, days[k])));
  });

  it('finds papers by title, abstract and HF keywords words, best first, positive scores', () => {
    expect(ids(store.lexicalSearch('icosahedral', 5))).toEqual([TOPICS.weather.id]); // title + abstract
    expect(ids(store.lexicalSearch('edema', 5))).toEqual([TOPICS.tumor.id]); // abstract only
    expect(ids(store.lexicalSearch('speculative', 5))).toEqual([TOPICS.draft.id]); // keywords only
    const hits = store.lexicalSearch('piano melody chord', 5);
    expect(hits[0]!.id).toBe(TOPICS.music.id);
    expect(hits.every((h) => h.score > 0)).toBe(true);
    for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
  });

  it('stems (porter) and folds case and diacritics', () => {
    expect(ids(store.lexicalSearch('FORECASTS', 5))).toEqual([TOPICS.weather.id]);
    expect(ids(store.lexicalSearch('grasped', 5))).toEqual([TOPICS.grasp.id]);
    expect(ids(store.lexicalSearch('rèpositóry', 5))).toEqual([TOPICS.code.id]);
  });

  it('weights the title above the abstract', () => {
    store.upsertPapers([
      {
        id: '2503.00901',
        date: '2025-03-03',
        title: 'Tokenizers',
        abstract: 'An abstract about compression of vocabularies for many scripts.',
        authors: [],
        upvotes: 0,
        comments: 0,
      },
      {
        id: '2503.00902',
        date: '2025-03-03',
        title: 'Vocabulary compression',
        abstract: 'An abstract that mentions tokenizers once among many other words.',
        authors: [],
        upvotes: 0,
        comments: 0,
      },
    ]);
    expect(ids(store.lexicalSearch('tokenizers', 5)).filter((id) => id.startsWith('2503.009'))).toEqual([
      '2503.00901',
      '2503.00902',
    ]);
  });

  it('honours inclusive date ranges and k', () => {
    const q = 'network networks model models';
    const all = ids(store.lexicalSearch(q, 50));
    expect(all.length).toBeGreaterThanOrEqual(5);
    const inRange = ids(store.lexicalSearch(q, 50, { since: '2025-03-04', until: '2025-03-06' }));
    expect(inRange.length).toBeGreaterThan(0);
    for (const id of inRange)
      expect(store.get(id)!.date >= '2025-03-04' && store.get(id)!.date <= '2025-03-06').toBe(true);
    expect(inRange).toEqual(
      all.filter((id) => store.get(id)!.date >= '2025-03-04' && store.get(id)!.date <= '2025-03-06'),
    );
    expect(ids(store.lexicalSearch('icosahedral', 5, { since: '2025-03-04', until: '2025-03-04' }))).toEqual([
      TOPICS.weather.id,
    ]);
    expect(ids(store.lexicalSearch('icosahedral', 5, { since: '2025-03-05' }))).toEqual([]);
    expect(ids(store.lexicalSearch('icosahedral', 5, { until: '2025-03-03' }))).toEqual([]);
    expect(ids(store.lexicalSearch('repository', 5, { since: '2025-03-10' }))).toEqual([TOPICS.code.id]);
    expect(store.lexicalSearch(q, 2)).toHaveLength(2);
  });

  it.each([
    ['"', []],
    ['"protein', [TOPICS.protein.id]],
    ['protein"', [TOPICS.protein.id]],
    ['protein AND', [TOPICS.protein.id]],
    ['AND OR NOT', []],
    ['NEAR(protein grasp', [TOPICS.protein.id, TOPICS.grasp.id]],
    ['NEAR(protein, 2)', [TOPICS.protein.id]],
    ['prot*', []],
    ['*', []],
    ['title:protein', [TOPICS.protein.id]],
    ['abstract:icosahedral', [TOPICS.weather.id]],
    ['{title abstract}: piano', [TOPICS.music.id]],
    ['-protein', [TOPICS.protein.id]],
    ['^protein', [TOPICS.protein.id]],
    ['protein + grasp', [TOPICS.protein.id, TOPICS.grasp.id]],
    ["robot's gripper", [TOPICS.grasp.id]],
    ['🧬 protein 🤖', [TOPICS.protein.id]],
    ['🧬🤖', []],
    ['', []],
    ['   \n\t ', []],
    ['what papers are there?', []],
    ['(((', []],
    ["'", []],
    ['""protein""', [TOPICS.protein.id]],
  ])('is safe against FTS5 syntax in user input: %j', (query, expected) => {
    const hits = store.lexicalSearch(query, 10);
    expect(new Set(ids(hits))).toEqual(new Set(expected));
  });

  it('a very long query is capped, not rejected', () => {
    const q = `${Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ')} icosahedral`;
    expect(() => store.lexicalSearch(q, 5)).not.toThrow();
    expect(ftsMatchExpression(q)!.split(' OR ')).toHaveLength(32);
  });
});

describe('openDatabase', () => {
  it('creates the folder, enables WAL and foreign keys, and reopens an existing database', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(1);
    store.upsertPapers(ALL());
    db.close();
    db = openDatabase(dbFile);
    expect(new PaperStore(db).stats().papers).toBe(8);
  });

  it('a database created by the first released schema (0.1.0) still works after an upgrade', () => {
    // The schema exactly as commit 09c9bbf created it (user_version 1). Migrations must be appended, never edited:
    // a data folder made by that version must keep working.
    db.close();
    const legacyFile = path.join(work, 'legacy.db');
    const raw = new Database(legacyFile);
    raw.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE papers (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, date TEXT NOT NULL, title TEXT NOT NULL,
        abstract TEXT NOT NULL, authors TEXT NOT NULL, upvotes INTEGER NOT NULL, comments INTEGER NOT NULL, github_url TEXT,
        project_url TEXT, ai_summary TEXT, ai_keywords TEXT, last_seen TEXT NOT NULL, record_hash TEXT NOT NULL,
        updated_at TEXT NOT NULL);
      CREATE INDEX papers_date ON papers(date);
      CREATE TABLE chunks (id TEXT PRIMARY KEY, paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL, text TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE INDEX chunks_paper ON chunks(paper_id);
      CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, keywords, tokenize = 'porter unicode61 remove_diacritics 2');
      PRAGMA user_version = 1;`);
    raw.close();

    db = openDatabase(legacyFile);
    store = new PaperStore(db);
    expect([...store.upsertPapers(ALL()).values()]).toEqual(Array(8).fill('added'));
    expect(ids(store.lexicalSearch('icosahedral', 5))).toEqual([TOPICS.weather.id]);
    expect(ids(store.lexicalSearch('icosahedral', 5, { since: '2025-03-04' }))).toEqual([]);
  });

  it('refuses a database written by a newer schema, with a clear message', () => {
    db.close();
    const raw = new Database(dbFile);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openDatabase(dbFile)).toThrow(
      /written by a newer version of this bot \(schema 99, this one knows \d+\)\. Update the bot/,
    );
  });
});
