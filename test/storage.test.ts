/**
 * Storage that heals or fails loudly: an empty database beside an index is refused; damaged vectors (wrong width,
 * nulls) are left out of search and re-embedded; `doctor` reports and repairs; backups are made and kept.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { checkHealth, describeHealth, repair } from '../src/doctor.ts';
import { backupDatabase, listBackups } from '../src/store/backup.ts';
import { StorageError } from '../src/store/database.ts';
import { haveModel, staticDir } from './helpers/shared.ts';
import { newEntry, TOPICS, writeDays } from './helpers/synthetic-days.ts';

let dir: string;
const open = () =>
  new App(
    loadConfig(
      { EMBEDDINGS_MODEL_DIR: staticDir, HF_ENDPOINT: 'http://127.0.0.1:9' },
      { dataDir: path.join(dir, 'data') },
    ),
  );

describe.skipIf(!haveModel)('storage that heals or fails loudly (needs the static model)', () => {
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'storage-'));
    const days = path.join(dir, 'days');
    await writeDays(days, { '2025-03-03': Object.values(TOPICS).map((t) => newEntry(t, '2025-03-03')) });
    const app = open();
    await app.ingestFrom(days);
    app.close();
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('an empty or missing database beside an index with papers is refused, not replaced by a fresh one', () => {
    const db = path.join(dir, 'data', 'digest.db');
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) writeFileSync(f, '');
    expect(() => open()).toThrow(StorageError);
    expect(() => open()).toThrow(
      /digest\.db is empty, but the vector index beside it holds papers.*Restore it from a backup/,
    );
    expect(statSync(db).size).toBe(0); // nothing was written over it
  });

  it('a damaged database is a clear error', () => {
    const db = path.join(dir, 'data', 'digest.db');
    for (const f of [`${db}-wal`, `${db}-shm`]) if (existsSync(f)) writeFileSync(f, '');
    writeFileSync(db, Buffer.alloc(8192, 7)); // garbage pages
    expect(() => open()).toThrow(/digest\.db is damaged .*restore the latest backup/);
  });

  it('damaged vectors are left out of search, reported by doctor and re-embedded by --repair', async () => {
    const file = path.join(dir, 'data', 'vectors', 'index.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as { items: { vector: unknown }[] };
    json.items[0]!.vector = [0.1, 0.2]; // the wrong width
    json.items[1]!.vector = json.items[1]!.vector && (json.items[1]!.vector as number[]).map(() => null); // nulls
    writeFileSync(file, JSON.stringify(json));
    const app = open();
    try {
      const hits = await (await app.retriever()).search('weather forecasting with graph networks', { k: 3 });
      expect(hits.length).toBeGreaterThan(0); // no "offset is out of bounds"
      const before = await checkHealth(app);
      expect(before.ok).toBe(false);
      expect(before.vectors).toMatchObject({ damaged: 2, missing: 2 });
      expect(describeHealth(before).join('\n')).toMatch(
        /2 missing, 2 damaged, 0 stale, 0 orphan; --repair re-embeds them/,
      );
      expect(await repair(app, before)).toEqual(['re-embedded 2 chunk(s) and dropped 0 orphan vector(s)']);
      const after = await checkHealth(app);
      expect(after.ok).toBe(true);
      expect(after.vectors.vectors).toBe(after.vectors.chunks);
    } finally {
      app.close();
    }
  });

  it('a broken BM25 index is found and rebuilt', async () => {
    const app = open();
    try {
      expect((await checkHealth(app)).lexical.ok).toBe(true);
      // Garbage in one of FTS5's shadow pages, as a torn write would leave (defensive mode off to write it).
      app.db.unsafeMode(true);
      app.db.exec("UPDATE papers_fts_data SET block = x'00ff00ff' WHERE id = (SELECT MAX(id) FROM papers_fts_data)");
      app.db.unsafeMode(false);
      const broken = await checkHealth(app);
      expect(broken.lexical.ok).toBe(false);
      expect(await repair(app, broken)).toContain('rebuilt the BM25 index from the papers');
      expect((await checkHealth(app)).lexical.ok).toBe(true);
      expect(app.store.lexicalSearch('weather', 5).length).toBeGreaterThan(0);
    } finally {
      app.close();
    }
  });

  it('backs up once a day and keeps the newest seven', async () => {
    const app = open();
    try {
      for (let d = 1; d <= 9; d++) {
        const now = new Date(`2025-04-${String(d).padStart(2, '0')}T03:15:00Z`);
        expect(await backupDatabase(app.db, app.config.dataDir, now)).toMatch(/digest-2025-04-0\d\.db$/);
        expect(await backupDatabase(app.db, app.config.dataDir, now)).toBeUndefined(); // once a day
      }
      const kept = listBackups(app.config.dataDir);
      expect(kept.map((b) => b.day)).toEqual([
        '2025-04-03',
        '2025-04-04',
        '2025-04-05',
        '2025-04-06',
        '2025-04-07',
        '2025-04-08',
        '2025-04-09',
      ]);
      // A backup is a whole database: it opens and holds the papers.
      const Database = (await import('better-sqlite3')).default;
      const b = new Database(kept.at(-1)!.file, { readonly: true });
      expect(b.prepare('SELECT COUNT(*) FROM papers').pluck().get()).toBe(Object.keys(TOPICS).length);
      b.close();
    } finally {
      app.close();
    }
  });
});
