import type { Paper, Skipped } from '../types.ts';
import { normalizeSpace } from '../text.ts';
import { titleId } from './normalize.ts';
import type { SourceBatch } from './files.ts';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** A paragraph reads as an abstract when it is long prose with at least one sentence end. */
function isAbstract(block: string): boolean {
  return block.length >= 200 && /[.!?]/.test(block);
}

/** A title is one short line without a trailing period. */
function isTitle(block: string): boolean {
  return block.length > 0 && block.length <= 300 && !block.includes('\n') && !/[.!?:,;]$/.test(block);
}

/**
 * The page's own date line ("Jul 29", "Jul 29, 2025", "2025-07-29"). Without a year it is the latest such day
 * on or before `today`.
 */
export function parsePageDate(line: string, today: string): string | undefined {
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(line.trim());
  if (iso) return line.trim();
  const m = /^([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})(?:,?\s+(\d{4}))?$/.exec(line.trim());
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]!.toLowerCase());
  if (month < 0) return undefined;
  const day = Number(m[2]);
  const pad = (n: number) => String(n).padStart(2, '0');
  const make = (y: number) => `${y}-${pad(month + 1)}-${pad(day)}`;
  if (m[3]) return make(Number(m[3]));
  const year = Number(today.slice(0, 4));
  return make(year) <= today ? make(year) : make(year - 1);
}

/**
 * Papers from the text of a Daily Papers web page as a person copies it: header lines, then each paper as a
 * title line followed by its abstract paragraph. Such papers have no arXiv id; their id derives from the title.
 * `date` overrides the page's own date line.
 */
export function papersFromPageText(source: string, text: string, opts: { date?: string; today: string }): SourceBatch {
  const blocks = text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter(Boolean);
  let date = opts.date;
  const papers: Paper[] = [];
  const skipped: Skipped[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!;
    if (!date && papers.length === 0) date = parsePageDate(block, opts.today);
    const next = blocks[i + 1];
    if (isTitle(block) && next !== undefined && isAbstract(next)) {
      // A hard-wrapped abstract spans lines; further paragraphs belong to it until the next title.
      const paras = [next];
      let j = i + 2;
      while (j < blocks.length && isAbstract(blocks[j]!) && !(isTitle(blocks[j]!) && blocks[j + 1] && isAbstract(blocks[j + 1]!))) {
        paras.push(blocks[j]!);
        j++;
      }
      const title = normalizeSpace(block);
      papers.push({
        id: titleId(title),
        date: date ?? opts.today,
        title,
        abstract: paras.map(normalizeSpace).join('\n\n'),
        authors: [],
        upvotes: 0,
        comments: 0,
      });
      i = j - 1;
    } else if (papers.length > 0 && isTitle(block) && (next === undefined || isTitle(next))) {
      skipped.push({ where: `${source}: "${block.slice(0, 60)}"`, reason: 'a title line with no abstract after it' });
    }
  }
  const batch: SourceBatch = { source, papers, skipped };
  if (date) batch.day = date;
  return batch;
}
