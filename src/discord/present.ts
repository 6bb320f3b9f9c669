/**
 * What the bot's replies look like: embeds for answers, result pages, one paper, a digest day and the bot
 * itself. Every piece of outside text goes through escape.ts; every reply fits Discord's limits (split.ts).
 */
import type { APIEmbed, APIEmbedField } from 'discord.js';
import { CITE_GROUP } from '../answer/citations.ts';
import type { Answer } from '../answer/types.ts';
import { arxivUrl, paperUrl } from '../sources/normalize.ts';
import type { StoreStats } from '../store/paper-store.ts';
import type { DateRange, Hit, Paper } from '../types.ts';
import { escapeText, linkUrl, maskedLink, plainText, stripReasoning, truncate } from './escape.ts';
import { buildEmbeds, packMessages } from './split.ts';
import { firstSentences } from '../sentences.ts';
import { stripUnsafe } from '../text.ts';

export const COLORS = {
  answer: 0xffd21e, // Hugging Face yellow
  abstain: 0x99aab5,
  list: 0x5865f2,
  paper: 0xff9d00,
  error: 0xed4245,
} as const;

/**
 * The answer text with its `[n]` markers turned into links to the cited papers (`[[n]](url)`), everything else
 * escaped. Markers without a citation stay visible as plain `[n]`.
 */
export function renderAnswerText(answer: Pick<Answer, 'text' | 'citations'>): string {
  const urls = new Map(answer.citations.map((c) => [c.n, c.url]));
  const text = stripReasoning(answer.text).trim();
  let out = '';
  let last = 0;
  for (const m of text.matchAll(CITE_GROUP)) {
    out += escapeText(text.slice(last, m.index), { keepLists: true });
    out += m[1]!
      .split(/\s*[,;]\s*/)
      .map((n) => {
        const url = urls.get(Number(n));
        return url ? `[[${n}]](${linkUrl(url)})` : `\\[${n}\\]`;
      })
      .join('');
    last = m.index + m[0].length;
  }
  return out + escapeText(text.slice(last), { keepLists: true });
}

/** `date · ▲ upvotes · arXiv · code · project` for a paper. */
export function paperMeta(p: Paper, opts: { hfLink?: boolean } = {}): string {
  const bits = [p.date, `▲ ${p.upvotes}`];
  if (opts.hfLink) bits.push(`[HF](${linkUrl(paperUrl(p))})`);
  const arxiv = arxivUrl(p);
  if (arxiv) bits.push(`[arXiv](${linkUrl(arxiv)})`);
  if (p.githubUrl) bits.push(`[code](${linkUrl(p.githubUrl)})`);
  if (p.projectUrl) bits.push(`[project](${linkUrl(p.projectUrl)})`);
  return bits.join(' · ');
}

/** HF's one-line summary, or the first sentences of the abstract, escaped and cut to `max`. */
export function shortSummary(p: Paper, max = 300): string {
  const text = p.aiSummary ?? firstSentences(p.abstract, max);
  return escapeText(truncate(text.replace(/\s+/g, ' ').trim(), max));
}

function rangeText(range: DateRange): string {
  if (range.since && range.until) return range.since === range.until ? range.since : `${range.since} to ${range.until}`;
  if (range.since) return `since ${range.since}`;
  if (range.until) return `until ${range.until}`;
  return '';
}

/** An answer as messages of embeds: the first goes into the deferred reply, the rest are follow-ups. */
export function answerMessages(answer: Answer, range: DateRange = {}): APIEmbed[][] {
  const notes: string[] = [];
  if (answer.note) notes.push(`*${escapeText(answer.note)}*`);
  const body = renderAnswerText(answer) || escapeText('(no answer text)');
  const sections =
    answer.outcome === 'closest'
      ? [
          {
            name: 'Closest papers (not an answer)',
            lines: answer.closest.map(
              (c, i) =>
                `**${i + 1}.** ${maskedLink(truncate(c.paper.title, 200), paperUrl(c.paper))} · ${c.paper.date}\n${escapeText(truncate(c.line, 220))}`,
            ),
          },
        ]
      : answer.citations.length
        ? [
            {
              name: 'Sources',
              lines: answer.citations.map(
                (c) => `**[${c.n}]** ${maskedLink(c.paper.title, c.url)} · ${paperMeta(c.paper)}`,
              ),
            },
          ]
        : [];
  const footer = [
    `Searched ${answer.searched} paper${answer.searched === 1 ? '' : 's'}`,
    rangeText(range),
    `answered by ${answer.answerer}`,
  ]
    .filter(Boolean)
    .join(' · ');
  const title =
    answer.outcome === 'answer'
      ? answer.question
      : answer.outcome === 'closest'
        ? `No direct answer: ${answer.question}`
        : `Nothing related in the digest: ${answer.question}`;
  const embeds = buildEmbeds({
    title: escapeText(truncate(title, 250)),
    color: answer.outcome === 'answer' ? COLORS.answer : COLORS.abstain,
    description: [body, ...notes].join('\n\n'),
    sections,
    footer: plainText(footer),
  });
  return packMessages(embeds);
}

export interface PageInfo {
  page: number;
  pages: number;
  total: number;
}

/** Splits a list into pages; the page number is clamped into range. */
export function pageOf<T>(items: T[], page: number, perPage: number): { items: T[]; info: PageInfo } {
  const pages = Math.max(1, Math.ceil(items.length / perPage));
  const p = Math.min(Math.max(0, page), pages - 1);
  return { items: items.slice(p * perPage, (p + 1) * perPage), info: { page: p, pages, total: items.length } };
}

function pageFooter(info: PageInfo, noun: string, extra: string[] = []): string {
  return plainText(
    [`Page ${info.page + 1}/${info.pages}`, `${info.total} ${noun}${info.total === 1 ? '' : 's'}`, ...extra]
      .filter(Boolean)
      .join(' · '),
  );
}

/** One numbered list entry: linked title, meta line, short summary. */
function paperLine(n: number, p: Paper, extra = ''): string {
  return `**${n}.** ${maskedLink(truncate(p.title, 200), paperUrl(p))}\n${paperMeta(p)}${extra}\n${shortSummary(p, 200)}`;
}

/** The HF search page for a query; also carries the query for the pagination buttons (see commands/search.ts). */
export function searchUrl(query: string): string {
  return `https://huggingface.co/papers?q=${encodeURIComponent(stripUnsafe(query))}`;
}

export function searchEmbed(query: string, hits: Hit[], info: PageInfo, perPage: number, range: DateRange): APIEmbed {
  const start = info.page * perPage;
  const description = hits.length
    ? hits.map((h, i) => paperLine(start + i + 1, h.paper)).join('\n\n')
    : escapeText(`No papers match "${query}"${rangeText(range) ? ` (${rangeText(range)})` : ''}.`);
  return buildEmbeds({
    title: escapeText(truncate(`Search: ${query}`, 250)),
    url: searchUrl(query),
    color: COLORS.list,
    description,
    footer: pageFooter(info, 'result', [rangeText(range)]),
  })[0]!;
}

export function digestEmbed(day: string, papers: Paper[], info: PageInfo, perPage: number): APIEmbed {
  const start = info.page * perPage;
  return buildEmbeds({
    title: `Daily Papers, ${day}`,
    url: `https://huggingface.co/papers/date/${day}`,
    color: COLORS.list,
    description: papers.map((p, i) => paperLine(start + i + 1, p)).join('\n\n'),
    footer: pageFooter(info, 'paper', ['ranked by upvotes']),
  })[0]!;
}

export function similarEmbed(of: Paper, hits: Hit[], info: PageInfo, perPage: number): APIEmbed {
  const start = info.page * perPage;
  const description = hits.length
    ? hits.map((h, i) => paperLine(start + i + 1, h.paper, ` · similarity ${h.score.toFixed(2)}`)).join('\n\n')
    : 'No similar papers found.';
  return buildEmbeds({
    title: escapeText(truncate(`Similar to: ${of.title}`, 250)),
    url: paperUrl(of),
    color: COLORS.list,
    description,
    footer: pageFooter(info, 'paper'),
  })[0]!;
}

function authorList(authors: string[], max = 1000): string {
  if (!authors.length) return 'unknown';
  let out = '';
  for (const [i, a] of authors.entries()) {
    const next = out ? `${out}, ${a}` : a;
    const rest = authors.length - i - 1;
    if (escapeText(next).length + (rest ? ` and ${rest} more`.length : 0) > max) {
      return `${escapeText(out)} and ${authors.length - i} more`;
    }
    out = next;
  }
  return escapeText(out);
}

export function paperEmbed(p: Paper): APIEmbed {
  const links = [`[Hugging Face](${linkUrl(paperUrl(p))})`];
  const arxiv = arxivUrl(p);
  if (arxiv) links.push(`[arXiv](${linkUrl(arxiv)})`);
  if (p.githubUrl) links.push(`[GitHub](${linkUrl(p.githubUrl)})`);
  if (p.projectUrl) links.push(`[Project page](${linkUrl(p.projectUrl)})`);
  const fields: APIEmbedField[] = [
    { name: 'Digest day', value: p.date, inline: true },
    { name: 'Upvotes', value: String(p.upvotes), inline: true },
    { name: 'Comments', value: String(p.comments), inline: true },
    { name: 'Authors', value: authorList(p.authors) },
    { name: 'Links', value: links.join(' · ') },
  ];
  if (p.aiKeywords?.length)
    fields.push({ name: 'Keywords', value: escapeText(truncate(p.aiKeywords.join(', '), 1000)) });
  return buildEmbeds({
    title: escapeText(truncate(p.title, 250)),
    url: paperUrl(p),
    color: COLORS.paper,
    description: p.aiSummary ? escapeText(truncate(p.aiSummary, 1000)) : escapeText(firstSentences(p.abstract, 600)),
    fields,
    footer: plainText(`${p.id}${p.aiSummary ? ' · summary by Hugging Face' : ''}`),
  })[0]!;
}

/** What /about shows: the index's figures, the model that built it and the configured answerer. */
export interface AboutInfo extends StoreStats {
  model: string | null;
  answerer: string;
}

export function aboutEmbed(a: AboutInfo, commands: readonly { name: string }[]): APIEmbed {
  return buildEmbeds({
    title: 'About this bot',
    url: 'https://huggingface.co/papers',
    color: COLORS.list,
    description:
      'I answer questions about the Hugging Face Daily Papers digest with numbered citations, post daily highlights ' +
      `and tell you of new papers on your topics. Commands: ${commands.map((c) => `\`/${c.name}\``).join(', ')} ` +
      '(`/help` says what each does).',
    fields: [
      { name: 'Papers', value: String(a.papers), inline: true },
      { name: 'Digest days', value: String(a.days), inline: true },
      { name: 'Date range', value: a.from && a.to ? `${a.from} to ${a.to}` : 'empty', inline: true },
      { name: 'Embedding model', value: escapeText(a.model ?? 'none yet'), inline: true },
      { name: 'Answerer', value: escapeText(a.answerer), inline: true },
      { name: 'Chunks indexed', value: String(a.chunks), inline: true },
    ],
  })[0]!;
}

/** `/help`: every registered command with what it does, one line each. */
export function helpEmbed(commands: readonly { name: string; description: string }[]): APIEmbed {
  return buildEmbeds({
    title: 'Commands',
    color: COLORS.list,
    description: commands.map((c) => `\`/${c.name}\`: ${escapeText(c.description)}`).join('\n'),
    footer: plainText("Answers cite the digest's papers; when none answers, I say so and show the closest."),
  })[0]!;
}
