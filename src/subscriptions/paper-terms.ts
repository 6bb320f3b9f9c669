/** A paper as the matcher reads it: field-weighted stem frequencies, stem pairs, phrase fields and authors. */
import { stem } from '../stem.ts';
import type { Paper } from '../types.ts';
import { fold, nameTokens } from './topic.ts';
import { FIELD_WEIGHT, PAIR_WINDOW } from './tuning.ts';

/** Where a sentence, keyword or field ends: phrases and pairs never span one. */
export const BOUNDARY = '|';

export interface PreparedPaper {
  paper: Paper;
  /** Field-weighted term frequency per stem. */
  tf: Map<string, number>;
  /** Field-weighted frequency of ordered stem pairs `a b` (b within PAIR_WINDOW after a). */
  pairTf: Map<string, number>;
  /** Each field as ` stem stem | stem ` for phrase search. */
  fields: string[];
  authors: { name: string; tokens: string[] }[];
  title?: Float32Array;
  /** The paper's chunk vectors' mean, when the index has them. */
  centroid?: Float32Array;
}

/** Stems of a text with `|` where a sentence, keyword or field ends, so phrases and pairs never span one. */
function stemTokens(text: string): string[] {
  return (fold(text).match(/[\p{L}\p{N}]+|[;.!?]/gu) ?? []).map((w) => (/^[;.!?]$/.test(w) ? BOUNDARY : stem(w)));
}

export function preparePaper(paper: Paper): PreparedPaper {
  const title = stemTokens(`${paper.title} ; ${(paper.aiKeywords ?? []).join(' ; ')}`);
  const summary = stemTokens(paper.aiSummary ?? '');
  const abstract = stemTokens(paper.abstract);
  const tf = new Map<string, number>();
  const pairTf = new Map<string, number>();
  for (const [tokens, w] of [
    [title, FIELD_WEIGHT.title],
    [summary, FIELD_WEIGHT.summary],
    [abstract, FIELD_WEIGHT.abstract],
  ] as const) {
    for (let i = 0; i < tokens.length; i++) {
      const a = tokens[i]!;
      if (a === BOUNDARY) continue;
      tf.set(a, (tf.get(a) ?? 0) + w);
      const seen: string[] = [];
      for (let j = i + 1; j <= i + PAIR_WINDOW && j < tokens.length; j++) {
        const b = tokens[j]!;
        if (b === BOUNDARY) break;
        if (seen.includes(b)) continue;
        seen.push(b);
        const key = `${a} ${b}`;
        pairTf.set(key, (pairTf.get(key) ?? 0) + w);
      }
    }
  }
  const fields = [title, summary, abstract].map((t) => ` ${t.join(' ')} `);
  const authors = paper.authors.map((name) => ({ name, tokens: nameTokens(name) }));
  return { paper, tf, pairTf, fields, authors };
}
