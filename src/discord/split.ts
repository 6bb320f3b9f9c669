/**
 * Discord's message limits, and splitting rendered markdown to fit them without breaking what must stay whole:
 * a citation `[n]`, a masked link `[text](url)` (citation links `[[n]](url)` included), a bare URL, an escape
 * sequence `\x`. Lengths are UTF-16 code units, which is never less than what Discord counts.
 */
import type { APIEmbed, APIEmbedField } from 'discord.js';

export const LIMITS = {
  title: 256,
  description: 4096,
  fieldName: 256,
  fieldValue: 1024,
  fields: 25,
  footer: 2048,
  authorName: 256,
  /** Sum of titles, descriptions, field names and values, footers and author names of all embeds of a message. */
  embedsTotal: 6000,
  embedsPerMessage: 10,
  content: 2000,
} as const;

/** Spans a cut must not fall inside: citation links, masked links, citation groups, URLs, escapes. */
const ATOMS = new RegExp(
  [
    String.raw`\[\[\d+\]\]\([^)\s]*\)`, // [[1]](url)
    String.raw`\[(?:\\.|[^\]\\\n])*\]\([^)\s]*\)`, // [label](url), label may hold escapes
    String.raw`\[\d+(?:\s*[,;]\s*\d+)*\]`, // [1] or [1, 2]
    String.raw`<?https?://[^\s>)]+>?`, // bare URL
    String.raw`\\[\s\S]`, // \x
  ].join('|'),
  'g',
);

/** Start/end offsets of the atoms of `text`. */
export function atomSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  for (const m of text.matchAll(ATOMS)) spans.push([m.index, m.index + m[0].length]);
  return spans;
}

/**
 * The best place to cut `text` so that the first part is at most `max` long: the last paragraph break, else
 * line break, else sentence end, else space, else any position outside an atom, in the second half of the
 * window when possible.
 */
function bestCut(text: string, max: number): number {
  const spans = atomSpans(text); // on the whole text: an atom crossing the limit must still be seen whole
  const inside = (p: number) => spans.some(([s, e]) => s < p && p < e);
  const window = text.slice(0, max + 1);
  const floor = Math.floor(max * 0.4);
  const tries: RegExp[] = [/\n\s*\n/g, /\n/g, /[.!?]["')\]]?(?=\s)/g, /\s/g];
  for (const re of tries) {
    let best = -1;
    for (const m of window.matchAll(re)) {
      // Cut after sentence punctuation, before whitespace.
      const p = re.source.startsWith('[.!?]') ? m.index + m[0].length : m.index;
      if (p > 0 && p <= max && !inside(p)) best = p;
    }
    if (best >= floor) return best;
  }
  for (let p = max; p > 0; p--) if (!inside(p)) return p;
  return max; // an atom longer than the limit: nothing better exists
}

/** Splits rendered text into parts of at most `max` characters, never inside a citation, link or escape. */
export function splitText(text: string, max: number): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const cut = bestCut(rest, max);
    const head = rest.slice(0, cut).trimEnd();
    if (head) parts.push(head);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}

/** What counts against the 6000-character budget of one embed. */
export function embedLength(e: APIEmbed): number {
  let n =
    (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.author?.name.length ?? 0);
  for (const f of e.fields ?? []) n += f.name.length + f.value.length;
  return n;
}

export interface Section {
  name: string;
  /** Rendered lines; lines are kept whole unless one alone exceeds a field. */
  lines: string[];
}

export interface EmbedSpec {
  /** Rendered title (escaped by the caller); cut to 256. */
  title: string;
  url?: string;
  color?: number;
  /** Rendered markdown; split over as many embeds as it needs. */
  description?: string;
  /** Short fields for the first embed (each within the field limits). */
  fields?: APIEmbedField[];
  /** Line lists shown as fields after the description, continued in further embeds when they do not fit. */
  sections?: Section[];
  /** Plain text footer of the last embed. */
  footer?: string;
}

/** Room kept free in an embed for the footer that may be added at the end. */
const FOOTER_RESERVE = 300;

function chunkLines(lines: string[], max: number): string[] {
  const chunks: string[] = [];
  let cur = '';
  for (const line of lines.flatMap((l) => splitText(l, max))) {
    if (cur && cur.length + 1 + line.length > max) {
      chunks.push(cur);
      cur = '';
    }
    cur = cur ? `${cur}\n${line}` : line;
  }
  if (cur) chunks.push(cur);
  return chunks;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).replace(/\\$/, '')}…`;
}

/** Builds the embeds for one logical reply, each within Discord's per-embed limits. */
export function buildEmbeds(spec: EmbedSpec): APIEmbed[] {
  const descParts = spec.description ? splitText(spec.description, LIMITS.description) : [];
  const color = spec.color !== undefined ? { color: spec.color } : {};
  const first: APIEmbed = { title: cut(spec.title, LIMITS.title), ...color };
  if (spec.url) first.url = spec.url;
  if (descParts[0]) first.description = descParts[0];
  if (spec.fields?.length)
    first.fields = spec.fields
      .slice(0, LIMITS.fields)
      .map((f) => ({ ...f, name: cut(f.name, LIMITS.fieldName), value: cut(f.value, LIMITS.fieldValue) }));
  const embeds: APIEmbed[] = [first, ...descParts.slice(1).map((d) => ({ ...color, description: d }))];
  for (const section of spec.sections ?? []) {
    chunkLines(section.lines, LIMITS.fieldValue).forEach((value, i) => {
      const field: APIEmbedField = {
        name: cut(i === 0 ? section.name : `${section.name} (continued)`, LIMITS.fieldName),
        value,
      };
      const last = embeds[embeds.length - 1]!;
      const fits =
        (last.fields?.length ?? 0) < LIMITS.fields &&
        embedLength(last) + field.name.length + field.value.length <= LIMITS.embedsTotal - FOOTER_RESERVE;
      if (fits) (last.fields ??= []).push(field);
      else embeds.push({ ...color, fields: [field] });
    });
  }
  if (spec.footer)
    embeds[embeds.length - 1]!.footer = { text: cut(spec.footer, Math.min(LIMITS.footer, FOOTER_RESERVE)) };
  return embeds;
}

/** Groups embeds into messages of at most 10 embeds and 6000 characters, in order. */
export function packMessages(embeds: APIEmbed[]): APIEmbed[][] {
  const messages: APIEmbed[][] = [];
  let cur: APIEmbed[] = [];
  let total = 0;
  for (const e of embeds) {
    const len = embedLength(e);
    if (cur.length && (cur.length >= LIMITS.embedsPerMessage || total + len > LIMITS.embedsTotal)) {
      messages.push(cur);
      cur = [];
      total = 0;
    }
    cur.push(e);
    total += len;
  }
  if (cur.length) messages.push(cur);
  return messages;
}
