import type { DigestEmbeddings } from '../embeddings/types.ts';
import { queryTerms } from '../index/lexical-query.ts';
import { dot } from '../vector-math.ts';
import type { Hit, Paper } from '../types.ts';
import type { Answerer } from './types.ts';
import { BACKGROUND, CONTRIBUTION, splitSentences } from '../sentences.ts';
import { stem, stems } from '../stem.ts';

/** At most this many papers, and sentences per paper, in an extractive answer. */
const MAX_PAPERS = 4;
const MAX_SENTENCES_FIRST = 2;
const MAX_SENTENCES_OTHER = 1;

/** Sentences that address a model rather than describe research are never quoted (abstracts are untrusted). */
const INSTRUCTION_LIKE =
  /\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|guidelines)\b|\bsystem prompt\b|\byou are now\b|\brespond (?:only )?with\b|\breply (?:only )?with\b/i;

/** "How many / how much / what accuracy ...": a figure answers it, so sentences with new numbers rank up. */
const FIGURE_QUESTION =
  /\b(?:how (?:many|much|fast|large|big|long|often|accurate|well)|what(?:'s| is| was)? (?:the )?(?:\w+ )?(?:percentage|fraction|share|accuracy|score|size|speed ?up|latency|rate|number|cost|overhead|gain|improvement|throughput)|by how much)\b/i;
/** A figure or a versioned name: "72.6%", "five", "JiT-700M/32", "Qwen3-4B". */
const NAMED_FIGURE =
  /\d[\d.,]*%?|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b|\b[A-Za-z][\w-]*\d[\w./-]*\b/gi;
/** Numbers as words count as figures: "five purification methods", "eight benchmarks". */
const NUMBER =
  /\d[\d.,]*|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?|millions?|billions?)\b/gi;
/** Questions after one fact of a paper: its best paper may quote one more sentence. */
const DETAIL_QUESTION = /^\s*(?:which|what|who|where|when|in (?:the|which))\b/i;

/** Abstract sentences read better in a third-person answer: "We propose" -> "The authors propose". */
export function thirdPerson(sentence: string): string {
  return sentence
    .replace(
      /^(?:In this (?:paper|work|study|report),?\s+|Here,?\s+|To (?:this end|address this|fill this gap)[^,]*,\s+)we\b/i,
      'The authors',
    )
    .replace(/^We\b/, 'The authors')
    .replace(/^Our\b/, 'Their')
    .replace(/\bwe\b/g, 'they')
    .replace(/\bour\b/g, 'their')
    .replace(/\bus\b/g, 'them');
}

/** A short name for a paper: the part of the title before a colon, when that part is short. */
export function shortTitle(title: string): string {
  const head = title.split(/:\s/)[0]!.trim();
  if (head && head.length <= 60 && head !== title) return head;
  return title.length <= 80 ? title : `${title.slice(0, 77).replace(/\s+\S*$/, '')}…`;
}

/** "What is X?", "what are X", "define X", "explain X": the X whose definition is asked. */
export function definitionTarget(question: string): string | undefined {
  const m = /^\s*(?:what(?:'s| is| are)|define|explain|meaning of)\s+(?:an?\s+|the\s+)?(.+?)\s*\??\s*$/i.exec(question);
  const target = m?.[1]?.trim();
  return target && target.split(/\s+/).length <= 6 ? target : undefined;
}

/** A sentence that says what X is: "X is a ...", "X, a ...", "we introduce X, ...", "X (...) is/are". */
function definesTerm(sentence: string, term: string): boolean {
  const t = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  return new RegExp(
    `\\b${t}\\b(?:\\s*\\([^)]*\\))?(?:,\\s*(?:an?|the)\\s|\\s+(?:is|are|refers to|denotes|means)\\s)|\\b(?:introduce|propose|present)s?\\s+${t}\\b`,
    'i',
  ).test(sentence);
}

interface Scored {
  text: string;
  index: number;
  score: number;
}

/**
 * The extractive answerer: no model, no network. From each relevant paper it picks the sentences that best
 * answer the question (the question's rare words, weighted by idf, plus the sentence's embedding similarity to
 * the question), and writes one line per paper in which every sentence carries the paper's citation `[n]`.
 */
export class ExtractiveAnswerer implements Answerer {
  constructor(
    private readonly embeddings: DigestEmbeddings,
    private readonly idf: (term: string) => number,
  ) {}

  async answer(question: string, hits: Hit[], opts: { withCode?: boolean } = {}): Promise<string> {
    const papers = hits.slice(0, MAX_PAPERS);
    if (!papers.length) return '';
    const terms = queryTerms(question);
    const weights = new Map<string, number>();
    for (const t of terms) weights.set(stem(t), Math.max(weights.get(stem(t)) ?? 0, this.idf(t)));
    const totalWeight = [...weights.values()].reduce((a, b) => a + b, 0) || 1;
    const qv = await this.embeddings.embedQuery(question);
    const wantsFigure = FIGURE_QUESTION.test(question);
    const asksDetail = wantsFigure || DETAIL_QUESTION.test(question);
    const questionNumbers = new Set((question.match(NUMBER) ?? []).map((n) => n.toLowerCase()));
    const defined = definitionTarget(question);

    const lines: string[] = [];
    for (const [i, hit] of papers.entries()) {
      const sentences = splitSentences(hit.paper.abstract).filter((s) => s.length >= 25 && !INSTRUCTION_LIKE.test(s));
      if (!sentences.length) continue;
      const vecs = await this.embeddings.embedDocuments(sentences);
      const scored: Scored[] = sentences.map((text, index) => {
        const found = stems(text);
        let w = 0;
        for (const [s, weight] of weights) if (found.has(s)) w += weight;
        // Coverage of the question's words dominates; similarity breaks ties; the opening sentence of an
        // abstract is often background, so it needs to earn its place.
        // Only a number the question does not already contain is new information ("3B" in both is not).
        const figure =
          wantsFigure && (text.match(NUMBER) ?? []).some((n) => !questionNumbers.has(n.toLowerCase())) ? 0.25 : 0;
        // What the paper does or finds reads better than the field's background and motivation; a question
        // after one detail wants the sentence that states it, wherever it is.
        const kind = (CONTRIBUTION.test(text) && !asksDetail ? 0.1 : 0) - (BACKGROUND.test(text) ? 0.15 : 0);
        const definition = defined && definesTerm(text, defined) ? 0.3 : 0;
        return {
          text,
          index,
          score: w / totalWeight + 0.5 * dot(qv, vecs[index]!) + figure + kind + definition - (index === 0 ? 0.05 : 0),
        };
      });
      // The best paper may say more: a question after a detail gets up to three of its sentences.
      const limit = i > 0 ? MAX_SENTENCES_OTHER : asksDetail ? MAX_SENTENCES_FIRST + 1 : MAX_SENTENCES_FIRST;
      const best = scored.sort((a, b) => b.score - a.score);
      // Further sentences only when they are nearly as relevant as the first.
      const chosen = best.slice(0, limit).filter((s, k) => k === 0 || s.score >= best[0]!.score * 0.8);
      // A question after one detail of its best paper gets the best sentence that states a new figure or name
      // ("33,771 images", "Qwen3-4B"), even when its other words score lower.
      if (i === 0 && asksDetail) {
        const stated = best.find((s) =>
          (s.text.match(NAMED_FIGURE) ?? []).some((n) => !questionNumbers.has(n.toLowerCase())),
        );
        if (stated && !chosen.includes(stated)) chosen.splice(Math.min(chosen.length, limit - 1), 1, stated);
      }
      chosen.sort((a, b) => a.index - b.index); // keep the abstract's order so the sentences read on
      const n = i + 1;
      const body = chosen.map((s) => `${thirdPerson(s.text).replace(/[.!?]?$/, '')} [${n}].`).join(' ');
      const code = opts.withCode && hit.paper.githubUrl ? ` Code: ${hit.paper.githubUrl} [${n}].` : '';
      lines.push(`- ${shortTitle(hit.paper.title)} (${hit.paper.date}): ${body}${code}`);
    }
    if (!lines.length) return '';
    const intro =
      lines.length === 1
        ? 'One paper in the digest speaks to this:'
        : `${lines.length} papers in the digest speak to this:`;
    return [intro, ...lines].join('\n');
  }

  /** "Tell me more about the second one": what the paper does and finds, in up to four sentences, cited [1]. */
  async describe(paper: Paper): Promise<string> {
    const sentences = splitSentences(paper.abstract).filter((s) => s.length >= 25 && !INSTRUCTION_LIKE.test(s));
    const ranked = sentences
      .map((text, index) => ({
        text,
        index,
        score: (CONTRIBUTION.test(text) ? 1 : 0) - (BACKGROUND.test(text) ? 1 : 0) + (/\d/.test(text) ? 0.3 : 0),
      }))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, 4)
      .sort((a, b) => a.index - b.index);
    const body = ranked.map((s) => `${thirdPerson(s.text).replace(/[.!?]?$/, '')} [1].`).join(' ');
    const links = paper.githubUrl ? ` Code: ${paper.githubUrl} [1].` : '';
    return `${paper.title} (${paper.date}): ${body || `${paper.title} [1].`}${links}`;
  }
}
