/**
 * `npm run eval -- --answers --calibrate`: fits the relevance judge for the configured embedding model on the dev
 * split of scripts/eval/ask-set.ts, and prints the calibration to paste into src/answer/calibration.ts.
 *
 * - relatedAt (the question's mean cosine over the corpus, from which it is about the digest's subjects at all):
 *   the highest value that leaves at most 2% of the answerable dev questions at `none`.
 * - The logistic model: examples are (question, paper) pairs from each question's top 5 (above relatedAt, two or
 *   more content words); a paper is positive when it is labelled relevant (every top-5 paper of an answerable
 *   question was judged, see ask-set.ts), negative otherwise. Gradient descent with a little L2, classes weighed
 *   equally.
 * - answerAt: the lowest confidence at which at most 3% of all dev questions get a wrong or unwarranted answer
 *   (the target is 5% on the test split; the margin is for unseen questions).
 * - borderlineAt: where a configured chat model may be asked (see below).
 */
import type { App } from '../../src/app.ts';
import { answeringIndexes, confidence, FEATURES, isRelated, type Features } from '../../src/answer/judge.ts';
import type { Calibration } from '../../src/answer/calibration.ts';
import { contentTerms, cleanQuestion } from '../../src/answer/question.ts';
import { loadAskCases, shouldAnswer, type AskCase } from './ask-set.ts';

interface Row {
  c: AskCase;
  feats: (Features & { relevant: boolean })[];
  terms: number;
}

export async function featureRows(app: App, cases: AskCase[]): Promise<Row[]> {
  const asker = await app.asker();
  const rows: Row[] = [];
  for (const c of cases) {
    const { topic, hits, spread } = await asker.inspect(c.q);
    const top = hits.slice(0, 5);
    const f = asker.judge.features(topic, top, spread);
    rows.push({
      c,
      terms: contentTerms(cleanQuestion(c.q)).length,
      feats: f.map((x, i) => ({ ...x, relevant: c.relevant.includes(top[i]!.paper.id) })),
    });
  }
  return rows;
}

const KEYS = FEATURES;

/** Logistic regression by gradient descent on standardized features; returns weights on the raw scale. */
export function fitLogistic(
  xs: number[][],
  ys: number[],
  l2 = 0.01,
  iters = 4000,
  rate = 0.5,
): { w: number[]; b: number } {
  const d = xs[0]!.length;
  const mu = Array.from({ length: d }, (_, j) => xs.reduce((s, x) => s + x[j]!, 0) / xs.length);
  const sd = Array.from(
    { length: d },
    (_, j) => Math.sqrt(xs.reduce((s, x) => s + (x[j]! - mu[j]!) ** 2, 0) / xs.length) || 1,
  );
  const zs = xs.map((x) => x.map((v, j) => (v - mu[j]!) / sd[j]!));
  // Classes weighed equally, whatever their counts.
  const pos = ys.filter((y) => y === 1).length;
  const weightOf = (y: number) => (y === 1 ? ys.length / (2 * pos) : ys.length / (2 * (ys.length - pos)));
  let w = new Array<number>(d).fill(0);
  let b = 0;
  for (let it = 0; it < iters; it++) {
    const gw = new Array<number>(d).fill(0);
    let gb = 0;
    zs.forEach((z, i) => {
      const p = 1 / (1 + Math.exp(-(b + z.reduce((s, v, j) => s + v * w[j]!, 0))));
      const e = (p - ys[i]!) * weightOf(ys[i]!);
      z.forEach((v, j) => (gw[j]! += e * v));
      gb += e;
    });
    w = w.map((wj, j) => wj - rate * (gw[j]! / zs.length + l2 * wj));
    b -= rate * (gb / zs.length);
  }
  const raw = w.map((wj, j) => wj / sd[j]!);
  return { w: raw, b: b - raw.reduce((s, wj, j) => s + wj * mu[j]!, 0) };
}

/** The judge's outcome for a question's rows under a calibration, and whether it cites a relevant paper. */
function outcomeOf(r: Row, c: Calibration): { answered: boolean; good: boolean } {
  if (r.terms < 2 || !r.feats.some((f) => isRelated(f, c))) return { answered: false, good: false };
  const cited = answeringIndexes(
    r.feats.map((f) => ({ ...f, confidence: confidence(f, c) })),
    c,
  ).map((i) => r.feats[i]!);
  return { answered: cited.length > 0, good: cited.some((f) => f.relevant) };
}

export async function calibrate(app: App, base: Calibration): Promise<Calibration> {
  const rows = await featureRows(
    app,
    loadAskCases().filter((c) => c.split === 'dev'),
  );
  const answerable = rows.filter((r) => shouldAnswer(r.c.group) && r.feats.length);
  // relatedAt: the highest domain threshold that leaves at most 2% of the answerable questions at `none`.
  const domains = answerable.map((r) => r.feats[0]!.domain).sort((a, b) => a - b);
  const relatedAt = Math.round(domains[Math.floor(0.02 * domains.length)]! * 1000) / 1000;
  const xs: number[][] = [];
  const ys: number[] = [];
  for (const r of rows) {
    if (r.terms < 2) continue; // never answered by rule
    for (const f of r.feats) {
      if (!isRelated(f, { ...base, relatedAt })) continue; // never answered either
      xs.push(KEYS.map((k) => f[k]));
      ys.push(f.relevant ? 1 : 0);
    }
  }
  const { w, b } = fitLogistic(xs, ys);
  const round = (x: number, n = 3) => Math.round(x * 10 ** n) / 10 ** n;
  const cal: Calibration = {
    ...base,
    weights: Object.fromEntries(KEYS.map((k, j) => [k, round(w[j]!)])),
    bias: round(b),
    relatedAt,
  };
  const grid = Array.from({ length: 199 }, (_, i) => (i + 1) / 200);
  const wrongShare = (t: number) => {
    const c = { ...cal, answerAt: t };
    return (
      rows.filter((r) => {
        const o = outcomeOf(r, c);
        return o.answered && !(shouldAnswer(r.c.group) && o.good);
      }).length / rows.length
    );
  };
  // answerAt: the lowest confidence at which at most 3% of all dev questions get a wrong or unwarranted answer.
  cal.answerAt = grid.find((t) => wrongShare(t) <= 0.03) ?? 0.99;
  // borderlineAt: below answerAt, down to where a quarter of the dev papers are still relevant (a chat model
  // asked there says yes often enough to be worth its latency).
  const pairs = rows
    .filter((r) => r.terms >= 2)
    .flatMap((r) => r.feats.map((f) => ({ c: confidence(f, cal), rel: f.relevant })));
  cal.borderlineAt =
    [...grid]
      .reverse()
      .filter((t) => t < cal.answerAt)
      .find((t) => {
        const band = pairs.filter((p) => p.c >= t && p.c < cal.answerAt);
        return band.length >= 10 && band.filter((p) => p.rel).length / band.length < 0.25;
      }) ?? cal.answerAt;
  const answered = answerable.filter((r) => outcomeOf(r, cal).answered).length;
  cal.figures =
    `dev split, ${rows.length} questions, ${xs.length} (question, paper) pairs of which ${ys.filter(Boolean).length} relevant: ` +
    `${((100 * answered) / answerable.length).toFixed(0)}% of the answerable questions answered, ` +
    `${(100 * wrongShare(cal.answerAt)).toFixed(1)}% of all questions answered wrongly or without warrant, ` +
    `${((100 * domains.filter((d) => d < relatedAt).length) / domains.length).toFixed(1)}% of the answerable below relatedAt`;
  return cal;
}
