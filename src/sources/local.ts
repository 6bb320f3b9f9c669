import { readFile } from 'node:fs/promises';
import { todayUtc } from '../dates.ts';
import { listApiFiles, readApiFile, SourceFileError, type SourceBatch } from './files.ts';
import { papersFromPageText } from './page.ts';

/**
 * The batches of a local path, whatever it is: a folder of API day files, one API response, or the text of a
 * Daily Papers page as a person copies it. One unreadable day file among many is reported through `onSkipped`
 * and the others are read; a single bad file is an error.
 */
export async function readLocalSource(
  from: string,
  opts: { pageDate?: string; onSkipped?: (message: string) => void } = {},
): Promise<SourceBatch[]> {
  const files = await listApiFiles(from);
  const batches: SourceBatch[] = [];
  for (const file of files) {
    try {
      if (files.length === 1 && !file.endsWith('.json')) {
        const text = await readFile(file, 'utf8');
        if (!/^\s*[[{]/.test(text)) {
          const batch = papersFromPageText(file, text, { date: opts.pageDate, today: todayUtc() });
          if (!batch.papers.length)
            throw new SourceFileError(
              file,
              'has no papers: expected JSON from the Daily Papers API, or the text of a Daily Papers page (a title line, then its abstract)',
            );
          batches.push(batch);
          continue;
        }
      }
      batches.push(await readApiFile(file));
    } catch (err) {
      if (!(err instanceof SourceFileError) || files.length === 1) throw err;
      opts.onSkipped?.(err.message); // one bad day file must not stop the other 255
    }
  }
  return batches;
}
