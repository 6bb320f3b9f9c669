/**
 * `npm run eval`: retrieval quality on our own labelled questions, over the 74-paper copied page and the
 * 5,412-entry corpus in ../shared. Prints Recall@5 and nDCG@10 for BM25 alone, dense alone, plain reciprocal
 * rank fusion and the hybrid the bot uses, on the dev and test splits. `--sweep` also prints the BM25 weight
 * sweep (dev split) that chose the hybrid's weight. Then subscription matching on scripts/eval/topics.json:
 * precision and recall per split at the calibrated threshold (`--sweep`: at other thresholds too).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { DEFAULT_FUSION, type FusionOptions } from '../src/retrieval/fusion.ts';
import { titleId } from '../src/sources/normalize.ts';
import { mean, ndcgAt, recallAt } from './eval/metrics.ts';
import { reportTopics } from './eval/topics.ts';
import { reportAnswers } from './eval/answers.ts';
import { calibrate } from './eval/calibrate.ts';
import { apiDir, pageFile, repoRoot, requireShared, staticModelDir } from './shared-data.ts';

requireShared('npm run eval');

interface Question {
  q: string;
  relevant: string[];
  split: 'dev' | 'test';
}

const METHODS: [string, FusionOptions][] = [
  ['bm25', { ...DEFAULT_FUSION, method: 'bm25' }],
  ['dense', { ...DEFAULT_FUSION, method: 'dense' }],
  ['rrf (plain)', { ...DEFAULT_FUSION, method: 'rrf' }],
  [`hybrid (${DEFAULT_FUSION.method}, alpha ${DEFAULT_FUSION.alpha})`, DEFAULT_FUSION],
];

async function openIndexed(name: string, from: string): Promise<App> {
  const env = { ...process.env, EMBEDDINGS_MODEL_DIR: process.env.EMBEDDINGS_MODEL_DIR ?? staticModelDir };
  const app = new App(loadConfig(env, { dataDir: path.join(repoRoot, 'data', '.eval', name) }));
  await app.ingestFrom(from); // idempotent: a second run only checks
  return app;
}

async function score(app: App, qs: Question[], fusion: FusionOptions) {
  const retriever = await app.retriever();
  const r5: number[] = [];
  const n10: number[] = [];
  for (const q of qs) {
    const ranked = (await retriever.search(q.q, { k: 10, fusion })).map((h) => h.paper.id);
    const rel = new Set(q.relevant);
    r5.push(recallAt(ranked, rel, 5));
    n10.push(ndcgAt(ranked, rel, 10));
  }
  return { recall5: mean(r5), ndcg10: mean(n10) };
}

const fmt = (x: number) => x.toFixed(3);

async function report(title: string, app: App, qs: Question[], sweep: boolean): Promise<void> {
  const splits: [string, Question[]][] = [
    ['dev', qs.filter((q) => q.split === 'dev')],
    ['test', qs.filter((q) => q.split === 'test')],
    ['all', qs],
  ];
  console.log(`\n${title}: ${qs.length} questions (${splits[0]![1].length} dev, ${splits[1]![1].length} test)`);
  console.log(
    `  ${'method'.padEnd(30)} ${splits.map(([s]) => `${`R@5 ${s}`.padStart(10)} ${`nDCG@10 ${s}`.padStart(13)}`).join(' ')}`,
  );
  for (const [name, fusion] of METHODS) {
    const cells: string[] = [];
    for (const [, sq] of splits) {
      const s = await score(app, sq, fusion);
      cells.push(`${fmt(s.recall5).padStart(10)} ${fmt(s.ndcg10).padStart(13)}`);
    }
    console.log(`  ${name.padEnd(30)} ${cells.join(' ')}`);
  }
  if (sweep) {
    console.log('  convex BM25 weight sweep (dev split): alpha -> R@5 / nDCG@10');
    for (let a = 0.3; a <= 0.951; a += 0.05) {
      const s = await score(app, splits[0]![1], { ...DEFAULT_FUSION, method: 'convex', alpha: a });
      console.log(`    ${a.toFixed(2)}  ${fmt(s.recall5)} / ${fmt(s.ndcg10)}`);
    }
  }
}

const load = (f: string) => JSON.parse(readFileSync(path.join(repoRoot, 'scripts/eval', f), 'utf8')) as Question[];
const sweep = process.argv.includes('--sweep');

// `--answers`: only the answerer's part (with `--calibrate`, refit the judge first).
const answersOnly = process.argv.includes('--answers');
if (!answersOnly) {
  const page = await openIndexed('page', pageFile);
  const pageQs = load('page-questions.json').map((q) => ({ ...q, relevant: q.relevant.map(titleId) }));
  await report('Copied web page (74 papers)', page, pageQs, sweep);
  page.close();
}

const corpus = await openIndexed('corpus', apiDir);
if (!answersOnly)
  await report(`Corpus (${corpus.store.stats().papers} papers)`, corpus, load('corpus-questions.json'), sweep);
if (process.argv.includes('--calibrate')) {
  const asker = await corpus.asker();
  console.log(`\nCalibration for ${(await corpus.embeddings()).modelId} (paste into src/answer/calibration.ts):`);
  console.log(
    JSON.stringify(
      await calibrate(corpus, { ...asker.judge.calibration, model: (await corpus.embeddings()).modelId }),
      null,
      2,
    ),
  );
}
const { failures } = await reportAnswers(corpus);
if (!answersOnly) await reportTopics(corpus, sweep); // subscription matching, scripts/eval/topics.ts
corpus.close();
if (failures.length) {
  console.error(
    `\nFAILED: ${failures.length} answer(s) cite a paper that retrieval did not return, or a marker without a source (see above).`,
  );
  process.exit(1);
}
