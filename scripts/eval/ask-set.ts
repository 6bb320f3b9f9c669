/**
 * The questions `npm run eval` asks the answerer, in groups that are reported apart (scripts/eval/README.md):
 * - answerable: in a person's own words, avoiding the paper's title words (ask/answerable.json);
 * - topical: the search set's questions (corpus-questions.json), answerable too;
 * - detail: one fact of one abstract, which the answer must state (ask/detail.json, answer-questions.json);
 * - unanswerable: ML-sounding, long and short, that no paper addresses (ask/unanswerable.json, answer-questions.json);
 * - off-domain: trivia, chit-chat and tech support, most sharing one rare word with a paper (ask/off-domain.json);
 * - junk: mentions, markdown, operators, single words (ask/junk.json).
 * Everything is split dev/test; the older answer-questions.json was tuned on and counts as dev.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../shared-data.ts';

export type Group = 'answerable' | 'topical' | 'detail' | 'unanswerable' | 'off-domain' | 'junk';
export const GROUPS: Group[] = ['answerable', 'topical', 'detail', 'unanswerable', 'off-domain', 'junk'];
export type Split = 'dev' | 'test';

export interface AskCase {
  q: string;
  group: Group;
  split: Split;
  /** Papers that answer it (empty when nothing does). */
  relevant: string[];
  /** For detail questions: the fact the answer must state. */
  fact?: string;
  /** Free-form subgroup: `long`, `short`, `single-word-ml`, `shares-word`, ... */
  kind?: string;
}

/** Whether the digest should answer a question of this group. */
export const shouldAnswer = (g: Group): boolean => g === 'answerable' || g === 'topical' || g === 'detail';

const read = (f: string): any[] => {
  const file = path.join(repoRoot, 'scripts/eval', f);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as any[]) : [];
};

/**
 * Pooled judgments (ask/pooled-*.json): every paper the retriever put in the top 5 of an answerable question,
 * judged blind (question and abstract only) for whether it answers it; those judged relevant join the labels.
 */
function pooledRelevant(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of ['ask/pooled-0.json', 'ask/pooled-1.json', 'ask/pooled-2.json']) {
    for (const e of read(f) as { q: string; relevant: string[] }[])
      out.set(e.q, [...(out.get(e.q) ?? []), ...e.relevant]);
  }
  return out;
}

export function loadAskCases(): AskCase[] {
  const out: AskCase[] = [];
  for (const q of read('ask/answerable.json'))
    out.push({ q: q.q, group: 'answerable', split: q.split, relevant: q.relevant, kind: q.length });
  for (const q of read('corpus-questions.json'))
    out.push({ q: q.q, group: 'topical', split: q.split, relevant: q.relevant });
  for (const q of read('ask/detail.json'))
    out.push({ q: q.q, group: 'detail', split: q.split, relevant: q.relevant, fact: q.fact });
  for (const q of read('ask/unanswerable.json'))
    out.push({ q: q.q, group: 'unanswerable', split: q.split, relevant: [], kind: q.length });
  for (const q of read('ask/off-domain.json'))
    out.push({ q: q.q, group: 'off-domain', split: q.split, relevant: [], kind: q.kind });
  for (const q of read('ask/junk.json'))
    out.push({ q: q.q, group: 'junk', split: q.split, relevant: [], kind: q.kind });
  for (const q of read('answer-questions.json')) {
    if (q.kind === 'detail')
      out.push({ q: q.q, group: 'detail', split: 'dev', relevant: [q.id], fact: q.fact, kind: 'legacy' });
    else out.push({ q: q.q, group: 'unanswerable', split: 'dev', relevant: [], kind: 'legacy' });
  }
  const pooled = pooledRelevant();
  for (const c of out)
    if (shouldAnswer(c.group)) c.relevant = [...new Set([...c.relevant, ...(pooled.get(c.q) ?? [])])];
  return out;
}
