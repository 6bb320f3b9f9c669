/**
 * Subscription matching quality on scripts/eval/topics.json: two labelled sets, each a list of topics with every
 * relevant paper of a few real digest days: `dev` (what the matcher was tuned on) and `test` (held out: other
 * topics, other days). Every topic is matched against each day's papers as a new digest day would be; a
 * (topic, paper) pair is a true positive when the paper is labelled relevant to the topic. How the labels were
 * made: scripts/eval/README.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { App } from '../../src/app.ts';
import {
  MATCH_THRESHOLD,
  PROFILE_WEIGHT,
  SIMILARITY_WEIGHT,
  type TopicMatches,
} from '../../src/subscriptions/matcher.ts';
import type { Paper } from '../../src/types.ts';
import { apiDir, repoRoot } from '../shared-data.ts';

type Split = 'dev' | 'test';
interface LabelledTopic {
  topic: string;
  relevant: string[];
}
type LabelledSets = Record<Split, { days: string[]; topics: LabelledTopic[] }>;

interface Scored {
  topic: string;
  split: Split;
  score: number;
  relevant: boolean;
}

export interface TopicEval {
  threshold: number;
  splits: Record<
    Split,
    {
      precision: number;
      recall: number;
      macroPrecision: number;
      macroRecall: number;
      tp: number;
      fp: number;
      fn: number;
    }
  >;
}

/** Every (topic, paper) pair of each set's labelled days with its score. */
async function scoreAll(app: App): Promise<Scored[]> {
  const sets = JSON.parse(readFileSync(path.join(repoRoot, 'scripts/eval/topics.json'), 'utf8')) as LabelledSets;
  const matcher = await app.topicMatcher();
  const out: Scored[] = [];
  for (const split of ['dev', 'test'] as const) {
    const { days, topics } = sets[split];
    const seen = new Set<string>();
    for (const day of days) {
      // The papers listed on that day's digest (a paper listed twice counts once, on its first day here).
      const entries = JSON.parse(readFileSync(path.join(apiDir, `${day}.json`), 'utf8')) as { paper: { id: string } }[];
      const ids = entries.map((e) => e.paper.id).filter((id) => !seen.has(id));
      ids.forEach((id) => seen.add(id));
      const stored = app.store.getMany(ids);
      const papers = ids.map((id) => stored.get(id)).filter((p): p is Paper => !!p);
      const results: TopicMatches[] = await matcher.match(
        topics.map((t) => t.topic),
        papers,
        { threshold: -Infinity },
      );
      results.forEach((r, i) => {
        const t = topics[i]!;
        for (const m of r.matches)
          out.push({ topic: t.topic, split, score: m.score, relevant: t.relevant.includes(m.paper.id) });
      });
    }
  }
  return out;
}

function evaluate(scored: Scored[], threshold: number): TopicEval['splits'] {
  const result = {} as TopicEval['splits'];
  for (const split of ['dev', 'test'] as const) {
    const rows = scored.filter((s) => s.split === split);
    const topics = [...new Set(rows.map((r) => r.topic))];
    let tp = 0,
      fp = 0,
      fn = 0;
    const ps: number[] = [];
    const rs: number[] = [];
    for (const t of topics) {
      const r = rows.filter((x) => x.topic === t);
      const ttp = r.filter((x) => x.relevant && x.score >= threshold).length;
      const tfp = r.filter((x) => !x.relevant && x.score >= threshold).length;
      const tfn = r.filter((x) => x.relevant && x.score < threshold).length;
      tp += ttp;
      fp += tfp;
      fn += tfn;
      if (ttp + tfp) ps.push(ttp / (ttp + tfp));
      if (ttp + tfn) rs.push(ttp / (ttp + tfn));
    }
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    result[split] = {
      precision: tp / Math.max(1, tp + fp),
      recall: tp / Math.max(1, tp + fn),
      macroPrecision: mean(ps),
      macroRecall: mean(rs),
      tp,
      fp,
      fn,
    };
  }
  return result;
}

/** Micro (and macro) precision and recall per set at the matcher's threshold. */
export async function evaluateTopics(app: App): Promise<TopicEval> {
  return { threshold: MATCH_THRESHOLD, splits: evaluate(await scoreAll(app), MATCH_THRESHOLD) };
}

/** Print micro (and macro) precision and recall per split at the matcher's threshold; `sweep` adds a threshold sweep. */
export async function reportTopics(app: App, sweep = false): Promise<TopicEval> {
  const scored = await scoreAll(app);
  const threshold = MATCH_THRESHOLD;
  const splits = evaluate(scored, threshold);
  const count = (split: Split) => new Set(scored.filter((s) => s.split === split).map((s) => s.topic)).size;
  const f = (x: number) => x.toFixed(3);
  console.log(
    `\nSubscriptions: ${count('dev')} dev and ${count('test')} test topics (score = coverage + ${SIMILARITY_WEIGHT} x title similarity + ${PROFILE_WEIGHT} x profile; threshold ${threshold}, chosen on dev)`,
  );
  console.log(
    `  ${'split'.padEnd(6)} ${'precision'.padStart(9)} ${'recall'.padStart(7)} ${'macro P'.padStart(8)} ${'macro R'.padStart(8)}   pairs tp/fp/fn`,
  );
  for (const split of ['dev', 'test'] as const) {
    const s = splits[split];
    console.log(
      `  ${split.padEnd(6)} ${f(s.precision).padStart(9)} ${f(s.recall).padStart(7)} ${f(s.macroPrecision).padStart(8)} ${f(s.macroRecall).padStart(8)}   ${s.tp}/${s.fp}/${s.fn}`,
    );
  }
  console.log('  target: precision >= 0.8 at recall >= 0.7');
  if (sweep) {
    console.log('  threshold sweep: threshold -> dev P / R, test P / R');
    for (let t = 0.6; t <= 1.001; t += 0.05) {
      const s = evaluate(scored, t);
      console.log(
        `    ${t.toFixed(2)}  ${f(s.dev.precision)} / ${f(s.dev.recall)}   ${f(s.test.precision)} / ${f(s.test.recall)}`,
      );
    }
  }
  return { threshold, splits };
}
