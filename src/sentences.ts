/**
 * Sentences and one-line summaries, for every part of the bot that cuts prose: chunking, extractive answers,
 * the citation check, highlights and the Discord lines of papers without an HF summary.
 */
import { normalizeSpace } from './text.ts';

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

// Abbreviations that end with a period but not a sentence; ICU's sentence rules split after them when a digit
// or a capital follows ("(vs. 70.1%)", "Dr. Smith").
const ABBREV =
  /(?:^|[\s([])(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|Secs|Tab|Tabs|No|approx|resp|incl|w\.r\.t|Dr|Mr|Ms|Prof|St|[A-Z])\.\s*$/i;

/**
 * Split prose into sentences with the Unicode sentence rules (`Intl.Segmenter`): decimals ("3.8B"), initials,
 * quotes and non-Latin scripts are handled there; sentences that only end in an abbreviation are joined again.
 * Paragraphs (blank lines) always end a sentence.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const s = normalizeSpace(para);
    if (!s) continue;
    let pending = '';
    for (const { segment } of segmenter.segment(s)) {
      pending += segment;
      if (ABBREV.test(pending)) continue;
      const t = pending.trim();
      if (t) out.push(t);
      pending = '';
    }
    if (pending.trim()) out.push(pending.trim());
  }
  return out;
}

/** The leading sentences of a text that fit in about `max` characters (at least one sentence, cut if needed). */
export function firstSentences(text: string, max: number): string {
  let out = '';
  for (const s of splitSentences(text)) {
    if (out && out.length + 1 + s.length > max) break;
    out = out ? `${out} ${s}` : s;
  }
  return out;
}

/** Sentences that say what a paper does or finds, not the field's background. */
export const CONTRIBUTION =
  /\b(?:we|this (?:paper|work|study|report)|our|the authors)\s+(?:\w+\s+){0,2}?(?:propose|present|introduce|develop|design|build|release|show|find|demonstrate|study|investigate|analy[sz]e|evaluate|train|construct|curate|achieve|leverage|formulate|reveal|identify|benchmark)s?\b|\b(?:experiments|results|evaluations?|ablations)\s+(?:\w+\s+){0,3}?(?:show|demonstrate|reveal|indicate|confirm|suggest)s?\b|\b(?:achieves?|outperforms?|surpass(?:es)?|improves?|reduces?|boosts?)\b/i;

/** Opening sentences about the field, its promise and its problems. */
export const BACKGROUND =
  /\b(?:ha(?:ve|s) (?:emerged|become|shown|demonstrated|gained|attracted|achieved|made)|remains? (?:a )?(?:challenging|difficult|an open|unclear|limited|underexplored)|(?:recent|rapid) (?:advances?|progress|years|developments?)|increasingly|however, (?:existing|current|most|these)|existing (?:methods|approaches|works?|benchmarks)|(?:is|are) (?:crucial|essential|critical|fundamental|important)|in recent years|despite (?:their|the|recent))\b/i;

/** A one-line summary when HF has none: the first sentence that says what the paper does. */
export function summaryLine(abstract: string, max = 300): string {
  const sentences = splitSentences(abstract);
  const pick =
    sentences.find((s) => CONTRIBUTION.test(s) && !BACKGROUND.test(s)) ??
    sentences.find((s) => !BACKGROUND.test(s)) ??
    sentences[0] ??
    abstract;
  return pick.length <= max ? pick : `${pick.slice(0, max - 3).replace(/\s+\S*$/, '')}…`;
}
