/**
 * Follow-up questions that refer to the asker's previous answer instead of naming a topic: "which of these
 * have code?", "tell me more about the second one", "how do they compare?". Read from the question's framing
 * words only, so a paper whose text says "second" is never taken for "the second one".
 */

const ORDINALS: Record<string, number> = {
  first: 1,
  '1st': 1,
  one: 1,
  second: 2,
  '2nd': 2,
  two: 2,
  third: 3,
  '3rd': 3,
  three: 3,
  fourth: 4,
  '4th': 4,
  four: 4,
  fifth: 5,
  '5th': 5,
  five: 5,
  sixth: 6,
  '6th': 6,
  seventh: 7,
  '7th': 7,
  eighth: 8,
  '8th': 8,
  ninth: 9,
  '9th': 9,
  tenth: 10,
  '10th': 10,
};
const ORDINAL_WORD = '(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|\\d{1,2}(?:st|nd|rd|th))';

/** "the second one", "the 2nd paper", "number 3", "#2", "paper 3", "the last one". */
const PICK = new RegExp(
  `\\b(?:the\\s+${ORDINAL_WORD}\\s+(?:one|paper|result|source|link|item)s?\\b|(?:number|no\\.?|#|paper|source|result)\\s*(\\d{1,2})\\b(?!\\s*(?:b|m|k|%|x)\\b))`,
  'i',
);
/**
 * Words that stand for the previous answer's papers. Plain pronouns ("they", "their") are not enough: people use
 * them inside questions that name their topic ("LLMs blame the environment for their failures").
 */
const THESE =
  /\b(?:(?:which|any|all|each|some|none|one|both|either|neither|how many) of (?:these|those|them|the above)|(?:these|those|the above) (?:papers?|ones?|results?|sources?|works?)|(?:do|does|did|are|were|can|could) (?:these|those|they) (?:papers? |ones? )?(?:have|has|come with|share|release|use|compare|differ|work|report)|the ones? (?:above|you (?:listed|mentioned|showed|cited|gave))|how do (?:these|those|they) compare)\b/i;
const CODE = /\b(?:code|github|repos?(?:itory|itories)?|implementations?|open[- ]source[d]?)\b/i;

export type FollowUp = { kind: 'pick'; index: number } | { kind: 'code' } | { kind: 'about-these' };

/** What a follow-up asks of the previous answer, or undefined when the question stands on its own. */
export function parseFollowUp(question: string): FollowUp | undefined {
  const q = question.trim();
  const pick = PICK.exec(q);
  if (pick) {
    const word = (pick[1] ?? pick[2] ?? '').toLowerCase();
    const index = word === 'last' ? -1 : (ORDINALS[word] ?? Number.parseInt(word, 10)) - 1;
    if (index >= -1) return { kind: 'pick', index };
  }
  if (THESE.test(q)) {
    if (CODE.test(q)) return { kind: 'code' };
    return { kind: 'about-these' };
  }
  if (/^\s*(?:tell me more|more|go on|and\??|elaborate|explain (?:it|that|more))\s*[?.!]*\s*$/i.test(q))
    return { kind: 'pick', index: 0 };
  return undefined;
}

/** The previous answer's papers, kept per conversation (channel and person) for a while. */
export class RecentAnswers<T> {
  private readonly entries = new Map<string, { value: T; at: number }>();

  constructor(
    private readonly ttlMs = 15 * 60_000,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() - e.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, { value, at: this.now() });
    // Oldest first in a Map: drop the oldest conversations beyond the bound.
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(k);
    }
  }
}
