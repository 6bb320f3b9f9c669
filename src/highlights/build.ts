import type { VectorIndex } from '../index/vector-index.ts';
import { dot } from '../vector-math.ts';
import type { PaperStore } from '../store/paper-store.ts';
import { paperUrl } from '../sources/normalize.ts';
import { queryTerms } from '../index/lexical-query.ts';
import { summaryLine } from '../sentences.ts';
import type { Paper } from '../types.ts';

export interface HighlightPaper {
  paper: Paper;
  /** One line: HF's `ai_summary` when present, else the abstract's most informative early sentence. */
  summary: string;
  url: string;
}

export interface Highlights {
  date: string;
  papers: HighlightPaper[];
  /** The day's most frequent topics (HF keywords), most frequent first. */
  themes: string[];
  /** How many papers the day had. */
  total: number;
}

/** Two papers this similar (mean chunk vectors) count as near-duplicates: only the better one is shown. */
const DUPLICATE_COSINE = 0.92;
const THEMES = 5;

// Words too common in ML abstracts to make a theme on their own.
const GENERIC = new Set(
  `model models learning language large data dataset datasets based method methods framework task tasks training
  performance results approach system systems network networks neural deep benchmark benchmarks evaluation new
  novel using via multi state art llm llms ai`.split(/\s+/),
);

/**
 * A paper's keyword phrases: HF's, or, for the papers HF gave none (most older days), the content words of each
 * part of its title ("Scaling Video Generation: A Study of ..." gives "scaling video generation", "study").
 */
function keywordsOf(p: Paper): string[] {
  if (p.aiKeywords?.length) return p.aiKeywords;
  return p.title
    .split(/[:;,?!()]|\s[-–—]\s|\s(?:for|with|via|and|in|on|of|from|to|by|through|using)\s/i)
    .map((part) => queryTerms(part).join(' '))
    .filter(Boolean);
}

/**
 * The day's themes: keyword phrases (HF's, or from the titles when HF gave none), and the words and word pairs
 * inside them, counted once per paper; the topics most papers share come first, a longer phrase beating the words
 * it contains.
 */
export function dayThemes(papers: Paper[], count = THEMES): string[] {
  const freq = new Map<string, number>();
  for (const p of papers) {
    const grams = new Set<string>();
    for (const k of keywordsOf(p)) {
      const ws = (
        k
          .toLowerCase()
          .replace(/\([^)]*\)/g, ' ')
          .match(/[\p{L}\p{N}][\p{L}\p{N}-]*/gu) ?? []
      ).map((w) => (w.length > 3 && /[^s]s$/.test(w) ? w.slice(0, -1) : w));
      if (ws.length >= 2 && ws.length <= 4) grams.add(ws.join(' '));
      for (let i = 0; i < ws.length; i++) {
        if (!GENERIC.has(ws[i]!) && ws[i]!.length > 2) grams.add(ws[i]!);
        if (i + 1 < ws.length && !(GENERIC.has(ws[i]!) && GENERIC.has(ws[i + 1]!))) grams.add(`${ws[i]} ${ws[i + 1]}`);
      }
    }
    for (const g of grams) freq.set(g, (freq.get(g) ?? 0) + 1);
  }
  const ranked = [...freq.entries()]
    .filter(([, n]) => n >= 2)
    .sort((a, b) => b[1] - a[1] || b[0].split(' ').length - a[0].split(' ').length || a[0].localeCompare(b[0]));
  const within = (outer: string, inner: string) => ` ${outer} `.includes(` ${inner} `);
  const out: string[] = [];
  for (const [g, n] of ranked) {
    const i = out.findIndex((o) => within(o, g) || within(g, o));
    if (i < 0) {
      if (out.length < count) out.push(g);
    } else if (within(g, out[i]!) && n >= 0.6 * freq.get(out[i]!)!) {
      out[i] = g; // the more specific phrase, nearly as common
    }
  }
  return out;
}

/**
 * The highlights of one digest day: the most upvoted papers, skipping any paper that is a near-duplicate of
 * one already chosen (same work posted twice, or two versions of one benchmark), with a one-line summary each
 * and the day's themes.
 */
export function buildHighlights(store: PaperStore, vectors: VectorIndex, date: string, count = 5): Highlights {
  const papers = store.papersBetween({ since: date, until: date });
  const chosen: { paper: Paper; vec?: Float32Array }[] = [];
  for (const paper of papers) {
    if (chosen.length >= count) break;
    const vec = vectors.centroidOf(paper.id);
    if (vec && chosen.some((c) => c.vec && dot(c.vec, vec) >= DUPLICATE_COSINE)) continue;
    chosen.push({ paper, vec });
  }
  return {
    date,
    total: papers.length,
    themes: dayThemes(papers),
    papers: chosen.map(({ paper }) => ({
      paper,
      summary: paper.aiSummary ?? summaryLine(paper.abstract),
      url: paperUrl(paper),
    })),
  };
}

/** The JSON printed by `highlights --json`; a contract other tools rely on. */
export function highlightsJson(h: Highlights) {
  return {
    date: h.date,
    papers: h.papers.map((p) => ({
      id: p.paper.id,
      title: p.paper.title,
      upvotes: p.paper.upvotes,
      summary: p.summary,
      url: p.url,
      github: p.paper.githubUrl ?? null,
    })),
    themes: h.themes,
  };
}
