/**
 * The real CLI (`node --import tsx src/cli.ts`, what `npm run cli` runs) as a child process, against an HfEmulator
 * serving synthetic digest days on 127.0.0.1. One data folder is ingested once and shared by the read-only tests.
 */
import type { IngestSummary } from '../src/ingest/ingester.ts';
import { repoRoot, staticDir, haveModel } from './helpers/shared.ts';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HfEmulator } from './helpers/hf-emulator.ts';
import { newEntry, TOPICS, writeDays, type TopicKey } from './helpers/synthetic-days.ts';
import { closedPort } from './helpers/net.ts';

const MODEL_ID = `static:${path.basename(staticDir)}`;

const DAYS: Record<string, TopicKey[]> = {
  '2025-03-03': ['draft', 'protein'],
  '2025-03-04': ['grasp'],
  '2025-03-05': ['weather'],
  '2025-03-06': ['music'],
  '2025-03-07': ['tumor'],
  // 2025-03-08 and 2025-03-09 are a weekend: the API answers [].
  '2025-03-10': ['speech'],
  '2025-03-11': ['code'],
};
const dayOf = (key: TopicKey): string => Object.entries(DAYS).find(([, ks]) => ks.includes(key))![0];
const BAD_ENTRY = newEntry({ id: '2503.00199', title: 'A paper without an abstract', abstract: '' }, '2025-03-05');

function emulatorDays(): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [day, keys] of Object.entries(DAYS)) out[day] = keys.map((k) => newEntry(TOPICS[k], day));
  out['2025-03-05']!.push(BAD_ENTRY);
  return out;
}

const QUERIES: [TopicKey, string][] = [
  ['draft', 'make a big chatbot reply quicker by letting a little helper network guess the next words'],
  ['weather', 'machine learning forecasts of storms and heat waves ten days ahead'],
  ['speech', 'transcribing spoken audio in languages that have little labelled data'],
];

const SUMMARY =
  /^(\d+) added, (\d+) updated, (\d+) unchanged, (\d+) skipped; (\d+) chunks embedded, (\d+) in the index; \d+\.\d s$/;
const STACK = /\n\s+at .+\(?.+:\d+:\d+\)?/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: nothing of the parent's DATA_DIR, HF_* or EMBEDDINGS_* leaks in. */
function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    EMBEDDINGS_MODEL_DIR: staticDir,
    HF_API_RETRIES: '2',
    ...extra,
  };
}

/** At most this many CLI processes at once: each start costs about a second of CPU. */
const MAX_PARALLEL = 3;
let running = 0;
const waiting: (() => void)[] = [];

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  if (running >= MAX_PARALLEL) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await spawnCli(args, env);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function summary(run: Run): Pick<IngestSummary, 'added' | 'updated' | 'unchanged' | 'skipped' | 'embedded' | 'chunks'> {
  const lines = run.stdout.trim().split('\n');
  expect(lines, run.stdout).toHaveLength(1);
  const m = SUMMARY.exec(lines[0]!);
  expect(m, `summary line: ${lines[0]}`).not.toBeNull();
  const [added, updated, unchanged, skipped, embedded, chunks] = m!.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { added, updated, unchanged, skipped, embedded, chunks };
}

// Process starts are slow on a busy machine: generous timeouts, the work itself is small.
describe.skipIf(!haveModel)(
  haveModel ? 'the CLI' : `the CLI (skipped: no static model at ${staticDir})`,
  { timeout: 120_000 },
  () => {
    let emu: HfEmulator;
    let work: string;
    let shared: string; // the data folder ingested once, read by most tests
    let env: NodeJS.ProcessEnv;
    let byDate: Run;
    let byRange: Run;
    let rangeRequests: string[];

    beforeAll(async () => {
      emu = await HfEmulator.start({ papers: emulatorDays() });
      work = await mkdtemp(path.join(tmpdir(), 'cli-'));
      shared = path.join(work, 'shared-data');
      env = cliEnv({ HF_ENDPOINT: emu.endpoint });
      byDate = await cli(['--data-dir', shared, 'ingest', '--date', '2025-03-03'], env);
      emu.clearLog();
      byRange = await cli(['ingest', '--since', '2025-03-04', '--until', '2025-03-11', '--data-dir', shared], env);
      rangeRequests = emu.requests.map((r) => r.url);
    }, 120_000);

    afterAll(async () => {
      await emu?.close();
      if (work) await rm(work, { recursive: true, force: true });
    });

    describe('ingest from the HF API', () => {
      it('ingest --date: one day, the summary line on stdout, progress on stderr', () => {
        expect(byDate.code, byDate.stderr).toBe(0);
        const s = summary(byDate);
        expect(s).toMatchObject({ added: 2, updated: 0, unchanged: 0, skipped: 0 });
        expect(s.embedded).toBe(s.chunks);
        expect(s.chunks).toBeGreaterThanOrEqual(2);
        expect(byDate.stderr).toContain('fetching 2025-03-03 (1/1)');
        expect(byDate.stderr).not.toMatch(/error/i);
        expect(existsSync(path.join(shared, 'digest.db'))).toBe(true); // --data-dir before the command
      });

      it('ingest --since --until: every day once (weekend days are empty, no error), skipped entries counted', () => {
        expect(byRange.code, byRange.stderr).toBe(0);
        expect(rangeRequests).toEqual(
          ['04', '05', '06', '07', '08', '09', '10', '11'].map((d) => `/api/daily_papers?date=2025-03-${d}&limit=100`),
        );
        const s = summary(byRange);
        expect(s).toMatchObject({ added: 6, updated: 0, unchanged: 0, skipped: 1 });
        expect(byRange.stderr).toContain('fetching 2025-03-08 (5/8)');
        expect(byRange.stderr).toContain('1 entries skipped (rerun with --verbose to list them)');
        expect(byRange.stderr).not.toMatch(/^error/m);
      });

      it('a re-run changes nothing, embeds nothing, and --verbose lists each skipped entry with its reason', async () => {
        const run = await cli(
          ['--data-dir', shared, 'ingest', '--since', '2025-03-03', '--until', '2025-03-11', '--verbose'],
          env,
        );
        expect(run.code, run.stderr).toBe(0);
        expect(summary(run)).toMatchObject({ added: 0, updated: 0, unchanged: 8, skipped: 1, embedded: 0 });
        expect(run.stderr).toMatch(/skipped .*date=2025-03-05.* entry 2: paper 2503\.00199 has no abstract/);
      });

      it('a 429 with Retry-After is retried, then the day is ingested', async () => {
        const data = path.join(work, 'retry-data');
        emu.clearLog();
        emu.failNext('date=2025-03-06', 429, { retryAfter: 0 });
        const run = await cli(['--data-dir', data, 'ingest', '--date', '2025-03-06'], env);
        expect(run.code, run.stderr).toBe(0);
        expect(emu.log('date=2025-03-06').map((r) => r.status)).toEqual([429, 200]);
        expect(run.stderr).toMatch(/429/);
        expect(summary(run)).toMatchObject({ added: 1, skipped: 0 });
      });

      it('an unreachable HF_ENDPOINT: exit 1, a helpful message, no stack trace, and it gives up after two days', async () => {
        const port = await closedPort();
        const data = path.join(work, 'offline-data');
        const run = await cli(
          ['--data-dir', data, 'ingest', '--since', '2025-03-03', '--until', '2025-03-07'],
          cliEnv({ HF_ENDPOINT: `http://127.0.0.1:${port}`, HF_API_RETRIES: '1' }),
        );
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(
          new RegExp(
            `error: 2025-03-03: Could not reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\) after 2 attempts\\. .*HF_ENDPOINT`,
          ),
        );
        expect(run.stderr).not.toMatch(STACK);
        expect(run.stderr).toContain('fetching 2025-03-03 (1/5)');
        // A second day fails the same way: the API is down, so the rest are not tried, and that is said.
        expect(run.stderr).toContain('fetching 2025-03-04 (2/5)');
        expect(run.stderr).not.toContain('(3/5)');
        expect(run.stderr).toContain(
          'error: the HF API looks down: not trying 3 more day(s) (2025-03-05 to 2025-03-07); run the ingest again later',
        );
        expect(summary(run)).toMatchObject({ added: 0, chunks: 0 });
      });
    });

    describe('ingest from files', () => {
      it('a malformed day file: exit 1 naming it; the other files are ingested; nothing indexed before is lost', async () => {
        const data = path.join(work, 'files-data');
        const first = path.join(work, 'files-1');
        const second = path.join(work, 'files-2');
        await writeDays(first, { '2025-03-03': DAYS['2025-03-03']!.map((k) => newEntry(TOPICS[k], '2025-03-03')) });
        await writeDays(second, {
          '2025-03-04': [newEntry(TOPICS.grasp, '2025-03-04')],
          '2025-03-06': [newEntry(TOPICS.music, '2025-03-06')],
        });
        await writeFile(path.join(second, '2025-03-05.json'), '[{"paper": {"id": "2503.00104", "title": "cut off');
        await writeFile(path.join(second, 'README.md'), 'Not a day file.');

        const ok = await cli(['--data-dir', data, 'ingest', '--from', first], env);
        expect(ok.code, ok.stderr).toBe(0);
        expect(summary(ok)).toMatchObject({ added: 2 });

        const run = await cli(['--data-dir', data, 'ingest', '--from', second], env);
        expect(run.code).toBe(1);
        const bad = path.join(second, '2025-03-05.json');
        expect(run.stderr).toContain(`error: ${bad}: is not valid JSON`);
        expect(run.stderr).not.toMatch(STACK);
        expect(run.stderr).not.toContain('README.md');
        expect(summary(run)).toMatchObject({ added: 2, updated: 0, unchanged: 0 });

        const stats = await cli(['--data-dir', data, 'stats', '--json'], env);
        expect(JSON.parse(stats.stdout)).toMatchObject({ papers: 4, days: 3, from: '2025-03-03', to: '2025-03-06' });
      });

      it('a single malformed file, or a path that does not exist: exit 1 naming it, no stack trace', async () => {
        const data = path.join(work, 'single-data');
        const bad = path.join(work, 'broken.json');
        await writeFile(bad, '{"status": "ok", "data": [');
        const missing = path.join(work, 'no-such-folder');
        const [a, b] = await Promise.all([
          cli(['--data-dir', data, 'ingest', '--from', bad], env),
          cli(['--data-dir', path.join(work, 'single-data-2'), 'ingest', '--from', missing], env),
        ]);
        expect(a.code).toBe(1);
        expect(a.stderr).toContain(`${bad}: is not valid JSON`);
        expect(a.stderr, 'a malformed file is an expected user error: no stack trace').not.toMatch(STACK);
        expect(b.code).toBe(1);
        expect(b.stderr).toContain(`${missing}: does not exist`);
        expect(b.stderr, 'a missing path is an expected user error: no stack trace').not.toMatch(STACK);
      });
    });

    it('ingest --from a copied web page (.txt): papers keyed by title, searchable, linked by title search', async () => {
      const data = path.join(work, 'page-data');
      const page = path.join(work, 'copied-page.txt');
      const keys: TopicKey[] = ['protein', 'music', 'code'];
      await writeFile(
        page,
        [
          'Daily Papers',
          'byAK and the research community',
          'Mar 12',
          ...keys.flatMap((k) => [TOPICS[k].title, TOPICS[k].abstract]),
        ].join('\n\n'),
      );
      const run = await cli(['--data-dir', data, 'ingest', '--from', page, '--page-date', '2025-03-12'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(summary(run)).toMatchObject({ added: 3, skipped: 0 });
      const search = await cli(['--data-dir', data, 'search', 'composing piano melodies', '--json', '--k', '3'], env);
      const out = JSON.parse(search.stdout) as { results: { id: string; title: string; date: string; url: string }[] };
      expect(out.results).toHaveLength(3);
      expect(out.results[0]!.title).toBe(TOPICS.music.title);
      for (const r of out.results) {
        expect(r.id).toMatch(/^title-[0-9a-f]{12}$/);
        expect(r.date).toBe('2025-03-12');
        expect(r.url).toBe(`https://huggingface.co/papers?q=${encodeURIComponent(r.title)}`);
      }
    });

    it('another configured model: search fails with exit 1 and says to reindex; reindex fixes it', async () => {
      const data = path.join(work, 'mismatch-data');
      await cp(shared, data, { recursive: true });
      const other = path.join(work, 'renamed-model');
      await cp(staticDir, other, { recursive: true });
      const otherEnv = { ...env, EMBEDDINGS_MODEL_DIR: other };
      const [key, query] = QUERIES[2]!;

      const refused = await cli(['--data-dir', data, 'search', query, '--json'], otherEnv);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`built with ${MODEL_ID} \\(128 dimensions\\).*static:renamed-model.*reindex`),
      );
      expect(refused.stderr).not.toMatch(STACK);
      expect(refused.stdout).toBe('');

      const reindex = await cli(['--data-dir', data, 'reindex'], otherEnv);
      expect(reindex.code, reindex.stderr).toBe(0);
      const chunks = summary(byRange).chunks;
      expect(reindex.stdout.trim()).toMatch(
        new RegExp(`^re-embedded ${chunks} chunks with static:renamed-model; \\d+\\.\\d s$`),
      );

      const [after, stats] = await Promise.all([
        cli(['--data-dir', data, 'search', query, '--json'], otherEnv),
        cli(['--data-dir', data, 'stats', '--json'], otherEnv),
      ]);
      expect(after.code, after.stderr).toBe(0);
      expect((JSON.parse(after.stdout) as { results: { id: string }[] }).results[0]!.id).toBe(TOPICS[key].id);
      expect(JSON.parse(stats.stdout)).toMatchObject({ papers: 8, chunks, model: 'static:renamed-model' });
    });

    describe('stats', () => {
      it('stats --json has exactly {papers, chunks, vectors, days, from, to, model}', async () => {
        const run = await cli(['--data-dir', shared, 'stats', '--json'], env);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout.trim().split('\n')).toHaveLength(1);
        const s = JSON.parse(run.stdout) as Record<string, unknown>;
        expect(Object.keys(s).sort()).toEqual(['chunks', 'days', 'from', 'model', 'papers', 'to', 'vectors']);
        expect(s).toEqual({
          papers: 8,
          chunks: summary(byRange).chunks,
          vectors: summary(byRange).chunks,
          days: 7,
          from: '2025-03-03',
          to: '2025-03-11',
          model: MODEL_ID,
        });
      });

      it('stats of an empty folder (given by DATA_DIR) is zeros and nulls; the text form says how to start', async () => {
        const empty = path.join(work, 'empty-data');
        const [json, text] = await Promise.all([
          cli(['stats', '--json'], { ...env, DATA_DIR: empty }),
          cli(['stats'], { ...env, DATA_DIR: path.join(work, 'empty-data-2') }),
        ]);
        expect(json.code, json.stderr).toBe(0);
        expect(JSON.parse(json.stdout)).toEqual({
          papers: 0,
          chunks: 0,
          vectors: 0,
          days: 0,
          from: null,
          to: null,
          model: null,
        });
        expect(existsSync(path.join(empty, 'digest.db'))).toBe(true);
        expect(text.stdout).toMatch(/empty.*ingest/);
      });

      it('stats in text form', async () => {
        const run = await cli(['--data-dir', shared, 'stats'], env);
        expect(run.stdout.trim()).toMatch(
          new RegExp(`^8 papers, \\d+ chunks, 7 digest days \\(2025-03-03 to 2025-03-11\\); model ${MODEL_ID}$`),
        );
      });
    });

    describe('search', () => {
      it('search --json: {"query","results":[{"id","title","date","score","url"}]}, best first', async () => {
        const [key, query] = QUERIES[0]!;
        const run = await cli(['--data-dir', shared, 'search', query, '--json'], env);
        expect(run.code, run.stderr).toBe(0);
        const lines = run.stdout.trim().split('\n');
        expect(lines).toHaveLength(1);
        const out = JSON.parse(lines[0]!) as { query: string; results: Record<string, unknown>[] };
        expect(Object.keys(out)).toEqual(['query', 'results']);
        expect(out.query).toBe(query);
        expect(out.results).toHaveLength(8); // k defaults to 10; there are 8 papers
        for (const r of out.results) {
          expect(Object.keys(r)).toEqual(['id', 'title', 'date', 'score', 'url']);
          expect(r.url).toBe(`https://huggingface.co/papers/${r.id as string}`);
          expect(typeof r.score).toBe('number');
        }
        expect(out.results[0]).toMatchObject({ id: TOPICS[key].id, title: TOPICS[key].title, date: dayOf(key) });
        const scores = out.results.map((r) => r.score as number);
        expect(scores).toEqual([...scores].sort((a, b) => b - a));
        expect(new Set(out.results.map((r) => r.id)).size).toBe(8);
      });

      it('search --k and the text form', async () => {
        const [key, query] = QUERIES[1]!;
        const [json, text] = await Promise.all([
          cli(['--data-dir', shared, 'search', query, '--k', '3', '--json'], env),
          cli(['--data-dir', shared, 'search', query, '--k', '2'], env),
        ]);
        const out = JSON.parse(json.stdout) as { results: { id: string }[] };
        expect(out.results).toHaveLength(3);
        expect(out.results[0]!.id).toBe(TOPICS[key].id);
        expect(text.code).toBe(0);
        expect(text.stdout).toContain(` 1. ${TOPICS[key].title} (${dayOf(key)}, score `);
        expect(text.stdout).toContain(`https://huggingface.co/papers/${TOPICS[key].id}`);
        expect(text.stdout).not.toContain(' 3. ');
      });

      it('search --batch FILE --json: one line per query, in order', async () => {
        const file = path.join(work, 'queries.txt');
        await writeFile(file, `${QUERIES[0]![1]}\r\n\r\n  ${QUERIES[1]![1]}  \n${QUERIES[2]![1]}\n\n`);
        const run = await cli(['--data-dir', shared, 'search', '--batch', file, '--json', '--k', '5'], env);
        expect(run.code, run.stderr).toBe(0);
        const lines = run.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { query: string; results: { id: string }[] });
        expect(lines.map((l) => l.query)).toEqual(QUERIES.map(([, q]) => q));
        expect(lines.map((l) => l.results[0]!.id)).toEqual(QUERIES.map(([k]) => TOPICS[k].id));
        expect(lines.every((l) => l.results.length === 5)).toBe(true);
      });

      it('search --since/--until keeps only papers of those digest days', async () => {
        const [key, query] = QUERIES[1]!; // weather, 2025-03-05
        const [inside, after, before] = await Promise.all([
          cli(['--data-dir', shared, 'search', query, '--since', '2025-03-05', '--until', '2025-03-06', '--json'], env),
          cli(['--data-dir', shared, 'search', query, '--since', '2025-03-06', '--json'], env),
          cli(['--data-dir', shared, 'search', query, '--until', '2025-03-04', '--json'], env),
        ]);
        const ids = (r: Run) => (JSON.parse(r.stdout) as { results: { id: string; date: string }[] }).results;
        expect(ids(inside).map((r) => r.id)).toEqual([TOPICS.weather.id, TOPICS.music.id]);
        expect(
          ids(after)
            .map((r) => r.date)
            .every((d) => d >= '2025-03-06'),
        ).toBe(true);
        expect(ids(after).map((r) => r.id)).not.toContain(TOPICS[key].id);
        expect(ids(after)).toHaveLength(4);
        expect(
          ids(before)
            .map((r) => r.id)
            .sort(),
        ).toEqual([TOPICS.draft.id, TOPICS.protein.id, TOPICS.grasp.id].sort());
      });

      it('search on an empty index is an empty result, not an error', async () => {
        const run = await cli(
          ['--data-dir', path.join(work, 'empty-search'), 'search', 'anything at all', '--json'],
          env,
        );
        expect(run.code, run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).toEqual({ query: 'anything at all', results: [] });
        const text = await cli(['--data-dir', path.join(work, 'empty-search'), 'search', 'anything at all'], env);
        expect(text.stdout.trim()).toMatch(/^The index is empty: add papers first/);
      });
    });

    describe('usage errors exit 2 with a clear message', () => {
      const cases: [string, string[], RegExp][] = [
        ['no source', ['ingest'], /exactly one of --from FILE\|DIR, --date YYYY-MM-DD or --since YYYY-MM-DD/],
        ['two sources', ['ingest', '--date', '2025-03-03', '--since', '2025-03-03'], /exactly one of/],
        ['a bad --date', ['ingest', '--date', '2025-02-30'], /"2025-02-30".*YYYY-MM-DD/],
        ['--until without --since', ['ingest', '--until', '2025-03-05'], /--since/],
        [
          '--until with --date',
          ['ingest', '--date', '2025-03-03', '--until', '2025-03-05'],
          /--until goes with --since/,
        ],
        [
          'a reversed range',
          ['ingest', '--since', '2025-03-10', '--until', '2025-03-03'],
          /since 2025-03-10 is after until 2025-03-03/,
        ],
        ['search without a query', ['search'], /QUERY or --batch/],
        ['search --k 0', ['search', 'x', '--k', '0'], /--k must be a whole number from 1 to 100/],
        ['search with a bad --until', ['search', 'x', '--until', '2025-13-01'], /"2025-13-01".*YYYY-MM-DD/],
        ['--batch without --json', ['search', '--batch', 'package.json'], /add --json/],
        ['an empty question', ['ask', ''], /the question is empty: ask "which papers/],
        ['--date tomorrow', ['ingest', '--date', 'tomorrow'], /"tomorrow": use YYYY-MM-DD .*today, yesterday or Nd/],
        [
          'a reversed --since/--until for search',
          ['search', 'x', '--since', '2025-03-10', '--until', '2025-03-03'],
          /reversed: --since 2025-03-10 is after --until 2025-03-03/,
        ],
        [
          '--user that is no Discord id',
          ['subscriptions', 'list', '--user', 'abc'],
          /a Discord user id is 17-20 digits/,
        ],
      ];

      // All cases run at once (each is a process start), against the emulator: the tests below check the results.
      const runs = new Map<string, Promise<Run>>();
      let requestsBefore = 0;
      beforeAll(() => {
        requestsBefore = emu.requests.length;
        for (const [name, args] of cases) {
          const p = cli(['--data-dir', path.join(work, 'usage-data'), ...args], env);
          p.catch(() => {}); // awaited in the test
          runs.set(name, p);
        }
      });

      it.each(cases)('%s', async (name, _args, message) => {
        const run = await runs.get(name)!;
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toMatch(message);
        expect(run.stderr).not.toMatch(STACK);
        expect(run.stdout).toBe('');
      });

      it('no usage error touches the network', async () => {
        await Promise.all(runs.values());
        expect(emu.requests.slice(requestsBefore)).toEqual([]);
      });
    });

    it('search --batch with a file that does not exist: a clear error naming it, no stack trace', async () => {
      const missing = path.join(work, 'no-queries.txt');
      const run = await cli(['--data-dir', shared, 'search', '--batch', missing, '--json'], env);
      expect([1, 2]).toContain(run.code);
      expect(run.stderr).toContain(missing);
      expect(run.stderr).not.toMatch(STACK);
    });

    it('the shared data folder holds only what the bot writes', async () => {
      expect((await readdir(shared)).sort()).toEqual(expect.arrayContaining(['digest.db', 'vectors']));
      expect((await readdir(path.join(shared, 'vectors'))).filter((f) => !f.startsWith('index.json'))).toEqual([]);
    });
  },
);
