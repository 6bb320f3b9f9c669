import { resolveRange } from '../dates.ts';
import type { App } from '../app.ts';
import { paperUrl } from '../sources/normalize.ts';

import type { Hit } from '../types.ts';
import { UsageError } from './ingest.ts';
import { readBatchFile } from './batch.ts';

export interface SearchCliOptions {
  k: number;
  since?: string;
  until?: string;
  json?: boolean;
  batch?: string;
}

/** The JSON line printed for one query; a contract other tools rely on. */
export interface SearchJson {
  query: string;
  results: { id: string; title: string; date: string; score: number; url: string }[];
}

export function toSearchJson(query: string, hits: Hit[]): SearchJson {
  return {
    query,
    results: hits.map((h) => ({
      id: h.paper.id,
      title: h.paper.title,
      date: h.paper.date,
      score: Math.round(h.score * 1e4) / 1e4,
      url: paperUrl(h.paper),
    })),
  };
}

function formatText(query: string, hits: Hit[], papers: number): string {
  if (!papers)
    return 'The index is empty: add papers first with `npm run cli -- ingest --from <folder>` or `--since 7d`.';
  if (!hits.length) return `No papers match "${query}".`;
  return hits
    .map(
      (h, i) =>
        `${String(i + 1).padStart(2)}. ${h.paper.title} (${h.paper.date}, score ${h.score.toFixed(3)})\n    ${paperUrl(h.paper)}`,
    )
    .join('\n');
}

export async function runSearch(
  app: App,
  query: string | undefined,
  opts: SearchCliOptions,
  out: (s: string) => void,
): Promise<void> {
  const { since, until } = resolveRange(opts.since, opts.until);
  if (!Number.isInteger(opts.k) || opts.k < 1 || opts.k > 100)
    throw new UsageError('--k must be a whole number from 1 to 100');
  if (!!query === !!opts.batch)
    throw new UsageError('search needs a QUERY or --batch FILE (one query a line), not both');
  if (opts.batch && !opts.json) throw new UsageError('--batch prints JSON lines; add --json');
  const queries = opts.batch ? await readBatchFile(opts.batch) : [query!];
  const retriever = await app.retriever();
  const papers = app.store.stats().papers;
  for (const q of queries) {
    const hits = await retriever.search(q, { k: opts.k, since, until });
    out(opts.json ? JSON.stringify(toSearchJson(q, hits)) : formatText(q, hits, papers));
  }
}
