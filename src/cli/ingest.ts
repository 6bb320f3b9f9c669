import { daysInRange, resolveDay, todayUtc } from '../dates.ts';
import { UserFacingError } from '../errors.ts';
import type { App } from '../app.ts';
import type { IngestRun, IngestSummary } from '../ingest/ingester.ts';
import { OutageCounter } from '../http.ts';
import { papersFromApiResponse } from '../sources/files.ts';
import { embedProgressBar } from './progress.ts';

export interface IngestOptions {
  from?: string;
  date?: string;
  since?: string;
  until?: string;
  /** Digest day for a copied web page (overrides the page's own date line). */
  pageDate?: string;
  verbose?: boolean;
}

export interface IngestOutcome {
  summary: IngestSummary;
  /** Files that could not be read at all; the rest was still ingested. */
  failures: string[];
}

const log = (s: string) => process.stderr.write(`${s}\n`);

/** Fetch days from the live API; each day is stored as soon as it arrives, so an interruption keeps them. */
async function fetchDays(app: App, run: IngestRun, days: string[], failures: string[]): Promise<void> {
  const api = app.hfApi({ onRetry: log, onTruncated: (m) => log(`warning: ${m}`) });
  const outage = new OutageCounter();
  for (const [i, day] of days.entries()) {
    log(`fetching ${day} (${i + 1}/${days.length})`);
    try {
      const entries = await api.fetchDay(day);
      const batch = papersFromApiResponse(`${app.config.hf.endpoint}/api/daily_papers?date=${day}`, entries, day);
      run.add(batch);
      outage.succeeded();
    } catch (err) {
      failures.push(`${day}: ${(err as Error).message}`); // skipped and named; the other days go on
      if (outage.failed(err) && i < days.length - 1) {
        failures.push(
          `the HF API looks down: not trying ${days.length - i - 1} more day(s) (${days[i + 1]} to ${days.at(-1)}); run the ingest again later`,
        );
        break;
      }
    }
  }
}

export async function runIngest(app: App, opts: IngestOptions): Promise<IngestOutcome> {
  if (opts.until && !opts.since)
    throw new UsageError('--until goes with --since: ingest --since YYYY-MM-DD --until YYYY-MM-DD');
  const sources = [opts.from, opts.date, opts.since].filter(Boolean).length;
  if (sources !== 1)
    throw new UsageError('ingest needs exactly one of --from FILE|DIR, --date YYYY-MM-DD or --since YYYY-MM-DD');
  const pageDate = opts.pageDate && resolveDay(opts.pageDate, '--page-date');
  if (opts.from) return app.ingestFrom(opts.from, { ...(pageDate ? { pageDate } : {}), progress: embedProgressBar() });
  const failures: string[] = [];
  // Load the model first: a missing model should fail before any fetching.
  const run = (await app.ingester(embedProgressBar())).start();
  const since = resolveDay(opts.date ?? opts.since!, opts.date ? '--date' : '--since');
  const until = opts.date ? since : opts.until ? resolveDay(opts.until, '--until') : todayUtc();
  await fetchDays(app, run, daysInRange(since, until), failures);
  return { summary: await run.finish(), failures };
}

export function formatSummary(s: IngestSummary): string {
  return (
    `${s.added} added, ${s.updated} updated, ${s.unchanged} unchanged, ${s.skipped} skipped; ` +
    `${s.embedded} chunks embedded, ${s.chunks} in the index; ${s.seconds.toFixed(1)} s`
  );
}

/** Wrong use of a command: printed with a hint, exit code 2. */
export class UsageError extends UserFacingError {
  override name = 'UsageError';
}
