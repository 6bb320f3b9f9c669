import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append, never edit:
 * a database created by an older version is brought forward on open.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE papers (
     n INTEGER PRIMARY KEY,             -- rowid shared with papers_fts
     id TEXT NOT NULL UNIQUE,
     date TEXT NOT NULL,
     title TEXT NOT NULL,
     abstract TEXT NOT NULL,
     authors TEXT NOT NULL,             -- JSON array
     upvotes INTEGER NOT NULL,
     comments INTEGER NOT NULL,
     github_url TEXT,
     project_url TEXT,
     ai_summary TEXT,
     ai_keywords TEXT,                  -- JSON array or NULL
     last_seen TEXT NOT NULL,           -- latest digest day it was seen on: whose counts the record holds
     record_hash TEXT NOT NULL,         -- hash of the whole record: tells "updated" from "unchanged"
     updated_at TEXT NOT NULL
   );
   CREATE INDEX papers_date ON papers(date);
   CREATE TABLE chunks (
     id TEXT PRIMARY KEY,               -- <paper id>#<index>
     paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     text TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE INDEX chunks_paper ON chunks(paper_id);
   -- date is stored unindexed so date-range searches filter inside FTS5 without a join
   CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, keywords, date UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2');`,
];

/** Open (creating if needed) the bot's SQLite database and bring its schema up to date. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL'); // readers never block the writer; a crash rolls back cleanly
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    db.close();
    throw new Error(
      `${file} was written by a newer version of this bot (schema ${version}, this one knows ${MIGRATIONS.length}). Update the bot.`,
    );
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
