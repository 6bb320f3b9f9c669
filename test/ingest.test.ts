import { repoRoot, staticDir, haveModel } from './helpers/shared.ts';
import { daysInRange } from '../src/dates.ts';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App, ModelMismatchError } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { chunkPaper } from '../src/index/chunk.ts';
import type { IngestSummary } from '../src/ingest/ingester.ts';
import { listApiFiles, readApiFile, type SourceBatch } from '../src/sources/files.ts';

import { paperFromApiEntry } from '../src/sources/normalize.ts';
import { HfEmulator } from './helpers/hf-emulator.ts';
import {
  generateCorpus,
  longAbstract,
  newEntry,
  TOPIC_DAYS,
  TOPICS,
  writeDays,
  type TopicKey,
} from './helpers/synthetic-days.ts';

const PARAPHRASES: [TopicKey, string][] = [
  ['draft', 'make a big chatbot reply quicker by letting a little helper network guess the next words'],
  ['protein', 'predict the 3D shape of enzymes from their residue sequence'],
  ['grasp', 'robot hand picking cups and bottles off crowded shelves at home'],
  ['weather', 'machine learning forecasts of storms and heat waves ten days ahead'],
  ['music', 'an AI that writes songs for the keyboard instrument'],
  ['tumor', 'automatic outlining of cancer in magnetic resonance images of the head'],
  ['speech', 'transcribing spoken audio in languages that have little labelled data'],
  ['code', 'agents that repair bugs in real open source software projects'],
];

/** The topic papers as API day files, plus 100 generated distractor papers on other days. */
function corpusDays(): Map<string, Record<string, unknown>[]> {
  const days = generateCorpus({ since: '2025-02-03', days: 4, perDay: 25, seed: 7 });
  for (const key of Object.keys(TOPICS) as TopicKey[]) {
    const day = TOPIC_DAYS[key];
    days.set(day, [...(days.get(day) ?? []), newEntry(TOPICS[key], day)]);
  }
  return days;
}

function openApp(dataDir: string, env: Record<string, string> = {}): App {
  // A closed port: nothing in these tests may reach a network.
  return new App(
    loadConfig({ EMBEDDINGS_MODEL_DIR: staticDir, HF_ENDPOINT: 'http://127.0.0.1:9', ...env }, { dataDir }),
  );
}

async function readBatches(dir: string): Promise<SourceBatch[]> {
  return Promise.all((await listApiFiles(dir)).map((f) => readApiFile(f)));
}

async function ingestDir(dataDir: string, daysDir: string, env: Record<string, string> = {}): Promise<IngestSummary> {
  const app = openApp(dataDir, env);
  try {
    return await (await app.ingester()).ingest(await readBatches(daysDir));
  } finally {
    app.close();
  }
}

/** Every stored chunk has exactly one vector, for its current text and day; no other vectors exist. */
async function expectConsistent(dataDir: string): Promise<{ chunks: number }> {
  const app = openApp(dataDir);
  try {
    const refs = app.store.chunkRefs();
    const vectors = await app.vectors();
    expect(vectors.size).toBe(refs.length);
    const bad = refs.filter((r) => {
      const m = vectors.meta(r.id);
      return !m || m.h !== r.hash || m.p !== r.paperId || m.d !== Number(r.date.replace(/-/g, ''));
    });
    expect(bad).toEqual([]);
    expect(app.store.stats().chunks).toBe(refs.length);
    return { chunks: refs.length };
  } finally {
    app.close();
  }
}

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ingest-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(!haveModel)(
  haveModel
    ? 'ingest and search through App'
    : `ingest and search through App (skipped: no static model at ${staticDir})`,
  () => {
    it('counts added / updated / unchanged / skipped, and embeds only what changed', async () => {
      const days = path.join(work, 'days');
      const data = path.join(work, 'data');
      const bad = newEntry({ id: '2503.00199', title: 'No abstract here', abstract: '' }, '2025-03-04');
      const repr = "{'paper': {'id': '2503.00198'}}";
      const d1 = [
        newEntry(TOPICS.draft, '2025-03-03'),
        newEntry(TOPICS.protein, '2025-03-03'),
        newEntry(TOPICS.grasp, '2025-03-03'),
      ];
      const d2 = [newEntry(TOPICS.weather, '2025-03-04'), newEntry(TOPICS.music, '2025-03-04'), bad, repr];
      // The draft paper again on a later day, with more upvotes: still one paper.
      const d3 = [newEntry(TOPICS.tumor, '2025-03-05'), newEntry({ ...TOPICS.draft, upvotes: 77 }, '2025-03-05')];
      await writeDays(days, { '2025-03-03': d1, '2025-03-04': d2, '2025-03-05': d3 });

      const first = await ingestDir(data, days);
      expect(first).toMatchObject({ added: 6, updated: 0, unchanged: 0, skipped: 2 });
      expect(first.skippedEntries.map((s) => s.reason)).toEqual([
        'paper 2503.00199 has no abstract',
        expect.stringMatching(/is a string/),
      ]);
      const { chunks } = await expectConsistent(data);
      expect(first.embedded).toBe(chunks);
      expect(first.chunks).toBe(chunks);
      let app = openApp(data);
      expect(app.store.get(TOPICS.draft.id)).toMatchObject({ date: '2025-03-03', upvotes: 77 });
      expect(app.store.stats()).toMatchObject({ papers: 6, days: 3, from: '2025-03-03', to: '2025-03-05' });
      app.close();

      const again = await ingestDir(data, days);
      expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 6, skipped: 2, embedded: 0, chunks });

      // A changed abstract re-embeds that paper's chunks only; every other vector is left as it was.
      app = openApp(data);
      const before = await app.vectors();
      const snapshot = new Map([...before.entries()].map(([id]) => [id, Array.from(before.vector(id)!)]));
      app.close();
      const newTumor = { ...TOPICS.tumor, abstract: longAbstract('tumour boundary delineation') };
      await writeDays(days, {
        '2025-03-05': [newEntry(newTumor, '2025-03-05'), newEntry({ ...TOPICS.draft, upvotes: 77 }, '2025-03-05')],
      });
      const changed = await ingestDir(data, days);
      const tumorChunks = chunkPaper(paperFromApiEntry(newEntry(newTumor, '2025-03-05'))).length;
      expect(tumorChunks).toBeGreaterThanOrEqual(3);
      expect(changed).toMatchObject({ added: 0, updated: 1, unchanged: 5, embedded: tumorChunks });
      await expectConsistent(data);
      app = openApp(data);
      const after = await app.vectors();
      for (const [id, v] of snapshot) {
        if (id.startsWith(`${TOPICS.tumor.id}#`)) continue;
        expect(Array.from(after.vector(id)!)).toEqual(v);
      }
      expect(Array.from(after.vector(`${TOPICS.tumor.id}#0`)!)).not.toEqual(snapshot.get(`${TOPICS.tumor.id}#0`));
      expect(app.store.chunksOf(TOPICS.tumor.id)).toHaveLength(tumorChunks);
      app.close();
    });

    it('a paper seen later on an earlier day moves to that day without re-embedding, in both indexes', async () => {
      const days = path.join(work, 'days');
      const data = path.join(work, 'data');
      await writeDays(days, {
        '2025-03-07': [newEntry(TOPICS.music, '2025-03-07'), newEntry(TOPICS.code, '2025-03-07')],
      });
      await ingestDir(data, days);
      const earlier = path.join(work, 'earlier');
      await writeDays(earlier, { '2025-03-03': [newEntry({ ...TOPICS.music, upvotes: 1 }, '2025-03-03')] });
      const moved = await ingestDir(data, earlier);
      expect(moved).toMatchObject({ added: 0, updated: 1, unchanged: 0, embedded: 0 });
      await expectConsistent(data); // the vectors carry the new day
      const app = openApp(data);
      expect(app.store.get(TOPICS.music.id)).toMatchObject({ date: '2025-03-03', upvotes: 3 }); // the later snapshot's counts
      const r = await app.retriever();
      const query = 'an AI that writes songs for the keyboard instrument';
      expect((await r.search(query, { until: '2025-03-03' })).map((h) => h.paper.id)).toEqual([TOPICS.music.id]);
      expect((await r.search(query, { since: '2025-03-04' })).map((h) => h.paper.id)).toEqual([TOPICS.code.id]);
      expect(app.store.lexicalSearch('piano', 5, { until: '2025-03-03' }).map((h) => h.id)).toEqual([TOPICS.music.id]);
      expect(app.store.lexicalSearch('piano', 5, { since: '2025-03-04' })).toEqual([]);
      app.close();
    });

    describe('search', () => {
      let data: string;
      let app: App;
      beforeAll(async () => {
        data = await mkdtemp(path.join(tmpdir(), 'ingest-search-'));
        const days = path.join(data, 'days');
        const c = corpusDays();
        // One long paper, several chunks, to check the evidence per hit.
        c.get('2025-03-06')!.push(
          newEntry(
            {
              id: '2503.00150',
              title: 'Iterative Pruning of Wide Networks',
              abstract: longAbstract('iterative magnitude pruning'),
            },
            '2025-03-06',
          ),
        );
        await writeDays(days, c);
        const summary = await ingestDir(path.join(data, 'data'), days);
        expect(summary.added).toBe(109);
        app = openApp(path.join(data, 'data'));
      }, 60_000);
      afterAll(async () => {
        app?.close();
        await rm(data, { recursive: true, force: true });
      });

      it.each(PARAPHRASES)('a paraphrased query ranks the %s paper first', async (key, query) => {
        const hits = await (await app.retriever()).search(query, { k: 5 });
        expect(hits[0]?.paper.id, `${query} -> ${hits.map((h) => h.paper.title).join(' | ')}`).toBe(TOPICS[key].id);
        expect(hits[0]!.paper.title).toBe(TOPICS[key].title);
      });

      it('filters by digest date range (inclusive), even against the best match', async () => {
        const r = await app.retriever();
        const [key, query] = PARAPHRASES[3]!; // weather, on 2025-03-05
        const inside = await r.search(query, { k: 10, since: '2025-03-05', until: '2025-03-05' });
        expect(inside[0]!.paper.id).toBe(TOPICS[key].id);
        expect(inside.every((h) => h.paper.date === '2025-03-05')).toBe(true);
        const outside = await r.search(query, { k: 20, since: '2025-03-06' });
        expect(outside.length).toBeGreaterThan(0);
        expect(outside.map((h) => h.paper.id)).not.toContain(TOPICS[key].id);
        expect(outside.every((h) => h.paper.date >= '2025-03-06')).toBe(true);
        const before = await r.search(query, { k: 20, until: '2025-02-04' });
        expect(before.length).toBeGreaterThan(0);
        expect(before.every((h) => h.paper.date <= '2025-02-04')).toBe(true);
        expect(await r.search(query, { since: '2026-01-01' })).toEqual([]);
      });

      it('a paper appears once per result list, with at most 2 of its own chunks as evidence, best first', async () => {
        const r = await app.retriever();
        for (const q of [
          'iterative magnitude pruning budget',
          'graph neural networks reward modelling',
          ...PARAPHRASES.map((p) => p[1]),
        ]) {
          const hits = await r.search(q, { k: 15 });
          expect(hits.length).toBe(15);
          expect(new Set(hits.map((h) => h.paper.id)).size).toBe(hits.length);
          for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
          for (const h of hits) {
            expect(h.chunks.length).toBeGreaterThanOrEqual(1);
            expect(h.chunks.length).toBeLessThanOrEqual(2);
            for (const c of h.chunks) expect(c.text.startsWith(h.paper.title)).toBe(true);
            if (h.chunks.length === 2) expect(h.chunks[0]!.score).toBeGreaterThanOrEqual(h.chunks[1]!.score);
          }
        }
        const long = (await r.search('iterative magnitude pruning budget', { k: 3 }))[0]!;
        expect(long.paper.id).toBe('2503.00150');
        expect(app.store.chunksOf('2503.00150').length).toBeGreaterThanOrEqual(3);
        expect(long.chunks).toHaveLength(2);
      });

      it('an empty or stopword-only query is handled (no results or dense-only results), never an error', async () => {
        const r = await app.retriever();
        expect(await r.search('   ')).toEqual([]);
        const hits = await r.search('what are the papers about?', { k: 3 });
        expect(hits.length).toBeLessThanOrEqual(3);
        expect((await r.search('"NEAR( * title:', { k: 3 })).length).toBeLessThanOrEqual(3);
      });
    });

    it('refuses an index built by another model (ModelMismatchError); reindex fixes it', async () => {
      const days = path.join(work, 'days');
      const data = path.join(work, 'data');
      await writeDays(days, {
        '2025-03-03': (Object.keys(TOPICS) as TopicKey[]).map((k) => newEntry(TOPICS[k], '2025-03-03')),
      });
      await ingestDir(data, days);
      // The same model under another name is another model as far as the index can tell.
      const other = path.join(work, 'other-static-model');
      await mkdir(other);
      for (const f of ['config.json', 'tokenizer.json', 'model.safetensors'])
        await copyFile(path.join(staticDir, f), path.join(other, f));

      let app = openApp(data, { EMBEDDINGS_MODEL_DIR: other });
      expect(app.indexModel()).toEqual({ model: `static:${path.basename(staticDir)}`, dimension: 128 });
      const err = await app.retriever().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelMismatchError);
      expect((err as Error).message).toContain(`built with static:${path.basename(staticDir)} (128 dimensions)`);
      expect((err as Error).message).toContain('configured model is static:other-static-model');
      expect((err as Error).message).toMatch(/reindex/);
      await expect(app.ingester()).rejects.toThrow(ModelMismatchError);
      // Refusing changed nothing: the recorded model is still the one that built the index.
      expect(app.indexModel()!.model).toBe(`static:${path.basename(staticDir)}`);

      const { chunks } = await expectConsistent(data);
      const { embedded } = await app.reindex();
      expect(embedded).toBe(chunks);
      expect(app.indexModel()!.model).toBe('static:other-static-model');
      const hits = await (await app.retriever()).search(PARAPHRASES[1]![1], { k: 3 });
      expect(hits[0]!.paper.id).toBe(TOPICS.protein.id);
      app.close();
      await expectConsistent(data);

      // Now the original model is the foreign one.
      app = openApp(data);
      await expect(app.retriever()).rejects.toThrow(ModelMismatchError);
      app.close();
      // And after reindex, an ingest with the new model embeds nothing.
      expect(await ingestDir(data, days, { EMBEDDINGS_MODEL_DIR: other })).toMatchObject({ unchanged: 8, embedded: 0 });
    });

    describe('crash safety of the vector file', () => {
      /** Two ingests: after the second, index.json holds A+B and index.json.bak holds A. */
      async function twoIngests(): Promise<{ data: string; days: string; chunksA: number; chunksB: number }> {
        const days = path.join(work, 'days');
        const data = path.join(work, 'data');
        const a = generateCorpus({ since: '2025-04-07', days: 2, perDay: 20, seed: 3 });
        const b = generateCorpus({ since: '2025-05-05', days: 2, perDay: 20, seed: 4, first: 1000 });
        await writeDays(days, a);
        const first = await ingestDir(data, days);
        await writeDays(days, b);
        const second = await ingestDir(data, days);
        expect(second).toMatchObject({ added: 40, unchanged: 40 });
        return { data, days, chunksA: first.chunks, chunksB: second.embedded };
      }

      it('a vector file cut short mid-write: the backup is restored and a re-ingest fills the gap', async () => {
        const { data, days, chunksA, chunksB } = await twoIngests();
        const file = path.join(data, 'vectors', 'index.json');
        const size = (await stat(file)).size;
        await truncate(file, Math.floor(size * 0.6));

        const summary = await ingestDir(data, days);
        expect(summary).toMatchObject({
          added: 0,
          updated: 0,
          unchanged: 80,
          embedded: chunksB,
          chunks: chunksA + chunksB,
        });
        await expectConsistent(data);
        JSON.parse(await readFile(file, 'utf8')); // whole again
        const app = openApp(data);
        const hits = await (await app.retriever()).search('diffusion models reward modelling', { k: 5 });
        expect(hits).toHaveLength(5);
        app.close();
      });

      it('an empty vector file (killed right after the truncating open) is restored too', async () => {
        const { data, days, chunksB } = await twoIngests();
        await writeFile(path.join(data, 'vectors', 'index.json'), '');
        expect((await ingestDir(data, days)).embedded).toBe(chunksB);
        await expectConsistent(data);
      });

      it('a missing vector file with a backup is restored; without either, everything is re-embedded', async () => {
        const { data, days, chunksA, chunksB } = await twoIngests();
        await unlink(path.join(data, 'vectors', 'index.json'));
        expect((await ingestDir(data, days)).embedded).toBe(chunksB);
        await rm(path.join(data, 'vectors'), { recursive: true });
        expect((await ingestDir(data, days)).embedded).toBe(chunksA + chunksB);
        await expectConsistent(data);
      });

      it('a damaged vector file with a damaged backup is a clear error too (not a bare JSON parse error)', async () => {
        const { data } = await twoIngests();
        await truncate(path.join(data, 'vectors', 'index.json'), 1000);
        await truncate(path.join(data, 'vectors', 'index.json.bak'), 1000);
        const app = openApp(data);
        const err = await app.ingester().catch((e: unknown) => e);
        app.close();
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toContain(path.join(data, 'vectors'));
        expect((err as Error).message).toMatch(/Delete that folder and run the ingest again/);
      });

      it('a damaged vector file without a backup is a clear error that says how to recover', async () => {
        const { data, days } = await twoIngests();
        await unlink(path.join(data, 'vectors', 'index.json.bak'));
        await truncate(path.join(data, 'vectors', 'index.json'), 1000);
        const app = openApp(data);
        const err = await app.ingester().catch((e: unknown) => e);
        app.close();
        expect((err as Error).message).toMatch(
          /vector index .*index\.json is damaged .* no backup\. Delete that folder and run the ingest again/,
        );
        // Following that advice works.
        await rm(path.join(data, 'vectors'), { recursive: true });
        await ingestDir(data, days);
        await expectConsistent(data);
      });
    });
  },
);

// ---------------------------------------------------------------------------------------------------------------
// The real thing: the CLI killed with SIGKILL at several moments, then run to completion.

const CLI = ['--import', 'tsx', path.join(repoRoot, 'src', 'cli.ts')];

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface KillPlan {
  /** What the kill waits for: checked every millisecond with the child's stderr so far and its start time. */
  when: (stderr: string, startedAt: number) => boolean;
  /** Then wait this long (ms) before SIGKILL. */
  delayMs: number;
  label: string;
}

/** Start the CLI and SIGKILL it once `plan.when` holds plus `plan.delayMs`; resolves when it is gone. */
function killDuring(
  args: string[],
  env: NodeJS.ProcessEnv,
  plan: KillPlan,
): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let exited = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      clearInterval(poll);
      resolve({ killed: signal === 'SIGKILL', code, stderr });
    });
    const poll = setInterval(() => {
      if (!plan.when(stderr, startedAt)) return;
      clearInterval(poll);
      setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, plan.delayMs);
    }, 1);
  });
}

const isJsonFile = (file: string): boolean => {
  try {
    JSON.parse(readFileSync(file, 'utf8'));
    return true;
  } catch {
    return !existsSync(file);
  }
};

const mtime = (file: string): number => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
};

describe.skipIf(!haveModel)(
  haveModel ? 'the CLI killed mid-ingest' : `the CLI killed mid-ingest (skipped: no static model at ${staticDir})`,
  () => {
    let emu: HfEmulator;
    afterEach(async () => {
      await emu?.close();
    });

    it('survives SIGKILL at several moments: stats still runs, a re-run completes, the index is consistent', {
      timeout: 120_000,
    }, async () => {
      const days = path.join(work, 'days');
      const data = path.join(work, 'data');
      const dbFile = path.join(data, 'digest.db');
      const bak = path.join(data, 'vectors', 'index.json.bak');
      const indexFile = path.join(data, 'vectors', 'index.json');
      const corpus = generateCorpus({ since: '2025-06-02', days: 24, perDay: 50, seed: 11 });
      const [since, until] = ['2025-06-02', '2025-07-06']; // the 24 weekdays of the corpus and the weekends
      const n = daysInRange(since, until).length;
      await writeDays(days, corpus);
      emu = await HfEmulator.start({ papers: corpus });
      const total = [...corpus.values()].reduce((n, d) => n + d.length, 0);
      const expectedChunks = [...corpus].reduce(
        (n, [day, list]) => n + list.reduce((m, e) => m + chunkPaper(paperFromApiEntry(e, day)).length, 0),
        0,
      );
      // A clean environment: nothing of the parent's DATA_DIR, HF_* or EMBEDDINGS_* leaks in.
      const env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        EMBEDDINGS_MODEL_DIR: staticDir,
        HF_ENDPOINT: emu.endpoint,
        DATA_DIR: data,
      };
      const args = ['ingest', '--since', since, '--until', until];
      const rand = (n: number) => Math.floor(Math.random() * n);
      const plans: KillPlan[] = [
        { label: 'loading the model', when: () => existsSync(dbFile), delayMs: 20 },
        { label: 'fetching day 8', when: (e) => e.includes(`(8/${n})`), delayMs: 0 },
        { label: 'embedding', when: (e) => e.includes(`(${n}/${n})`), delayMs: 100 + rand(200) },
        { label: 'random', when: (e) => e.includes(`(1/${n})`), delayMs: 300 + rand(900) },
        // Vectra's writeFile has truncated index.json and is writing it (after this run's backup copy): a torn file.
        { label: 'writing index.json', when: (_e, t) => mtime(bak) >= t && mtime(indexFile) > mtime(bak), delayMs: 0 },
        { label: 'late', when: (e) => e.includes(`(${n}/${n})`), delayMs: 400 + rand(600) },
      ];
      const killed: string[] = [];
      const torn: string[] = []; // kills that left index.json cut short
      // Each moment is tried on a fresh data dir, so a later plan still finds work to interrupt however fast the
      // machine is; after each kill, stats still runs and a re-run completes the same dir.
      for (const [i, plan] of plans.entries()) {
        const dir = path.join(work, `data-${i}`);
        const planEnv = { ...env, DATA_DIR: dir };
        const planDb = path.join(dir, 'digest.db');
        const planBak = path.join(dir, 'vectors', 'index.json.bak');
        const planIndex = path.join(dir, 'vectors', 'index.json');
        const when: KillPlan['when'] =
          plan.label === 'loading the model'
            ? () => existsSync(planDb)
            : plan.label === 'writing index.json'
              ? (_e, t) => mtime(planBak) >= t && mtime(planIndex) > mtime(planBak)
              : plan.when;
        const r = await killDuring(args, planEnv, { ...plan, when });
        if (!r.killed)
          expect(r.code, r.stderr).toBe(0); // finished before the kill: fine, but then it must have succeeded
        else {
          killed.push(plan.label);
          if (!isJsonFile(planIndex)) torn.push(plan.label);
        }

        const stats = await runCli(['stats', '--json'], planEnv);
        expect(stats.code, stats.stderr).toBe(0);
        const s = JSON.parse(stats.stdout) as { papers: number; chunks: number };
        expect(s.papers).toBeLessThanOrEqual(total);
        expect(s.chunks).toBeLessThanOrEqual(expectedChunks);
        if (plan.label === 'fetching day 8' && r.killed) {
          // Days are stored as they arrive: the days fetched before the kill are kept.
          expect(s.papers).toBeGreaterThanOrEqual(5 * 50);
        }
        if (i < plans.length - 1) {
          const again = await runCli(args, planEnv);
          expect(again.code, `${plan.label}: ${again.stderr}`).toBe(0);
          expect((await expectConsistent(dir)).chunks, plan.label).toBe(expectedChunks);
        } else {
          await cp(dir, data, { recursive: true }); // the last one is completed and checked in detail below
        }
      }
      const story = `killed during: ${killed.join(', ')}; index.json torn by: ${torn.join(', ') || 'none'}`;
      expect(killed.length, story).toBeGreaterThanOrEqual(4);
      // The kill that watches Vectra's write really leaves a torn file (what the backup exists for).
      expect(torn, story).toContain('writing index.json');

      const final = await runCli(args, env);
      expect(final.code, final.stderr).toBe(0);
      const m =
        /^(\d+) added, (\d+) updated, (\d+) unchanged, (\d+) skipped; (\d+) chunks embedded, (\d+) in the index; [\d.]+ s$/.exec(
          final.stdout.trim(),
        );
      expect(m, final.stdout).not.toBeNull();
      const [added, updated, unchanged, skipped, , inIndex] = m!.slice(1).map(Number);
      expect(added! + updated! + unchanged!).toBe(total);
      expect(skipped).toBe(0);
      expect(inIndex).toBe(expectedChunks);

      const stats = JSON.parse((await runCli(['stats', '--json'], env)).stdout) as Record<string, unknown>;
      expect(stats).toEqual({
        papers: total,
        chunks: expectedChunks,
        vectors: expectedChunks,
        days: 24,
        from: '2025-06-02',
        to: [...corpus.keys()].at(-1),
        model: `static:${path.basename(staticDir)}`,
      });
      await expectConsistent(data);

      const app = openApp(data);
      expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
      app.db.exec("INSERT INTO papers_fts(papers_fts) VALUES('integrity-check')"); // throws if the FTS index is corrupt
      const hits = await (await app.retriever()).search('quantized language models tokenizer design', { k: 5 });
      expect(hits).toHaveLength(5);
      app.close();

      // Once complete, the same days from saved files are the same records: nothing to do.
      const idle = await runCli(['ingest', '--from', days], env);
      expect(idle.stdout).toMatch(
        new RegExp(
          `^0 added, 0 updated, ${total} unchanged, 0 skipped; 0 chunks embedded, ${expectedChunks} in the index`,
        ),
      );
    });
  },
);
