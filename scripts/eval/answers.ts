/**
 * The answerer over the corpus, per group of scripts/eval/ask-set.ts and per split: outcome shares (answer /
 * closest / none), wrong answers (an answer where none was warranted, or one citing no relevant paper),
 * answerable questions left at `none`, whether `closest` lists a relevant paper, detail answers that state their
 * fact, and a hard check that every citation points to a retrieved paper.
 */
import type { App } from '../../src/app.ts';
import type { Answer } from '../../src/answer/types.ts';
import { GROUPS, loadAskCases, shouldAnswer, type AskCase, type Group, type Split } from './ask-set.ts';

export interface AskResult {
  c: AskCase;
  a: Answer;
}

export interface GroupFigures {
  n: number;
  answer: number;
  closest: number;
  none: number;
  /** Answered without warrant, or answered citing no relevant paper. */
  wrong: number;
  /** For `closest`: a relevant paper among the three listed. */
  closestRelevant: number;
  /** Detail questions whose answer states the fact. */
  facts: number;
  /** A relevant paper among the first five retrieved (what the judge could at best find). */
  inTop5: number;
}

const norm = (t: string) => t.replace(/\s+/g, ' ').toLowerCase();

/** Each case asked once, with the answer. */
export async function askAll(app: App, cases: AskCase[]): Promise<AskResult[]> {
  const asker = await app.asker();
  const out: AskResult[] = [];
  for (const c of cases) out.push({ c, a: await asker.ask(c.q) });
  return out;
}

export function figures(results: AskResult[]): GroupFigures {
  const f: GroupFigures = {
    n: results.length,
    answer: 0,
    closest: 0,
    none: 0,
    wrong: 0,
    closestRelevant: 0,
    facts: 0,
    inTop5: 0,
  };
  for (const { c, a } of results) {
    f[a.outcome]++;
    const rel = new Set(c.relevant);
    if (a.outcome === 'answer' && (!shouldAnswer(c.group) || !a.citations.some((x) => rel.has(x.paper.id)))) f.wrong++;
    if (a.outcome === 'closest' && a.closest.some((x) => rel.has(x.paper.id))) f.closestRelevant++;
    if (c.fact && a.outcome === 'answer' && norm(a.text).includes(norm(c.fact))) f.facts++;
    if (a.retrieved.slice(0, 5).some((h) => rel.has(h.paper.id))) f.inTop5++;
  }
  return f;
}

/** Citations that do not point to a retrieved paper, and markers without a citation: both must be 0. */
export function citationFailures(results: AskResult[]): string[] {
  const out: string[] = [];
  for (const { c, a } of results) {
    const retrieved = new Set(a.retrieved.map((h) => h.paper.id));
    for (const cit of a.citations)
      if (!retrieved.has(cit.paper.id)) out.push(`"${c.q}" cites ${cit.paper.id}, which was not retrieved`);
    for (const m of a.text.matchAll(/\[(\d+)\]/g)) {
      if (Number(m[1]) < 1 || Number(m[1]) > a.citations.length) out.push(`"${c.q}" has a dangling marker [${m[1]}]`);
    }
  }
  return out;
}

const pct = (x: number, n: number) => (n ? `${((100 * x) / n).toFixed(0)}%` : '-').padStart(4);

/** Prints the table; returns the citation failures (the eval exits 1 when there are any). */
export async function reportAnswers(app: App): Promise<{ failures: string[]; results: AskResult[] }> {
  const cases = loadAskCases();
  const results = await askAll(app, cases);
  console.log(
    `\nAnswers (${app.config.llm.provider} answerer, corpus, calibration ${(await app.asker()).judge.calibration.model}): ${cases.length} questions`,
  );
  console.log(
    '  group         split    n  answer closest  none  wrong  relevant in top 5  closest lists one  states fact (of answered)',
  );
  for (const split of ['dev', 'test'] as Split[]) {
    for (const g of GROUPS as Group[]) {
      const rs = results.filter((r) => r.c.group === g && r.c.split === split);
      if (!rs.length) continue;
      const f = figures(rs);
      const top5 = shouldAnswer(g) ? pct(f.inTop5, f.n) : '   -';
      const rel = shouldAnswer(g) ? `${f.closestRelevant}/${f.closest}` : '-';
      const fact = g === 'detail' ? `${f.facts}/${f.answer} (${pct(f.facts, f.answer).trim()})` : '-';
      console.log(
        `  ${g.padEnd(13)} ${split.padEnd(5)} ${String(f.n).padStart(4)}  ${pct(f.answer, f.n)}    ${pct(f.closest, f.n)}  ${pct(f.none, f.n)}  ${String(f.wrong).padStart(4)}  ${top5.padStart(17)}  ${rel.padStart(17)}  ${fact.padStart(24)}`,
      );
    }
  }
  for (const split of ['dev', 'test'] as Split[]) {
    const rs = results.filter((r) => r.c.split === split);
    const ans = rs.filter((r) => shouldAnswer(r.c.group));
    const not = rs.filter((r) => !shouldAnswer(r.c.group));
    const fa = figures(ans);
    const fn = figures(not);
    console.log(
      `  ${split}: answerable at answer ${pct(fa.answer, fa.n).trim()} (target >= 75%), at none ${pct(fa.none, fa.n).trim()} (<= 5%); ` +
        `wrong or unwarranted answers ${pct(fa.wrong + fn.wrong, rs.length).trim()} of all (${fa.wrong + fn.wrong}/${rs.length}, <= 5%): ` +
        `${fn.wrong} unwarranted, ${fa.wrong} citing no relevant paper`,
    );
  }
  const failures = citationFailures(results);
  console.log(`  citations not retrieved or dangling: ${failures.length} (must be 0)`);
  for (const f of failures) console.error(`  ${f}`);
  return { failures, results };
}
