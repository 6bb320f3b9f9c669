import { UserFacingError } from '../errors.ts';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Paper, Skipped } from '../types.ts';
import { EntryError, paperFromApiEntry } from './normalize.ts';

/** Papers read from one source file, with what was skipped and why. */
export interface SourceBatch {
  /** The file (or URL) the papers came from. */
  source: string;
  /** The digest day, when the source is one day. */
  day?: string;
  papers: Paper[];
  skipped: Skipped[];
}

/** A file that could not be read at all (malformed JSON, not an API response). */
export class SourceFileError extends UserFacingError {
  override name = 'SourceFileError';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.json$/;

/** Normalize the entries of one API response (a day's list) into papers; bad entries are skipped and counted. */
export function papersFromApiResponse(source: string, json: unknown, day?: string): SourceBatch {
  // The API returns an array; one historical capture wrapped it as {status, date, count, data}.
  const entries = Array.isArray(json)
    ? json
    : typeof json === 'object' && json !== null && Array.isArray((json as { data?: unknown }).data)
      ? (json as { data: unknown[] }).data
      : undefined;
  if (!entries)
    throw new SourceFileError(source, 'is not a Daily Papers API response (expected a JSON array of entries)');
  const batch: SourceBatch = { source, papers: [], skipped: [] };
  if (day) batch.day = day;
  entries.forEach((entry, i) => {
    try {
      if (typeof entry === 'string')
        throw new EntryError('entry is a string, not an object (a Python repr of the entry?)');
      batch.papers.push(paperFromApiEntry(entry, day));
    } catch (err) {
      if (!(err instanceof EntryError)) throw err;
      batch.skipped.push({ where: `${source} entry ${i + 1}`, reason: err.message });
    }
  });
  return batch;
}

/** Read one saved API response file. A `YYYY-MM-DD.json` name gives the digest day. */
export async function readApiFile(file: string): Promise<SourceBatch> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SourceFileError(
      file,
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SourceFileError(file, `is not valid JSON (${(err as Error).message})`);
  }
  return papersFromApiResponse(file, json, DAY_FILE.exec(path.basename(file))?.[1]);
}

/**
 * The day files of a folder (`YYYY-MM-DD.json`, in date order), or the one file given. Other files in a folder
 * are ignored, so a folder may also hold a README or a licence.
 */
export async function listApiFiles(fileOrDir: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(fileOrDir);
  } catch {
    throw new SourceFileError(fileOrDir, 'does not exist');
  }
  if (!info.isDirectory()) return [fileOrDir];
  const names = (await readdir(fileOrDir)).filter((n) => DAY_FILE.test(n)).sort();
  if (!names.length) throw new SourceFileError(fileOrDir, 'holds no YYYY-MM-DD.json day files');
  return names.map((n) => path.join(fileOrDir, n));
}
