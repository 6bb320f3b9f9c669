/**
 * Subscription topics as users write them, parsed and validated:
 *
 * - plain words, `speculative decoding`, `vision-language models for robotics`: matched by meaning and by words
 *   (see matcher.ts); a parenthesized part is an alias, `retrieval-augmented generation (RAG)`;
 * - `keyword:"exact phrase"` (or `kw:`): papers whose title, abstract, HF keywords or summary contain the phrase
 *   (case, plurals and word endings aside);
 * - `author:"Jane Doe"`: papers with that author.
 *
 * Every error message says what is wrong and how to write it instead; it is meant to be shown to the user as is.
 */
import { UserFacingError } from '../errors.ts';
import { queryTerms } from '../index/lexical-query.ts';
import { stem } from '../stem.ts';

export const MAX_TOPIC_LENGTH = 100;

/** A topic that cannot be parsed; the message is for the user. */
export class TopicError extends UserFacingError {
  override name = 'TopicError';
}

/** Consecutive content words of a plain topic (stop words and punctuation split runs). */
export interface TopicRun {
  /** Word parts as written, lower-case (`vision-language` gives `vision`, `language`). */
  words: string[];
  /** Their Porter stems, as the lexical index stems them. */
  stems: string[];
}

export type Topic =
  | {
      kind: 'semantic';
      /** The topic as the user wrote it, whitespace collapsed: what is stored and shown. */
      text: string;
      /** Equal for topics that mean the same (case, punctuation, spacing, accents aside). */
      key: string;
      /** The main wording, then each parenthesized alias; each a list of runs. */
      alternatives: TopicRun[][];
    }
  | { kind: 'keyword'; text: string; key: string; phrase: string; stems: string[] }
  | { kind: 'author'; text: string; key: string; name: string; tokens: string[] };

/** Lower-case, accents removed. */
export function fold(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** Word tokens (letters and digits) of folded text: how names and phrases are compared. */
export function nameTokens(s: string): string[] {
  return fold(s).match(/[\p{L}\p{N}]+/gu) ?? [];
}

const QUOTES = /["\u201c\u201d\u201e\u00ab\u00bb]/g;
const QUOTE = /^["\u201c\u201d\u201e\u00ab\u00bb]$/;
const FORM = /^\s*([\p{L}_-]+)\s*:\s*(.*)$/su;
const FORMS: Record<string, 'keyword' | 'author'> = { keyword: 'keyword', kw: 'keyword', author: 'author' };
const EXAMPLES = 'plain words (speculative decoding), keyword:"exact phrase" or author:"Jane Doe"';

/** Parse and validate one topic. Throws `TopicError` with a message for the user. */
export function parseTopic(input: string): Topic {
  const text = input.replace(/[\s\p{Cc}]+/gu, ' ').trim();
  if (!text) throw new TopicError(`The topic is empty. Write ${EXAMPLES}.`);
  if ([...text].length > MAX_TOPIC_LENGTH) {
    throw new TopicError(
      `A topic is at most ${MAX_TOPIC_LENGTH} characters; this one has ${[...text].length}. Shorten it.`,
    );
  }
  const form = FORM.exec(text);
  if (form) {
    const kind = FORMS[form[1]!.toLowerCase()];
    const rest = form[2]!.trim();
    if (kind) return parseForm(kind, form[1]!, rest, text);
    // `title:"x"`: clearly meant as a form. `RL: reward hacking` stays plain text.
    if (/^["\u201c\u201e\u00ab]/.test(rest)) {
      throw new TopicError(`"${form[1]}:" is not a topic form. Use ${EXAMPLES}.`);
    }
  }
  return parsePlain(text);
}

function unquote(formName: string, rest: string): string {
  const quotes = rest.match(QUOTES) ?? [];
  if (!quotes.length) return rest;
  if (quotes.length !== 2 || rest.length < 2 || !QUOTE.test(rest[0]!) || !QUOTE.test(rest[rest.length - 1]!)) {
    throw new TopicError(
      `Unbalanced quotes in ${formName}:${rest}. Put the whole value in one pair of quotes, e.g. ${formName}:"Jane Doe".`,
    );
  }
  return rest.slice(1, -1).trim();
}

function parseForm(kind: 'keyword' | 'author', formName: string, rest: string, text: string): Topic {
  const value = unquote(formName, rest).replace(/\s+/g, ' ');
  if (kind === 'author') {
    const tokens = nameTokens(value);
    if (!tokens.some((t) => /\p{L}/u.test(t))) {
      throw new TopicError(`${formName}: needs a name, e.g. author:"Jane Doe".`);
    }
    return { kind, text, key: `author:${tokens.join(' ')}`, name: value, tokens };
  }
  const tokens = nameTokens(value);
  if (!tokens.length)
    throw new TopicError(`${formName}: needs words to look for, e.g. keyword:"speculative decoding".`);
  return { kind, text, key: `keyword:${tokens.join(' ')}`, phrase: value, stems: tokens.map(stem) };
}

function parsePlain(text: string): Topic {
  if ((text.match(QUOTES) ?? []).length % 2) {
    throw new TopicError(
      `Unbalanced quotes in "${text}". Write plain words, or keyword:"exact phrase" for an exact phrase.`,
    );
  }
  let depth = 0;
  for (const c of text) {
    depth += c === '(' ? 1 : c === ')' ? -1 : 0;
    if (depth < 0 || depth > 1) break;
  }
  if (depth !== 0) {
    throw new TopicError(
      `Unbalanced parentheses in "${text}". Use them once, for an alias: retrieval-augmented generation (RAG).`,
    );
  }
  const main = text.replace(/\([^)]*\)/g, ' ');
  const aliases = [...text.matchAll(/\(([^)]*)\)/g)].map((m) => m[1]!);
  const alternatives = [...conjuncts(main), ...aliases].map(runsOf).filter((runs) => runs.length > 0);
  if (
    !alternatives.length ||
    !alternatives.some((runs) => runs.some((r) => r.words.some((w) => queryTerms(w).length)))
  ) {
    throw new TopicError(
      `"${text}" has no words to match on, only common ones. Name the subject, e.g. "speculative decoding".`,
    );
  }
  return { kind: 'semantic', text, key: nameTokens(text).join(' '), alternatives };
}

const CONJUNCTION = /\s+(?:and|or|&)\s+|\s*[,/;]\s*/i;
const QUALIFIER = /^(.*?\S)\s+((?:in|for|of|on|with|from|under|via|at|to)\s+.+)$/i;

/**
 * The subjects of a topic that joins several with "and", "or" or commas, each a topic of its own: a paper about
 * one of them is about the topic. Shared words are distributed as people mean them: "speech and audio models" is
 * speech models or audio models, "jailbreak attacks and defenses" is jailbreak attacks or jailbreak defenses,
 * "uncertainty and calibration in LLMs" is uncertainty in LLMs or calibration in LLMs.
 */
export function conjuncts(text: string): string[] {
  const parts = text
    .split(CONJUNCTION)
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length < 2) return [text];
  const q = QUALIFIER.exec(parts[parts.length - 1]!);
  const qualifier = q ? ` ${q[2]}` : '';
  if (q) parts[parts.length - 1] = q[1]!;
  const words = (p: string) => p.split(/\s+/);
  const first = words(parts[0]!);
  const last = words(parts[parts.length - 1]!);
  return parts.map((p, i) => {
    const w = words(p);
    if (w.length === 1 && i < parts.length - 1 && last.length > 1)
      p = `${p} ${last[last.length - 1]}`; // speech (models)
    else if (w.length === 1 && i > 0 && first.length > 1 && !QUALIFIER.test(parts[0]!))
      p = `${first.slice(0, -1).join(' ')} ${p}`; // (jailbreak) defenses
    return QUALIFIER.test(p) ? p : p + qualifier;
  });
}

/** Runs of content words; a stop word, comma, semicolon or slash ends a run. */
function runsOf(text: string): TopicRun[] {
  const runs: TopicRun[] = [];
  let cur: string[] = [];
  const end = () => {
    if (cur.length) runs.push({ words: cur, stems: cur.map(stem) });
    cur = [];
  };
  for (const w of fold(text).match(/[\p{L}\p{N}]+(?:[-'’][\p{L}\p{N}]+)*|[,;/]/gu) ?? []) {
    if (/^[,;/]$/.test(w) || !queryTerms(w).length) {
      end();
      continue;
    }
    cur.push(...w.split(/[-'’]/));
  }
  end();
  return runs;
}

/** The key a stored topic is compared by; falls back to folded text for a topic that no longer parses. */
export function topicKey(text: string): string {
  try {
    return parseTopic(text).key;
  } catch {
    return nameTokens(text).join(' ');
  }
}
