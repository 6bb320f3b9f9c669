import { resolveRange } from '../dates.ts';
import type { App } from '../app.ts';
import type { Answer } from '../answer/types.ts';
import { arxivUrl, paperUrl } from '../sources/normalize.ts';

import { UsageError } from './ingest.ts';
import { readBatchFile } from './batch.ts';

/** The JSON line printed for one question; a contract other tools rely on. */
export interface AnswerJson {
  question: string;
  outcome: Answer['outcome'];
  /** True unless the outcome is `answer`. */
  abstained: boolean;
  answer: string;
  citations: { n: number; id: string; title: string; date: string; url: string }[];
  /** For `closest`: the nearest papers, which do not answer the question. */
  closest: { id: string; title: string; date: string; url: string }[];
  retrieved: { id: string; title: string; score: number }[];
}

export function toAnswerJson(a: Answer): AnswerJson {
  return {
    question: a.question,
    outcome: a.outcome,
    abstained: a.abstained,
    answer: a.note ? `${a.text}\n\n(${a.note})` : a.text,
    citations: a.citations.map((c) => ({
      n: c.n,
      id: c.paper.id,
      title: c.paper.title,
      date: c.paper.date,
      url: c.url,
    })),
    closest: a.closest.map(({ paper: p }) => ({ id: p.id, title: p.title, date: p.date, url: paperUrl(p) })),
    retrieved: a.retrieved.map((h) => ({
      id: h.paper.id,
      title: h.paper.title,
      score: Math.round(h.score * 1e4) / 1e4,
    })),
  };
}

export function formatAnswerText(a: Answer): string {
  const out = [a.text];
  if (a.citations.length) {
    out.push('', 'Sources:');
    for (const c of a.citations) {
      const links = [c.url, arxivUrl(c.paper), c.paper.githubUrl].filter(Boolean).join('  ');
      out.push(`[${c.n}] ${c.paper.title} (${c.paper.date})`, `    ${links}`);
    }
  }
  for (const [i, c] of a.closest.entries()) {
    out.push(`${i + 1}. ${c.paper.title} (${c.paper.date})`, `   ${c.line}`, `   ${paperUrl(c.paper)}`);
  }
  if (a.note) out.push('', `Note: ${a.note}`);
  out.push('', `(${a.answerer}; searched ${a.searched} papers)`);
  return out.join('\n');
}

export interface AskCliOptions {
  since?: string;
  until?: string;
  json?: boolean;
  batch?: string;
}

export async function runAsk(
  app: App,
  question: string | undefined,
  opts: AskCliOptions,
  out: (s: string) => void,
): Promise<void> {
  if (question !== undefined && !question.trim() && !opts.batch)
    throw new UsageError('the question is empty: ask "which papers make LLM decoding faster?"');
  if (!!question === !!opts.batch)
    throw new UsageError('ask needs a QUESTION or --batch FILE (one question a line), not both');
  if (opts.batch && !opts.json) throw new UsageError('--batch prints JSON lines; add --json');
  const { since, until } = resolveRange(opts.since, opts.until);
  const questions = opts.batch ? await readBatchFile(opts.batch) : [question!];
  const asker = await app.asker();
  for (const q of questions) {
    const answer = await asker.ask(q, { since, until });
    out(opts.json ? JSON.stringify(toAnswerJson(answer)) : formatAnswerText(answer));
  }
}
