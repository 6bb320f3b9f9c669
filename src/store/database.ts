import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UserFacingError } from '../errors.ts';

export type Db = Database.Database;

/** The BM25 index, (re)built from the papers table whatever shape it had (a migration, and `doctor --repair`). */
export const REBUILD_LEXICAL_INDEX = `DROP TABLE IF EXISTS papers_fts;
   CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, keywords, date UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2');
   INSERT INTO papers_fts (rowid, title, abstract, keywords, date)
     SELECT n, title, abstract, COALESCE((SELECT group_concat(value, ' ; ') FROM json_each(papers.ai_keywords)), ''), date FROM papers;`;

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
   CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, keywords, tokenize = 'porter unicode61 remove_diacritics 2');`,
  // Bot state: per-server highlight settings, the post ledger (exactly-once), notices for admins, fetch runs,
  // and topic subscriptions with what each user was already told.
  `CREATE TABLE guild_settings (
     guild_id TEXT PRIMARY KEY,
     channel_id TEXT NOT NULL,
     post_time TEXT NOT NULL,           -- HH:MM, local to time_zone
     time_zone TEXT NOT NULL,           -- IANA name
     count INTEGER NOT NULL DEFAULT 5,
     enabled INTEGER NOT NULL DEFAULT 1,
     -- Subscriptions: may matches be delivered in a channel of this server (with a mention) instead of by DM?
     subscription_channel_id TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE posts (
     guild_id TEXT NOT NULL,
     day TEXT NOT NULL,                 -- the digest day posted
     channel_id TEXT NOT NULL,
     status TEXT NOT NULL,              -- sending | sent | failed
     message_id TEXT,
     error TEXT,
     claimed_at TEXT NOT NULL,
     finished_at TEXT,
     PRIMARY KEY (guild_id, day)
   );
   CREATE TABLE admin_notices (
     id INTEGER PRIMARY KEY,
     guild_id TEXT NOT NULL,
     text TEXT NOT NULL,
     created_at TEXT NOT NULL,
     delivered_at TEXT
   );
   CREATE TABLE ingest_runs (
     id INTEGER PRIMARY KEY,
     day TEXT NOT NULL,
     started_at TEXT NOT NULL,
     finished_at TEXT,
     fetched INTEGER,
     added INTEGER,
     updated INTEGER,
     outcome TEXT NOT NULL,             -- running | ok | failed
     error TEXT
   );
   CREATE INDEX ingest_runs_day ON ingest_runs(day);
   CREATE TABLE subscribers (
     user_id TEXT PRIMARY KEY,
     paused INTEGER NOT NULL DEFAULT 0,
     delivery TEXT NOT NULL DEFAULT 'dm', -- dm | channel
     guild_id TEXT,                     -- for channel delivery
     dm_closed_at TEXT,                 -- set when Discord refused a DM (50007); cleared when the user is back
     notice TEXT,                       -- told to the user on their next command
     created_at TEXT NOT NULL
   );
   CREATE TABLE subscriptions (
     id INTEGER PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES subscribers(user_id) ON DELETE CASCADE,
     topic TEXT NOT NULL,               -- as the user wrote it
     created_at TEXT NOT NULL,
     UNIQUE (user_id, topic)
   );
   CREATE TABLE notified (
     user_id TEXT NOT NULL,
     paper_id TEXT NOT NULL,
     day TEXT NOT NULL,
     notified_at TEXT NOT NULL,
     PRIMARY KEY (user_id, paper_id)
   );
   CREATE TABLE deliveries (
     user_id TEXT NOT NULL,
     day TEXT NOT NULL,
     status TEXT NOT NULL,              -- sending | sent | failed
     message_id TEXT,
     error TEXT,
     claimed_at TEXT NOT NULL,
     PRIMARY KEY (user_id, day)
   );`,
  // The lexical index keeps each paper's digest day (unindexed), so date-range searches filter inside FTS5
  // without a join. Rebuilt from the papers table, whatever shape it had.
  REBUILD_LEXICAL_INDEX,
  // Subscription delivery as durable state: each complete digest day is queued before its fetch is recorded and
  // stays pending until every message of it is finished; a transient failure is retried later (status 'retry').
  `ALTER TABLE deliveries ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE deliveries ADD COLUMN next_attempt_at TEXT;
   CREATE TABLE subscription_days (
     day TEXT PRIMARY KEY,
     status TEXT NOT NULL,              -- pending | done
     queued_at TEXT NOT NULL,
     finished_at TEXT
   );`,
];

/** The database is missing, empty or damaged; the message says what to do. */
export class StorageError extends UserFacingError {
  override name = 'StorageError';
}

/**
 * Open (creating if needed) the bot's SQLite database and bring its schema up to date. With `expectExisting`
 * (the vector index beside it holds chunks), a missing or empty file is refused instead of starting fresh: it
 * would silently drop every setting, subscription and ledger. A damaged file is a clear error.
 */
export function openDatabase(file: string, opts: { expectExisting?: boolean } = {}): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  if (opts.expectExisting && file !== ':memory:' && (!existsSync(file) || statSync(file).size === 0)) {
    throw new StorageError(
      `The database ${file} is ${existsSync(file) ? 'empty' : 'missing'}, but the vector index beside it holds papers: ` +
        'starting fresh would lose every server setting, subscription and delivery record. Restore it from a backup ' +
        `(${path.join(path.dirname(file), 'backups')}; see "Operations" in the README), or, to really start over, move the ` +
        `vectors folder (${path.join(path.dirname(file), 'vectors')}) away.`,
    );
  }
  let db: Db;
  try {
    db = openAndMigrate(file);
  } catch (err) {
    if (err instanceof StorageError) throw err;
    const e = err as { code?: string; message?: string };
    if (
      /^SQLITE_(CORRUPT|NOTADB)/.test(e.code ?? '') ||
      /malformed|not a database|vtable constructor failed/i.test(e.message ?? '')
    ) {
      throw new StorageError(
        `The database ${file} is damaged (${e.message}). Stop the bot, then restore the latest backup from ` +
          `${path.join(path.dirname(file), 'backups')} (see "Operations" in the README), or run \`npm run cli -- doctor\` to see what is wrong.`,
      );
    }
    throw err;
  }
  return db;
}

function openAndMigrate(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL'); // readers never block the writer; a crash rolls back cleanly
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Migrations run under the write lock, the version read again inside it: two processes opening a new data dir
  // at once (a CLI command beside a starting bot) wait for each other instead of both creating the tables.
  const migrate = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new StorageError(
        `${file} was written by a newer version of this bot (schema ${version}, this one knows ${MIGRATIONS.length}). Update the bot.`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  try {
    migrate.immediate();
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
