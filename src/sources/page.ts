import type { Paper, Skipped } from '../types.ts';
import { normalizeSpace } from '../text.ts';
import { titleId } from './normalize.ts';
import type { SourceBatch } from './files.ts';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Prose: a long paragraph, or one that ends with a full stop, or several sentences. Abstracts are prose; a
 * page's title and header lines are not ("Get trending papers in your email inbox!" is one exclamation).
 */
function isProse(block: string): boolean {
  const ends = /[.!?]["')\]]?$/.test(block);
  return block.length >= 200 || /\.["')\]]?$/.test(block) || (ends && /[.!?]\s+\S/.test(block));
}

/** A title is one short line that does not end like a clause ("?" and "!" are fine: titles ask and exclaim). */
function isTitle(block: string): boolean {
  return block.length > 0 && block.length <= 300 && !block.includes('\n') && !/[.,;:]$/.test(block);
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
  let current: { title: string; paras: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    papers.push({
      id: titleId(current.title),
      date: date ?? opts.today,
      title: current.title,
      abstract: current.paras.map(normalizeSpace).join('\n\n'),
      authors: [],
      upvotes: 0,
      comments: 0,
    });
    current = undefined;
  };
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!;
    const next = blocks[i + 1];
    if (!date && !papers.length && !current) date = parsePageDate(block, opts.today);
    // A title line followed by prose starts a paper; anything else after a paper's start belongs to its abstract
    // (a hard-wrapped or multi-paragraph abstract, a trailing "Code is available at ..." line).
    if (isTitle(block) && next !== undefined && isProse(next)) {
      flush();
      current = { title: normalizeSpace(block), paras: [] };
      continue;
    }
    if (current && (current.paras.length === 0 || !isTitle(block) || isProse(block))) {
      current.paras.push(block);
      continue;
    }
    if (papers.length || current) {
      skipped.push({ where: `${source}: "${block.slice(0, 60)}"`, reason: 'a title line with no abstract after it' });
    }
  }
  flush();
  const batch: SourceBatch = { source, papers, skipped };
  if (date) batch.day = date;
  return batch;
}
