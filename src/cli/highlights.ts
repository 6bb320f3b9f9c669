import { resolveDay } from '../dates.ts';
import type { App } from '../app.ts';
import { buildHighlights, highlightsJson } from '../highlights/build.ts';

import { UsageError } from './ingest.ts';

export interface HighlightsCliOptions {
  date?: string;
  count: number;
  json?: boolean;
}

/** Print what would be posted for a digest day (default: the latest in the index). */
export async function runHighlights(app: App, opts: HighlightsCliOptions, out: (s: string) => void): Promise<void> {
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 10)
    throw new UsageError('--count must be a whole number from 1 to 10');
  const day = opts.date ? resolveDay(opts.date, '--date') : app.store.latestDay();
  if (!day) throw new UsageError('The index is empty: ingest some days first (npm run cli -- ingest ...).');
  const h = buildHighlights(app.store, await app.vectors(), day, opts.count);
  if (opts.json) {
    out(JSON.stringify(highlightsJson(h)));
    return;
  }
  if (!h.papers.length) {
    out(
      `No papers on ${day} (a weekend, or a day not ingested yet). The latest digest is ${app.store.latestDay() ?? 'none'}.`,
    );
    return;
  }
  const lines = [`Highlights of ${day} (${h.papers.length} of ${h.total} papers)`];
  h.papers.forEach((p, i) => {
    lines.push(
      `${i + 1}. ${p.paper.title} (${p.paper.upvotes} upvotes)`,
      `   ${p.summary}`,
      `   ${p.url}${p.paper.githubUrl ? `  code: ${p.paper.githubUrl}` : ''}`,
    );
  });
  if (h.themes.length) lines.push(`Themes: ${h.themes.join(', ')}`);
  out(lines.join('\n'));
}
