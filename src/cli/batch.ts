import { readFile } from 'node:fs/promises';
import { UsageError } from './ingest.ts';

/** The non-empty lines of a `--batch` file, or a clear error naming it. */
export async function readBatchFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--batch ${file}: cannot read it (${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}). Give a text file with one line per query.`,
    );
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}
