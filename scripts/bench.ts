/**
 * `npm run bench`: speed figures on the real 5,412-entry corpus in ../shared (a benchmark, not a test: it
 * prints numbers and asserts nothing). Sections: ingest, embedding only, index load, search latency, peak RSS.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { percentile } from './eval/metrics.ts';
import { benchDiscord } from './bench-discord.ts';
import { benchSubscriptions } from './bench/subscriptions.ts';
import { apiDir, repoRoot, requireShared, staticModelDir } from './shared-data.ts';

requireShared('npm run bench');

const env = { ...process.env, EMBEDDINGS_MODEL_DIR: process.env.EMBEDDINGS_MODEL_DIR ?? staticModelDir };
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'digest-bench-'));
const ms = (t0: number) => performance.now() - t0;
const line = (label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`);

/** 200 realistic queries: every eval question, cycled. */
function benchQueries(n = 200): string[] {
  const qs: string[] = [];
  for (const f of ['corpus-questions.json', 'page-questions.json', 'answer-questions.json']) {
    for (const q of JSON.parse(readFileSync(path.join(repoRoot, 'scripts/eval', f), 'utf8')) as { q: string }[])
      qs.push(q.q);
  }
  return Array.from({ length: n }, (_, i) => qs[i % qs.length]!);
}

try {
  console.log(`bench: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}\n`);

  // 1. Whole-corpus ingest into an empty index, as `npm run cli -- ingest --from` does it.
  {
    const app = new App(loadConfig(env, { dataDir }));
    const t0 = performance.now();
    const { summary } = await app.ingestFrom(apiDir);
    const s = ms(t0) / 1000;
    line(
      'ingest, 5,412 entries (cold index)',
      `${s.toFixed(1)} s, ${Math.round(summary.added / s)} papers/s (${summary.added} papers, ${summary.chunks} chunks)`,
    );

    // 2. Embedding alone, for the same chunk texts: the ratio to the ingest shows the pipeline's overhead.
    const emb = await app.embeddings();
    const texts = app.store.getChunks(app.store.chunkRefs().map((r) => r.id));
    const t1 = performance.now();
    await emb.embedDocuments([...texts.values()].map((c) => c.text));
    const e = ms(t1) / 1000;
    line(
      'embedding only, same chunks',
      `${e.toFixed(1)} s (${Math.round(texts.size / e)} chunks/s; ingest/embedding = ${(s / e).toFixed(2)})`,
    );

    const t2 = performance.now();
    const again = await app.ingestFrom(apiDir);
    line(
      're-ingest, nothing changed',
      `${(ms(t2) / 1000).toFixed(1)} s (${again.summary.added} added, ${again.summary.updated} updated)`,
    );
    app.close();
  }

  // 3. Opening the index as a fresh process would: database, model, vector file.
  const t3 = performance.now();
  const app = new App(loadConfig(env, { dataDir }));
  const retriever = await app.retriever();
  line('index load (db + model + vectors)', `${ms(t3).toFixed(0)} ms`);

  // 4. Search latency, one query at a time, k = 10.
  const queries = benchQueries();
  for (const q of queries.slice(0, 10)) await retriever.search(q); // warm-up
  const lat: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    await retriever.search(q, { k: 10 });
    lat.push(ms(t));
  }
  line(
    `search latency, ${queries.length} queries (k=10)`,
    `p50 ${percentile(lat, 50).toFixed(1)} ms, p95 ${percentile(lat, 95).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms`,
  );
  const ranged: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    await retriever.search(q, { k: 10, since: '2026-06-01', until: '2026-08-21' });
    ranged.push(ms(t));
  }
  line(
    'search latency, with a date range',
    `p50 ${percentile(ranged, 50).toFixed(1)} ms, p95 ${percentile(ranged, 95).toFixed(1)} ms`,
  );

  // 5. Answer latency with the extractive answerer (retrieval + relevance + sentence selection + check).
  const asker = await app.asker();
  for (const q of queries.slice(0, 10)) await asker.ask(q); // warm-up
  const askLat: number[] = [];
  let abstained = 0;
  for (const q of queries) {
    const t = performance.now();
    const a = await asker.ask(q);
    askLat.push(ms(t));
    if (a.abstained) abstained++;
  }
  line(
    `ask latency, ${queries.length} questions (extractive)`,
    `p50 ${percentile(askLat, 50).toFixed(1)} ms, p95 ${percentile(askLat, 95).toFixed(1)} ms, max ${Math.max(...askLat).toFixed(1)} ms (${abstained} abstained)`,
  );

  // 6. Subscription matching: 10,000 subscriptions against one real day (scripts/bench/subscriptions.ts).
  await benchSubscriptions(app, line);
  app.close();

  // 6. Discord: 200 /ask interactions from 50 users at once, through the emulator and the real client.
  await benchDiscord({ dataDir, line });

  line('peak RSS', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
