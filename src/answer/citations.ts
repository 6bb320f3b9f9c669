import { paperUrl } from '../sources/normalize.ts';
import { queryTerms } from '../index/lexical-query.ts';
import type { Hit, Paper } from '../types.ts';
import { splitSentences } from '../sentences.ts';
import { stem, stems } from '../stem.ts';
import type { Citation } from './types.ts';

export interface CheckedAnswer {
  /** The answer with citations renumbered 1..k in order of first use. */
  text: string;
  citations: Citation[];
  /** Citation markers removed: numbers that were never given, or sources that do not support the sentence. */
  removedCitations: number;
  /** Sentences dropped because no given source supports them. */
  droppedSentences: number;
  /** Sentences kept. */
  keptSentences: number;
}

/** A citation marker as any answerer writes it: `[2]`, `[1, 3]`, `[1;2]`. */
export const CITE_GROUP = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;
const BULLET = /^(\s*(?:[-*•]|\d+[.)])\s+)/;
/** A list line's label naming a source paper: `Title (2026-08-20): ` (a title may end in "?"). */
const LABEL = /^(.{1,160}?) \((\d{4}-\d{2}-\d{2})\):\s+/;

/** The label of a line when it names one of the sources by (the start of) its title and its digest date. */
function sourceLabel(body: string, sources: Hit[]): string {
  const m = LABEL.exec(body);
  if (!m) return '';
  const name = m[1]!.replace(/…$/, '').toLowerCase();
  const named = sources.some((h) => h.paper.date === m[2] && h.paper.title.toLowerCase().startsWith(name));
  return named ? m[0] : '';
}

/** Citations written after the full stop ("... end. [2]") belong to the sentence before it. */
function pullCitationsIntoSentences(line: string): string {
  return line
    .replace(
      /([.!?])\s*((?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*)+)/g,
      (_m, p: string, cites: string) => ` ${cites.replace(/\s+/g, '')}${p} `,
    )
    .replace(/\s+/g, ' ')
    .trim();
}

/** Does the source's text share enough content with the sentence to support it? */
function supports(sentence: string, sentenceStems: string[], source: Set<string>, paper: Paper): boolean {
  const title = paper.title;
  // "Code: <url>" states the source's own link, and nothing else.
  const link = /^(?:code|github|project):\s*(\S+?)\.?$/i.exec(sentence)?.[1];
  if (link) return link === paper.githubUrl || link === paper.projectUrl;
  if (!sentenceStems.length) return true; // nothing checkable ("See [1].")
  if (sentence.toLowerCase().includes(title.toLowerCase())) return true; // a line about the paper by name
  const shared = sentenceStems.filter((s) => source.has(s)).length;
  return shared >= Math.min(2, sentenceStems.length) && shared / sentenceStems.length >= 0.25;
}

/**
 * Checks an answer's citations against the sources it was given (numbered 1..n in order): markers for numbers
 * that were not given are removed, citations whose source shares no content with the sentence are removed, a
 * sentence left without a supporting citation is dropped, and the survivors are renumbered in order of first
 * use. Lines ending with ':' are headings, kept only when something follows them.
 */
export function checkCitations(raw: string, sources: Hit[]): CheckedAnswer {
  const sourceStems = sources.map((h) =>
    stems(`${h.paper.title} ${h.paper.abstract} ${(h.paper.aiKeywords ?? []).join(' ')}`),
  );
  const order: number[] = []; // original source numbers, in order of first use
  let removedCitations = 0;
  let droppedSentences = 0;
  let keptSentences = 0;
  const lines: string[] = [];

  for (const rawLine of raw.replace(/\r\n?/g, '\n').split('\n')) {
    const trimmed = rawLine.trim();
    if (!trimmed) {
      if (lines.length && lines[lines.length - 1] !== '') lines.push('');
      continue;
    }
    const listMark = BULLET.exec(trimmed)?.[1] ?? '';
    const rest = trimmed.slice(listMark.length);
    // "- Title? (date): ..." keeps its label whole: a title is not a claim, and its "?" ends no sentence.
    const label = listMark ? sourceLabel(rest, sources) : '';
    const bullet = listMark + label;
    const body = pullCitationsIntoSentences(rest.slice(label.length));
    if (!CITE_GROUP.test(body) && /:$/.test(body)) {
      lines.push(`${bullet}${body}`); // a heading; removed below if nothing follows it
      continue;
    }
    CITE_GROUP.lastIndex = 0;
    const kept: string[] = [];
    for (const sentence of splitSentences(body)) {
      const cited = new Set<number>();
      for (const m of sentence.matchAll(CITE_GROUP)) {
        for (const part of m[1]!.split(/[,;]/)) {
          const n = Number(part.trim());
          if (Number.isInteger(n) && n >= 1 && n <= sources.length) cited.add(n);
          else removedCitations++;
        }
      }
      const text = sentence
        .replace(CITE_GROUP, '')
        .replace(/\s+([.,;:!?])/g, '$1')
        .replace(/\s+/g, ' ')
        .trim();
      if (!text || /^[.,;:!?]+$/.test(text)) continue;
      const content = queryTerms(text).map(stem);
      const supported = [...cited].filter((n) => supports(text, content, sourceStems[n - 1]!, sources[n - 1]!.paper));
      removedCitations += cited.size - supported.length;
      if (!supported.length) {
        droppedSentences++;
        continue;
      }
      for (const n of supported) if (!order.includes(n)) order.push(n);
      const marks = supported.map((n) => `[${n}]`).join('');
      const end = /[.!?]$/.exec(text)?.[0] ?? '.';
      kept.push(`${text.replace(/[.!?]$/, '')} ${marks}${end}`);
      keptSentences++;
    }
    if (kept.length) lines.push(`${bullet}${kept.join(' ')}`);
  }

  // Drop headings with nothing under them, and trailing blank lines.
  const cleaned = lines.filter((l, i) => {
    if (!/:$/.test(l)) return true;
    const next = lines.slice(i + 1).find((x) => x !== '');
    return next !== undefined && !/:$/.test(next);
  });
  while (cleaned.length && cleaned[cleaned.length - 1] === '') cleaned.pop();

  // Renumber in order of first use: [original] -> [position in `order`].
  const renumber = new Map(order.map((orig, i) => [orig, i + 1]));
  const text = cleaned.join('\n').replace(/\[(\d+)\]/g, (m, d: string) => {
    const r = renumber.get(Number(d));
    return r ? `[${r}]` : m;
  });
  const citations = order.map((orig, i) => {
    const paper = sources[orig - 1]!.paper;
    return { n: i + 1, paper, url: paperUrl(paper) };
  });
  return { text: keptSentences ? text : '', citations, removedCitations, droppedSentences, keptSentences };
}
