import { createHash } from 'node:crypto';
import type { Chunk, Paper } from '../types.ts';
import { splitSentences } from '../sentences.ts';

/** About how many abstract words go into one chunk (a static model's mean dilutes on long windows). */
const TARGET_WORDS = 90;

/**
 * Cut a paper into chunks of whole sentences, each prefixed with the title so every chunk is
 * self-describing when it is retrieved alone.
 */
export function chunkPaper(paper: Paper): Chunk[] {
  const sentences = splitSentences(paper.abstract);
  const windows: string[][] = [];
  let cur: string[] = [];
  let count = 0;
  for (const s of sentences) {
    const n = s.split(' ').length;
    if (cur.length && count + n > TARGET_WORDS) {
      windows.push(cur);
      cur = [];
      count = 0;
    }
    cur.push(s);
    count += n;
  }
  if (cur.length) windows.push(cur);
  // A short tail would be a weak chunk on its own: fold it into the previous window.
  const last = windows[windows.length - 1];
  if (windows.length > 1 && last && last.join(' ').split(' ').length < TARGET_WORDS / 3) {
    windows.pop();
    windows[windows.length - 1]!.push(...last);
  }
  if (!windows.length) windows.push([]);
  return windows.map((w, index) => ({
    id: `${paper.id}#${index}`,
    paperId: paper.id,
    index,
    text: w.length ? `${paper.title}. ${w.join(' ')}` : paper.title,
  }));
}

/** Short content hash, used to tell whether a stored chunk or paper changed. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
