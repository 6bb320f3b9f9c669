/**
 * Making outside text (abstracts, titles, model output, user input) inert in Discord: no markdown it did not
 * mean, no pings, no masked links, no `<@id>`/`<#id>`/`<t:...>` tokens, no leaked `<think>` reasoning.
 * Discord renders `\x` as `x` for any punctuation `x`, so escaping never shows a backslash.
 */
import { stripUnsafe } from '../text.ts';
import { escapeMarkdown } from 'discord.js';

/** Reasoning blocks some models emit before their answer (`<think>…</think>`, `<reasoning>…</reasoning>`). */
const REASONING_BLOCK = /<(think|thinking|reasoning|reflection)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
/** An unclosed reasoning tag: everything after it is reasoning (the model was cut off). */
const REASONING_OPEN = /<(think|thinking|reasoning|reflection)\b[^>]*>[\s\S]*$/i;
/** A stray closing tag (the opening one was in a previous chunk of a stream). */
const REASONING_CLOSE = /<\/(think|thinking|reasoning|reflection)\s*>/gi;

/** Drops model reasoning blocks and stray reasoning tags. */
export function stripReasoning(text: string): string {
  return text.replace(REASONING_BLOCK, '').replace(REASONING_OPEN, '').replace(REASONING_CLOSE, '');
}

const ZWSP = '\u200b';

/** `@everyone` / `@here` that would not ping anyway (allowedMentions) but still look like a ping. */
function defuseMassMentions(text: string): string {
  return text.replace(/@(everyone|here)\b/gi, `@${ZWSP}$1`);
}

/**
 * Escapes outside text for a Discord message or embed: markdown (bold, italics, code, spoilers, headings,
 * masked links, quotes), `<...>` tokens (mentions, channels, timestamps, emoji, HTML-ish tags such as
 * `<think>`), brackets (no `[text](url)` links), and mass mentions. `keepLists` lets `- item` and `1. item`
 * lines render as lists (answer text; a list is harmless).
 */
export function escapeText(text: string, opts: { keepLists?: boolean } = {}): string {
  const lists = !opts.keepLists;
  // escapeMarkdown doubles every backslash first, so each `<`, `[`, `]` left afterwards is unescaped.
  const md = escapeMarkdown(stripUnsafe(text), { heading: true, bulletedList: lists, numberedList: lists })
    .replace(/[<[\]]/g, '\\$&')
    .replace(/^(\s*)(>|-#)/gm, '$1\\$2');
  return defuseMassMentions(md);
}

/** Text for a masked link's label `[label](url)`: escaped, on one line. */
export function escapeLinkText(text: string): string {
  return escapeText(text.replace(/\s+/g, ' ').trim());
}

/** A URL safe inside `(...)` of a masked link: parentheses and spaces are percent-encoded. */
export function linkUrl(url: string): string {
  return url.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/\s/g, '%20');
}

/** `[label](url)` with both parts made safe. */
export function maskedLink(label: string, url: string): string {
  return `[${escapeLinkText(label)}](${linkUrl(url)})`;
}

/** Plain-text places (embed footers, author names, autocomplete choice names): no markdown is rendered there, only pings are defused. */
export function plainText(text: string): string {
  return defuseMassMentions(stripUnsafe(text).replace(/\s+/g, ' ').trim());
}

/** Cuts text to at most `max` characters (code points), ending with `…` when cut, at a word boundary if one is near. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  let cut = chars.slice(0, Math.max(0, max - 1)).join('');
  const space = cut.lastIndexOf(' ');
  if (space > max * 0.6) cut = cut.slice(0, space);
  // Never end on a lone escaping backslash: it would escape the ellipsis.
  cut = cut.replace(/\\+$/, (b) => (b.length % 2 ? b.slice(1) : b));
  return `${cut.trimEnd()}…`;
}
