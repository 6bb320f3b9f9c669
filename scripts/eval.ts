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
import { runIngest } from '../src/cli/ingest.ts';
import { mean, ndcgAt, recallAt } from './eval/metrics.ts';
import { reportTopics } from './eval/topics.ts';
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
  await runIngest(app, { from }); // idempotent: a second run only checks
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
  console.log(`  ${'method'.padEnd(30)} ${splits.map(([s]) => `${`R@5 ${s}`.padStart(10)} ${`nDCG@10 ${s}`.padStart(13)}`).join(' ')}`);
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

interface AnswerQuestion {
  q: string;
  kind: 'unanswerable' | 'detail';
  id?: string;
  fact?: string;
}

const norm = (t: string) => t.replace(/\s+/g, ' ').toLowerCase();

/**
 * The answerer over the corpus: abstention accuracy (abstains on questions the digest cannot answer, answers
 * the others), the share of detail questions whose answer states the fact, and a hard check that every
 * citation of every answer points to a retrieved paper. Returns the number of citation failures.
 */
async function reportAnswers(app: App, topical: Question[]): Promise<number> {
  const asker = await app.asker();
  const extra = JSON.parse(readFileSync(path.join(repoRoot, 'scripts/eval/answer-questions.json'), 'utf8')) as AnswerQuestion[];
  const cases = [
    ...topical.map((q) => ({ q: q.q, kind: 'topical' as const, relevant: q.relevant })),
    ...extra.map((q) => ({ q: q.q, kind: q.kind, relevant: q.id ? [q.id] : [], fact: q.fact })),
  ];
  const tally = { topical: [0, 0], detail: [0, 0], unanswerable: [0, 0] } as Record<string, [number, number]>;
  let facts = 0;
  let detailRecall = 0;
  let citationFailures = 0;
  let citedRelevant = 0;
  let cited = 0;
  for (const c of cases) {
    const a = await asker.ask(c.q);
    const shouldAnswer = c.kind !== 'unanswerable';
    const t = tally[c.kind]!;
    t[1]++;
    if (a.abstained !== shouldAnswer) t[0]++;
    const retrieved = new Set(a.retrieved.map((h) => h.paper.id));
    for (const cit of a.citations) {
      cited++;
      if (c.relevant.includes(cit.paper.id)) citedRelevant++;
      if (!retrieved.has(cit.paper.id)) {
        citationFailures++;
        console.error(`  CITATION NOT RETRIEVED: "${c.q}" cites ${cit.paper.id}`);
      }
    }
    for (const m of a.text.matchAll(/\[(\d+)\]/g)) {
      if (Number(m[1]) < 1 || Number(m[1]) > a.citations.length) {
        citationFailures++;
        console.error(`  DANGLING MARKER [${m[1]}]: "${c.q}"`);
      }
    }
    if (c.kind === 'detail') {
      if (a.retrieved.slice(0, 5).some((h) => c.relevant.includes(h.paper.id))) detailRecall++;
      if (!a.abstained && norm(a.text).includes(norm(c.fact!))) facts++;
    }
  }
  const pct = (x: number, n: number) => `${x}/${n} (${((100 * x) / Math.max(1, n)).toFixed(0)}%)`;
  const all = Object.values(tally).reduce((acc, [ok, n]) => [acc[0]! + ok, acc[1]! + n], [0, 0]);
  console.log(`\nAnswers (${app.config.llm.provider} answerer, corpus): ${cases.length} questions`);
  console.log(`  abstention accuracy            ${pct(all[0]!, all[1]!)}`);
  console.log(`    answered, should answer      topical ${pct(...tally.topical!)}, detail ${pct(...tally.detail!)}`);
  console.log(`    abstained, should abstain    ${pct(...tally.unanswerable!)}`);
  console.log(`  detail: target paper in top 5  ${pct(detailRecall, tally.detail![1])}`);
  console.log(`  detail: answer states the fact ${pct(facts, tally.detail![1])}`);
  console.log(`  citations to a labelled paper  ${pct(citedRelevant, cited)}`);
  console.log(`  citations not retrieved        ${citationFailures} (must be 0)`);
  return citationFailures;
}

const load = (f: string) => JSON.parse(readFileSync(path.join(repoRoot, 'scripts/eval', f), 'utf8')) as Question[];
const sweep = process.argv.includes('--sweep');

const page = await openIndexed('page', pageFile);
const pageQs = load('page-questions.json').map((q) => ({ ...q, relevant: q.relevant.map(titleId) }));
await report('Copied web page (74 papers)', page, pageQs, sweep);
page.close();

const corpus = await openIndexed('corpus', apiDir);
await report(`Corpus (${corpus.store.stats().papers} papers)`, corpus, load('corpus-questions.json'), sweep);
const failures = await reportAnswers(corpus, load('corpus-questions.json'));
await reportTopics(corpus, sweep); // subscription matching, scripts/eval/topics.ts
corpus.close();
if (failures) {
  console.error(`\nFAILED: ${failures} answer(s) cite a paper that retrieval did not return (see above).`);
  process.exit(1);
}
