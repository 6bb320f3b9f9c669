import { safeLinks } from './links.ts';
import { createHash } from 'node:crypto';
import type { Paper } from '../types.ts';
import { collapseHardWraps, normalizeSpace, stripUnsafe } from '../text.ts';

/** Why an API entry could not become a paper; the caller adds where it came from. */
export class EntryError extends Error {}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ARXIV_ID = /^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?\/\d{7})(?:v\d+)?$/;

/** Stable id for a paper known only by its title (copied web pages): a hash of the normalized title. */
export function titleId(title: string): string {
  const key = normalizeSpace(title).toLowerCase();
  return `title-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

export function isArxivId(id: string): boolean {
  return ARXIV_ID.test(id);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A non-empty string field, without the control, bidi and lone-surrogate characters that must never be echoed. */
const str = (v: unknown): string | undefined => {
  const t = typeof v === 'string' ? stripUnsafe(v) : '';
  return t.trim() ? t : undefined;
};
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * One entry of `GET /api/daily_papers` (any of its historical shapes) to a `Paper`.
 * `day` is the digest day when the caller knows it (the day file's name or the requested date); otherwise the
 * entry's `paper.submittedOnDailyAt` is used. The top-level `publishedAt` is never used: its meaning changed.
 */
export function paperFromApiEntry(entry: unknown, day?: string): Paper {
  if (!isObj(entry)) throw new EntryError('entry is not an object');
  const p = isObj(entry.paper) ? entry.paper : entry; // tolerate a bare paper object
  const id = str(p.id)?.trim();
  if (!id) throw new EntryError('entry has no paper.id');
  const title = normalizeSpace(str(entry.title) ?? str(p.title) ?? '');
  if (!title) throw new EntryError(`paper ${id} has no title`);
  const abstract = collapseHardWraps(str(p.summary) ?? str(entry.summary) ?? '');
  if (!abstract) throw new EntryError(`paper ${id} has no abstract`);
  const submitted = str(p.submittedOnDailyAt)?.slice(0, 10);
  const date = day ?? submitted;
  if (!date || !DAY.test(date)) {
    throw new EntryError(
      `paper ${id} has no digest date (name the file YYYY-MM-DD.json or keep paper.submittedOnDailyAt)`,
    );
  }
  const authors = Array.isArray(p.authors)
    ? p.authors.flatMap((a) => (isObj(a) && str(a.name) ? [normalizeSpace(a.name as string)] : []))
    : [];
  const keywords = Array.isArray(p.ai_keywords)
    ? p.ai_keywords.filter((k): k is string => typeof k === 'string' && k.trim() !== '').map(normalizeSpace)
    : [];
  const paper: Paper = {
    id,
    date,
    title,
    abstract,
    authors,
    upvotes: num(p.upvotes),
    comments: num(entry.numComments),
  };
  Object.assign(paper, safeLinks(p.githubRepo, p.projectPage));
  const summary = str(p.ai_summary);
  if (summary) paper.aiSummary = normalizeSpace(summary);
  if (keywords.length) paper.aiKeywords = keywords;
  return paper;
}

/** Links a person can follow for a paper. */
export function paperUrl(p: Pick<Paper, 'id' | 'title'>): string {
  return isArxivId(p.id)
    ? `https://huggingface.co/papers/${p.id}`
    : `https://huggingface.co/papers?q=${encodeURIComponent(p.title)}`;
}

export function arxivUrl(p: Pick<Paper, 'id'>): string | undefined {
  return isArxivId(p.id) ? `https://arxiv.org/abs/${p.id}` : undefined;
}
