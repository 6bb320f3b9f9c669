#!/usr/bin/env node
/**
 * The terminal entry point: `npm run cli -- <command>`. Each command builds the app from the configuration
 * (environment + flags), runs, and exits with 0 (done), 1 (failed) or 2 (wrong usage).
 */
import { DateInputError } from './dates.ts';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { App } from './app.ts';
import Database from 'better-sqlite3';
import { loadConfig, loadDotEnv } from './config.ts';
import { UserFacingError } from './errors.ts';
import { formatSummary, runIngest, UsageError } from './cli/ingest.ts';
import { runSearch } from './cli/search.ts';
import { runAsk } from './cli/ask.ts';
import { runHighlights } from './cli/highlights.ts';
import {
  runSubscriptionsAdd,
  runSubscriptionsList,
  runSubscriptionsMatch,
  runSubscriptionsRemove,
} from './cli/subscriptions.ts';
import { embedProgressBar } from './cli/progress.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

/** Build the app for a command, from the environment and the global flags. */
function openApp(cmd: Command): App {
  const { dataDir } = cmd.optsWithGlobals<{ dataDir?: string }>();
  return new App(loadConfig(process.env, { dataDir }));
}

async function withApp<T>(cmd: Command, fn: (app: App) => Promise<T>): Promise<T> {
  const app = openApp(cmd);
  try {
    return await fn(app);
  } finally {
    app.close();
  }
}

export function buildProgram(): Command {
  const program = new Command('cli')
    .description('Hugging Face Daily Papers digest: ingest, search and more, from the terminal')
    .option('--data-dir <dir>', 'where the index and database live (default ./data, or DATA_DIR)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('ingest')
    .description('add papers to the index: from saved API files, a copied web page, or the live HF API')
    .option(
      '--from <path>',
      'a JSON API response, a folder of YYYY-MM-DD.json day files, or a copied Daily Papers page (.txt)',
    )
    .option('--date <day>', 'fetch one digest day from the HF API (YYYY-MM-DD, today, yesterday, or Nd for N days ago)')
    .option('--since <day>', 'fetch digest days from this one (same forms as --date)')
    .option('--until <day>', 'last day for --since (default: today, UTC)')
    .option('--page-date <day>', "digest day of a copied web page (default: the page's own date line)")
    .option('--verbose', 'list every skipped entry with its reason')
    .action(async (opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const { summary, failures } = await runIngest(app, opts);
        if (opts.verbose) for (const s of summary.skippedEntries) err(`skipped ${s.where}: ${s.reason}`);
        else if (summary.skipped) err(`${summary.skipped} entries skipped (rerun with --verbose to list them)`);
        for (const f of failures) err(`error: ${f}`);
        out(formatSummary(summary));
        if (failures.length) process.exitCode = 1;
      });
    });

  program
    .command('stats')
    .description('what the index holds')
    .option('--json', 'print {"papers","chunks","vectors","days","from","to","model"}')
    .action(async (opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const s = app.store.stats();
        const model = app.indexModel()?.model ?? null;
        const vectors = s.chunks ? (await app.vectors()).size : 0;
        if (opts.json)
          out(
            JSON.stringify({
              papers: s.papers,
              chunks: s.chunks,
              vectors,
              days: s.days,
              from: s.from,
              to: s.to,
              model,
            }),
          );
        else if (!s.papers)
          out('The index is empty. Add papers with: npm run cli -- ingest --from <folder> | --since YYYY-MM-DD');
        else
          out(
            `${s.papers} paper${s.papers === 1 ? '' : 's'}, ${s.chunks} chunk${s.chunks === 1 ? '' : 's'}, ${s.days} digest day${s.days === 1 ? '' : 's'} (${s.from} to ${s.to}); model ${model ?? 'none yet'}`,
          );
        // A partial index searches with BM25 alone where vectors are missing: say so.
        if (vectors < s.chunks)
          err(
            `warning: ${s.chunks - vectors} of ${s.chunks} chunks have no vector (an interrupted ingest?): search is partly lexical until \`npm run cli -- doctor --repair\` (or the next ingest) embeds them`,
          );
      });
    });

  program
    .command('doctor')
    .description('check the database and the vectors against the stored chunks; --repair fixes what it can')
    .option('--repair', 'rebuild a damaged BM25 index, re-embed missing or damaged vectors, drop orphans')
    .option('--json', 'print the report as JSON')
    .action(async (opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const { checkHealth, describeHealth, repair } = await import('./doctor.ts');
        let report = await checkHealth(app);
        if (opts.repair && !report.ok) {
          for (const line of await repair(app, report)) err(`repaired: ${line}`);
          report = await checkHealth(app);
        }
        if (opts.json) out(JSON.stringify(report));
        else for (const line of describeHealth(report)) out(line);
        if (!report.ok) process.exitCode = 1;
      });
    });

  program
    .command('search')
    .description('hybrid (semantic + keyword) search over the digest')
    .argument('[query]', 'what to look for')
    .option('--k <n>', 'how many papers', int, 10)
    .option('--since <day>', 'only digest days from this one (YYYY-MM-DD)')
    .option('--until <day>', 'only digest days up to this one (YYYY-MM-DD)')
    .option('--json', 'one JSON line per query: {"query","results":[{"id","title","date","score","url"}]}')
    .option('--batch <file>', 'run every line of FILE as a query (with --json)')
    .action(async (query: string | undefined, opts, cmd: Command) => {
      await withApp(cmd, (app) => runSearch(app, query, opts, out));
    });

  program
    .command('ask')
    .description('answer a question from the digest, with numbered citations (or say the digest has nothing on it)')
    .argument('[question]', 'the question')
    .option('--since <day>', 'only digest days from this one (YYYY-MM-DD)')
    .option('--until <day>', 'only digest days up to this one (YYYY-MM-DD)')
    .option(
      '--json',
      'one JSON line: {"question","outcome","abstained","answer","citations":[{"n","id","title","date","url"}],"closest":[{"id","title","date","url"}],"retrieved":[{"id","title","score"}]}',
    )
    .option('--batch <file>', 'answer every line of FILE (with --json)')
    .action(async (question: string | undefined, opts, cmd: Command) => {
      await withApp(cmd, (app) => runAsk(app, question, opts, out));
    });

  program
    .command('highlights')
    .description(
      "what the daily post would show for a digest day: top papers by upvotes, near-duplicates skipped, the day's themes",
    )
    .option('--date <day>', 'digest day (default: the latest in the index)')
    .option('--count <n>', 'how many papers', int, 5)
    .option('--json', 'print {"date","papers":[{"id","title","upvotes","summary","url","github"}],"themes":[...]}')
    .action(async (opts, cmd: Command) => {
      await withApp(cmd, (app) => runHighlights(app, opts, out));
    });

  program
    .command('reindex')
    .description('embed every stored paper again with the configured model (after changing EMBEDDINGS_*)')
    .action(async (_opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const started = performance.now();
        const { embedded } = await app.reindex(embedProgressBar());
        out(
          `re-embedded ${embedded} chunks with ${(await app.embeddings()).modelId}; ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
      });
    });

  program
    .command('serve')
    .description('run the Discord bot until SIGINT/SIGTERM (needs DISCORD_TOKEN and DISCORD_APPLICATION_ID)')
    .action(async (_opts, cmd: Command) => {
      // Loaded here: discord.js takes ~250 ms to import, which the other commands should not pay.
      const { checkBotConfig, serve } = await import('./discord/serve.ts');
      checkBotConfig(loadConfig(process.env)); // before anything is opened or created
      await withApp(cmd, (app) => serve(app));
    });

  const subscriptions = program
    .command('subscriptions')
    .description(
      'topic subscriptions: who would be notified of what, and (for admins and development) the list itself',
    );
  subscriptions
    .command('match')
    .description('who would be notified of which new papers of a digest day, or what one topic would match')
    .option('--date <day>', 'digest day (default: the latest in the index)')
    .option('--topic <text>', "match this one topic instead of the subscribers' topics")
    .option(
      '--json',
      'one JSON line per user: {"user","papers":[{"id","title","topic","reason"}]}; with --topic: {"topic","date","papers":[{"id","title","score","reason"}]}',
    )
    .action(async (opts, cmd: Command) => {
      await withApp(cmd, (app) => runSubscriptionsMatch(app, opts, out));
    });
  subscriptions
    .command('add')
    .description('make a user follow a topic (plain words, keyword:"phrase" or author:"Name")')
    .requiredOption('--user <id>', 'Discord user id (17-20 digits)', discordId)
    .requiredOption('--topic <text>', 'the topic')
    .action(async (opts, cmd: Command) => {
      await withApp(cmd, async (app) => runSubscriptionsAdd(app, opts, out));
    });
  subscriptions
    .command('remove')
    .description('make a user stop following a topic')
    .requiredOption('--user <id>', 'Discord user id (17-20 digits)', discordId)
    .requiredOption('--topic <text>', 'the topic')
    .action(async (opts, cmd: Command) => {
      await withApp(cmd, async (app) => runSubscriptionsRemove(app, opts, out));
    });
  subscriptions
    .command('list')
    .description("every subscription, or one user's")
    .option('--user <id>', 'only this user (a Discord user id)', discordId)
    .option('--json', 'one JSON line per user: {"user","paused","delivery","guild","dmClosed","topics"}')
    .action(async (opts, cmd: Command) => {
      await withApp(cmd, async (app) => runSubscriptionsList(app, opts, out));
    });

  return program;
}

/** A Discord user id as typed; anything else is refused with where to find one. */
function discordId(value: string): string {
  if (!/^\d{17,20}$/.test(value.trim()))
    throw new InvalidArgumentError(
      'a Discord user id is 17-20 digits (Discord, Developer Mode: right-click the user, Copy User ID).',
    );
  return value.trim();
}

/** Errors a person can act on are printed as one clear message; anything else keeps its stack. */
export async function main(argv: string[]): Promise<number> {
  try {
    loadDotEnv();
    await buildProgram().parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander already printed it
    if (e instanceof UsageError || e instanceof DateInputError) {
      err(`error: ${e.message}`);
      return 2;
    }
    // What a person can act on is one line; a database error too (its message names the problem); bugs keep their stack.
    const known = e instanceof UserFacingError || e instanceof Database.SqliteError;
    err(`error: ${known ? (e as Error).message : ((e as Error)?.stack ?? String(e))}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('src/cli.ts')) {
  process.exitCode = await main(process.argv);
}
