import { queryTerms } from '../index/lexical-query.ts';
import { stripUnsafe } from '../text.ts';

/** Longest question considered; the rest is cut (Discord's option limit is 6,000 characters anyway). */
export const MAX_QUESTION = 1000;

/**
 * The words of a question as a person meant them: Discord mentions, custom emoji, links, code fences and
 * markdown markers are not part of what is asked, and control or bidi characters are never echoed back.
 */
export function cleanQuestion(raw: string): string {
  return stripUnsafe(raw)
    .replace(/<a?:\w+:\d+>|<[@#][!&]?\d+>|@(?:everyone|here)\b/g, ' ')
    .replace(
      /<?https?:\/\/\S+>?|\b(?:www\.)?[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|ai|dev|co|uk|de|fr|edu|gov)\b\S*/gi,
      ' ',
    )
    .replace(/\b[\w.]+\([^)]*\)/g, ' ') // code: print('x'), console.log(1)
    .replace(/```|`|\*\*|__|~~|\|\||^\s*[>#]+\s*/gm, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_QUESTION);
}

/**
 * The content words the judgement weighs: `queryTerms` without one-letter tokens and bare numbers, which carry
 * no topic ("OR b", "42", "2401.12345").
 */
export function contentTerms(question: string): string[] {
  return queryTerms(question).filter(
    (t) => !CHAT.has(t) && /\p{L}/u.test(t) && (t.length >= 2 || /\p{Script=Han}/u.test(t)),
  );
}

// Words of chit-chat and of talking to the bot: they ask nothing of the papers.
const CHAT = new Set(
  `hey hiya yo thank thx ty cheers ok okay cool nice great awesome lol lmao haha really very much bot bots you're
  i'm im joke jokes funny helpful answer answers question questions good bad yes nope maybe sure wow`.split(/\s+/),
);
