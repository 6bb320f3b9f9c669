/**
 * Backups of the bot's state (papers, settings, subscriptions, ledgers): SQLite's online backup into
 * `<data>/backups/digest-YYYY-MM-DD.db`, at most one a day, the newest `keep` kept. Restoring is a file copy while
 * the bot is stopped (README, "Operations"); the vectors are reconciled with the restored chunks by the next ingest
 * or `doctor --repair`.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Db } from './database.ts';

const NAME = /^digest-(\d{4}-\d{2}-\d{2})\.db$/;

export function backupsDir(dataDir: string): string {
  return path.join(dataDir, 'backups');
}

/** The backups present, oldest first. */
export function listBackups(dataDir: string): { day: string; file: string }[] {
  let names: string[];
  try {
    names = readdirSync(backupsDir(dataDir));
  } catch {
    return [];
  }
  return names
    .flatMap((n) => {
      const m = NAME.exec(n);
      return m ? [{ day: m[1]!, file: path.join(backupsDir(dataDir), n) }] : [];
    })
    .sort((a, b) => a.day.localeCompare(b.day));
}

/** Today's backup if there is none yet (the newest `keep` are kept); returns its file, or undefined if it existed. */
export async function backupDatabase(db: Db, dataDir: string, now: Date, keep = 7): Promise<string | undefined> {
  const day = now.toISOString().slice(0, 10);
  const existing = listBackups(dataDir);
  if (existing.some((b) => b.day === day)) return undefined;
  mkdirSync(backupsDir(dataDir), { recursive: true });
  const file = path.join(backupsDir(dataDir), `digest-${day}.db`);
  const tmp = `${file}.partial`;
  await db.backup(tmp); // online: readers and the writer go on meanwhile
  renameSync(tmp, file);
  for (const old of listBackups(dataDir).slice(0, -keep)) rmSync(old.file, { force: true });
  return file;
}
