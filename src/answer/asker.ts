import { addDays, dayIn } from '../dates.ts';
import type { DigestEmbeddings } from '../embeddings/types.ts';
import type { CosineSpread } from '../index/vector-index.ts';
import type { Retriever } from '../retrieval/retriever.ts';
import type { CorpusStats } from '../retrieval/corpus-stats.ts';
import { summaryLine } from '../sentences.ts';
import type { PaperStore } from '../store/paper-store.ts';

import type { DateRange, Hit, Paper } from '../types.ts';
import { checkCitations, type CheckedAnswer } from './citations.ts';
import { ExtractiveAnswerer, shortTitle } from './extractive.ts';
import { parseFollowUp, type FollowUp } from './follow-up.ts';
import { NO_ANSWER } from './generative.ts';
import { isMetadataOnly, parseIntent, type Intent } from './intent.ts';
import { RelevanceJudge, type Judgement } from './judge.ts';
import { cleanQuestion } from './question.ts';
import type { Answer, Answerer, Asker, AskOptions, ClosestPaper, SourceCheck } from './types.ts';

/** Papers retrieved for a question, shown when nothing answers it, and listed at most by a metadata answer. */
const RETRIEVE = 8;
const CLOSEST = 3;
const LIST = 10;

/** What the asker needs, narrowly: small fixtures can stand in for any of it. */
export interface AskerDeps {
  store: Pick<PaperStore, 'countBetween' | 'stats' | 'papersBetween' | 'latestDay'>;
  retriever: Pick<Retriever, 'retrieve'>;
  embeddings: DigestEmbeddings;
  stats: Pick<CorpusStats, 'idf' | 'docFreq' | 'papers'>;
  /** A chat model answerer; absent for the extractive default. */
  generative?: { answerer: Answerer & SourceCheck; name: string };
  timeZone: string;
  now?: () => Date;
}

/** Why a remote model's answer was not used, for the reader. */
function failureReason(err: unknown): string {
  const e = err as { name?: string; message?: string; status?: number; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /timed? ?out|abort/i.test(e?.message ?? ''))
    return 'it timed out';
  if (e?.status === 429 || /429|rate limit/i.test(e?.message ?? '')) return 'it is rate-limited (429)';
  if (typeof e?.status === 'number') return `it answered HTTP ${e.status}`;
  const code = e?.cause?.code ?? /\b(E[A-Z]{4,})\b/.exec(e?.message ?? '')?.[1];
  if (code) return `it could not be reached: ${code}`;
  return 'it could not be reached or answered in an unexpected form';
}

/** A message that gives the bot instructions instead of asking about papers. */
const ADDRESSES_BOT =
  /^\s*(?:please\s+)?(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|guidelines|messages?)\b|^\s*you are now\b|\b(?:print|reveal|show|output|repeat)\b.{0,30}\b(?:system prompt|hidden (?:prompt|configuration|instructions)|api keys?|environment variables)\b/i;

const closestLine = (p: Paper): string => summaryLine(p.aiSummary ?? p.abstract, 220);

/**
 * Answers a question from the digest only, with one of three outcomes: `answer` (every claim cites a retrieved
 * paper), `closest` (no paper answers it; the nearest ones are listed, uncited) or `none` (nothing related).
 * Metadata questions ("top papers this week", "which papers have code?") are answered from the data; follow-ups
 * ("the second one") from the asker's previous answer; everything else is retrieved and judged (judge.ts).
 */
export class DigestAsker implements Asker {
  readonly judge: RelevanceJudge;
  private readonly extractive: ExtractiveAnswerer;

  constructor(private readonly deps: AskerDeps) {
    this.judge = new RelevanceJudge(deps.stats, deps.embeddings);
    this.extractive = new ExtractiveAnswerer(deps.embeddings, (t) => deps.stats.idf(t));
  }

  /** Forget cached paper words (call after an ingest; the app resets the corpus statistics). */
  refresh(): void {
    this.judge.reset();
  }

  async ask(question: string, opts: AskOptions = {}): Promise<Answer> {
    const q = cleanQuestion(question);
    const today = dayIn(this.deps.timeZone, this.deps.now?.() ?? new Date());
    const intent = parseIntent(q, this.deps.timeZone, this.deps.now?.() ?? new Date());
    const range: DateRange = opts.since || opts.until ? { since: opts.since, until: opts.until } : (intent.range ?? {});
    const searched = this.deps.store.countBetween(range);
    const reply = (outcome: Answer['outcome'], text: string, more: Partial<Answer> = {}): Answer => ({
      question: q || question.trim().slice(0, 200),
      outcome,
      abstained: outcome !== 'answer',
      text,
      citations: [],
      retrieved: [],
      closest: [],
      answerer: this.deps.generative?.name ?? 'extractive',
      searched,
      ...more,
    });
    if (!/[\p{L}\p{N}]/u.test(q))
      return reply('none', `Ask a question about the digest's papers in words, for example "${this.example()}"`, {
        answerer: 'none',
      });

    // An instruction to the bot ("ignore previous instructions") asks nothing of the papers.
    if (ADDRESSES_BOT.test(q))
      return reply(
        'none',
        'I answer questions about the papers of the digest, and I take no instructions. Ask about a method, a task or a model.',
        { answerer: 'none' },
      );

    const followUp = parseFollowUp(q);
    if (followUp) return this.followUpAnswer(q, followUp, opts.previous, reply);

    // An asked window the digest does not hold: say what it holds rather than search nothing.
    if ((range.since || range.until) && searched === 0) {
      const s = this.deps.store.stats();
      const holds = s.from
        ? ` The digest holds ${s.from} to ${s.to}${s.to && (range.since ?? '') > s.to ? `; it ends on ${s.to}` : ''}.`
        : ' The index is empty.';
      return reply('none', `The digest has no papers ${intent.rangeLabel ?? describeRange(range)}.${holds}`, {
        answerer: 'metadata',
      });
    }
    if (isMetadataOnly(intent)) return this.metadataAnswer(q, intent, range, today);

    const sides = comparisonSides(intent.topic || q);
    if (sides) {
      const compared = await this.compare(q, sides, intent, range);
      if (compared)
        return reply('answer', compared.text, { citations: compared.citations, retrieved: compared.retrieved });
    }
    const { topic, hits, spread } = await this.retrieveFor(q, intent, range);
    let judged = this.judge.judge(topic, hits, spread, { asked: q });
    let note: string | undefined;
    if (judged.outcome !== 'answer' && judged.borderline && this.deps.generative) {
      const confirmed = await this.confirmWithModel(q, hits, judged);
      if (confirmed.length) judged = { ...judged, outcome: 'answer', answering: confirmed };
    }
    const where = intent.rangeLabel ?? (range.since || range.until ? describeRange(range) : '');
    const notAnswered = (why?: string): Answer => this.notAnswered(judged, hits, where, reply, why);
    if (judged.outcome !== 'answer') return notAnswered(note);

    const relevant = judged.answering;
    let answerer = 'extractive';
    let checked: CheckedAnswer | undefined;
    if (this.deps.generative) {
      try {
        const raw = await this.deps.generative.answerer.answer(q, relevant);
        if (raw === NO_ANSWER || raw.startsWith(NO_ANSWER))
          return notAnswered('The language model found no answer in the retrieved papers.');
        const c = checkCitations(raw, relevant);
        if (c.keptSentences > 0) {
          checked = c;
          answerer = this.deps.generative.name;
          if (c.droppedSentences)
            note = `${c.droppedSentences} sentence(s) of the model's answer had no supporting citation and were removed.`;
        } else {
          note = "The language model's answer cited none of the retrieved papers, so this is an extractive answer.";
        }
      } catch (err) {
        note = `The language model could not answer (${failureReason(err)}), so this is an extractive answer.`;
      }
    }
    checked ??= checkCitations(await this.extractive.answer(q, relevant, { withCode: intent.withCode }), relevant);
    if (!checked.keptSentences) return notAnswered(note);
    return reply('answer', checked.text, {
      citations: checked.citations,
      retrieved: hits,
      answerer,
      ...(note ? { note } : {}),
    });
  }

  /**
   * "Compare A and B", "A vs B": each side retrieved and judged on its own, answered by one line per side. Undefined
   * when neither side is answered (the whole question is then judged as usual).
   */
  private async compare(
    q: string,
    sides: [string, string],
    intent: Intent,
    range: DateRange,
  ): Promise<{ text: string; citations: CheckedAnswer['citations']; retrieved: Hit[] } | undefined> {
    const found: { side: string; hit?: Hit }[] = [];
    for (const side of sides) {
      const { hits, spread } = await this.retrieveFor(side, { ...intent, topic: side }, range);
      const j = this.judge.judge(side, hits, spread, { asked: q });
      // A side named by one term ("DPO") is about every paper that contains it alike, so no paper stands out:
      // the first paper that contains all of its words speaks to it.
      const named = j.outcome === 'closest' && (j.evidence[0]?.coverage ?? 0) >= 1 ? hits[0] : undefined;
      found.push({ side, hit: j.outcome === 'answer' ? j.answering[0] : named });
    }
    const answered = found.filter((f) => f.hit);
    if (!answered.length) return undefined;
    const hits = answered.map((f) => f.hit!);
    const lines: string[] = [`Comparing ${sides[0]} and ${sides[1]}:`];
    for (const f of found) {
      if (!f.hit) {
        lines.push(`- ${f.side}: no paper in the digest is clearly about it.`);
        continue;
      }
      const n = hits.indexOf(f.hit) + 1;
      const one = await this.extractive.answer(`${f.side} ${q}`, [f.hit]);
      const body =
        one
          .split('\n')[1]
          ?.replace(/^- [^:]+: /, '')
          .replace(/\[1\]/g, `[${n}]`) ?? '';
      lines.push(`- ${f.side}: ${shortTitle(f.hit.paper.title)} (${f.hit.paper.date}): ${body}`);
    }
    const checked = checkCitations(
      lines.filter((l) => !/no paper in the digest is clearly about it/.test(l)).join('\n'),
      hits,
    );
    if (!checked.keptSentences) return undefined;
    const missing = found
      .filter((f) => !f.hit)
      .map((f) => `\n- ${f.side}: no paper in the digest is clearly about it.`)
      .join('');
    return { text: checked.text + missing, citations: checked.citations, retrieved: hits };
  }

  /** What retrieval gives the judge for a question: its topic (without date and metadata words) and hits. */
  private async retrieveFor(
    q: string,
    intent: Intent,
    range: DateRange,
  ): Promise<{ topic: string; hits: Hit[]; spread?: CosineSpread }> {
    const topic = intent.topic || q;
    const { hits, spread } = await this.deps.retriever.retrieve(topic, { k: RETRIEVE, ...range });
    return {
      topic,
      hits: intent.withCode ? hits.filter((h) => h.paper.githubUrl) : hits,
      ...(spread ? { spread } : {}),
    };
  }

  /** The judge's view of a question as `ask` would retrieve it (for calibration and evaluation). */
  async inspect(question: string): Promise<{ topic: string; hits: Hit[]; spread?: CosineSpread }> {
    const q = cleanQuestion(question);
    const intent = parseIntent(q, this.deps.timeZone, this.deps.now?.() ?? new Date());
    return this.retrieveFor(q, intent, intent.range ?? {});
  }

  /** `closest` with the nearest papers when something related was found, else `none` with a hint. */
  private notAnswered(
    judged: Judgement,
    hits: Hit[],
    where: string,
    reply: (o: Answer['outcome'], t: string, m?: Partial<Answer>) => Answer,
    note?: string,
  ): Answer {
    const extra = note ? { note } : {};
    if (judged.outcome === 'none' || !hits.length) {
      const s = this.deps.store.stats();
      const covers = s.from
        ? ` It covers machine-learning papers from ${s.from} to ${s.to}: ask about a method, a task or a model, for example "${this.example()}"`
        : ' The index is empty: run an ingest first.';
      return reply('none', `Nothing in the digest${where ? ` ${where}` : ''} is related to this.${covers}`, {
        retrieved: hits,
        ...extra,
      });
    }
    const closest: ClosestPaper[] = hits.slice(0, CLOSEST).map((h) => ({ paper: h.paper, line: closestLine(h.paper) }));
    return reply(
      'closest',
      `No paper in the digest${where ? ` ${where}` : ''} answers this directly; the closest are:`,
      { retrieved: hits, closest, ...extra },
    );
  }

  /** Near the boundary, a configured chat model says whether each of the best papers answers the question. */
  private async confirmWithModel(q: string, hits: Hit[], judged: Judgement): Promise<Hit[]> {
    const gen = this.deps.generative!;
    const candidates = hits
      .slice(0, 3)
      .filter((_, i) => (judged.evidence[i]?.confidence ?? 0) >= this.judge.calibration.borderlineAt);
    const out: Hit[] = [];
    for (const h of candidates) {
      try {
        if (await gen.answerer.answers(q, h)) out.push(h);
      } catch {
        return []; // the model is unavailable: the offline judgement stands
      }
    }
    return out;
  }

  private example(): string {
    return 'which papers make LLM decoding faster?';
  }

  /** Follow-ups answered from the previous answer's papers; without one, the asker is told to name the topic. */
  private async followUpAnswer(
    q: string,
    f: FollowUp,
    previous: Paper[] | undefined,
    reply: (o: Answer['outcome'], t: string, m?: Partial<Answer>) => Answer,
  ): Promise<Answer> {
    if (!previous?.length) {
      return reply(
        'none',
        'I have no earlier answer of yours to refer to (answers are remembered for 15 minutes, in the channel where you asked). Ask again with the topic named, for example "which papers on speculative decoding have code?"',
        { answerer: 'follow-up' },
      );
    }
    const asHits = (papers: Paper[]): Hit[] => papers.map((paper) => ({ paper, score: 0, chunks: [] }));
    if (f.kind === 'code') {
      const withCode = previous.filter((p) => p.githubUrl);
      if (!withCode.length)
        return reply('none', `None of the ${previous.length} papers of your last answer links to code.`, {
          answerer: 'follow-up',
          retrieved: asHits(previous),
        });
      const lines = withCode.map((p, i) => `- ${p.title} (${p.date}) has code: ${p.githubUrl} [${i + 1}].`);
      const without = previous.length - withCode.length;
      const head =
        withCode.length === previous.length
          ? `All ${previous.length} papers of your last answer link to code:`
          : `${withCode.length} of the ${previous.length} papers of your last answer link to code:`;
      const hits = asHits(withCode);
      const checked = checkCitations([head, ...lines].join('\n'), hits);
      const text = without
        ? `${checked.text}\n${without === 1 ? 'The other one links' : `The other ${without} link`} to no code.`
        : checked.text;
      return reply('answer', text, { citations: checked.citations, retrieved: hits, answerer: 'follow-up' });
    }
    if (f.kind === 'pick') {
      const i = f.index < 0 ? previous.length - 1 : f.index;
      const p = previous[i];
      if (!p)
        return reply(
          'none',
          `Your last answer listed ${previous.length} paper${previous.length === 1 ? '' : 's'}; there is no number ${i + 1}.`,
          { answerer: 'follow-up' },
        );
      const hits = asHits([p]);
      const checked = checkCitations(await this.extractive.describe(p), hits);
      return reply('answer', checked.text, { citations: checked.citations, retrieved: hits, answerer: 'follow-up' });
    }
    // "how do they compare?", "what datasets do they use?": the question, answered from those papers only.
    const hits = asHits(previous);
    const checked = checkCitations(await this.extractive.answer(q, hits), hits);
    if (!checked.keptSentences)
      return reply('closest', "Your last answer's papers do not say; they were:", {
        closest: previous.slice(0, CLOSEST).map((paper) => ({ paper, line: closestLine(paper) })),
        answerer: 'follow-up',
      });
    return reply('answer', checked.text, { citations: checked.citations, retrieved: hits, answerer: 'follow-up' });
  }

  /** "What's new today?", "top papers this week", "which papers have code?": answered from the data. */
  private metadataAnswer(question: string, intent: Intent, asked: DateRange, today: string): Answer {
    const store = this.deps.store;
    let range = asked;
    let label = intent.rangeLabel;
    let papers: Paper[] = [];
    if (range.since || range.until) papers = store.papersBetween(range, { withCode: intent.withCode, limit: LIST });
    // No dates, or nothing on the asked day (a weekend, or today's list not out yet): the latest digest before
    // it; for "which papers have code?" the week up to it, since one day may have none.
    if (!papers.length && !(intent.range && intent.range.since !== intent.range.until)) {
      const latest = store.latestDay(range.until ?? today);
      if (latest) {
        const week = intent.withCode && !intent.range;
        range = { since: week ? addDays(latest, -6) : latest, until: latest };
        const span = week
          ? `the week up to the latest digest, ${range.since} to ${latest}`
          : `the latest digest, ${latest}`;
        label = label ? `${label.replace(/ \(.*\)$/, '')}: nothing yet, so ${span}` : `in ${span}`;
        papers = store.papersBetween(range, { withCode: intent.withCode, limit: LIST });
      }
    }
    const retrieved: Hit[] = papers.map((p) => ({ paper: p, score: p.upvotes, chunks: [] }));
    const searched = store.countBetween(range);
    const what = intent.withCode ? 'Papers with code' : 'Top papers by upvotes';
    const base = { question, searched, retrieved, closest: [], answerer: 'metadata' };
    if (!papers.length) {
      const latest = store.latestDay();
      const hint = latest ? ` The latest digest in the index is from ${latest}.` : ' The index is empty.';
      const text =
        `The digest has no ${intent.withCode ? 'papers with code' : 'papers'} ${label ?? ''}.`.replace(/\s+\./, '.') +
        hint;
      return { ...base, outcome: 'none', abstained: true, text, citations: [] };
    }
    const lines = papers.map((p, i) => {
      const code = p.githubUrl ? `, code: ${p.githubUrl}` : '';
      return `- ${p.title}: ${p.upvotes} upvote${p.upvotes === 1 ? '' : 's'}${code} [${i + 1}].`;
    });
    const raw = [`${what} ${label ?? ''}:`.replace(/\s+:/, ':'), ...lines].join('\n');
    const checked = checkCitations(raw, retrieved);
    return { ...base, outcome: 'answer', abstained: false, text: checked.text, citations: checked.citations };
  }
}

/** "compare A and B", "A vs B", "difference between A and B", "A or B: which is better?": the two sides. */
export function comparisonSides(question: string): [string, string] | undefined {
  const q = question.replace(/[?!.]+\s*$/, '').trim();
  const m =
    /^(?:(?:please\s+)?compare|contrast)\s+(.+?)\s+(?:and|with|to|vs\.?|versus)\s+(.+)$/i.exec(q) ??
    /^(?:what(?:'s| is| are) the )?differences? between\s+(.+?)\s+and\s+(.+)$/i.exec(q) ??
    /^(?:how (?:does|do|is|are)\s+)?(.+?)\s+(?:vs\.?|versus)\s+(.+)$/i.exec(q) ??
    /^how (?:does|do)\s+(.+?)\s+compare (?:to|with)\s+(.+)$/i.exec(q);
  if (!m) return undefined;
  const clean = (s: string) =>
    s
      .replace(/^(?:the|a|an)\s+/i, '')
      .replace(/\s+(?:approaches|methods|papers)$/i, '')
      .trim();
  const [a, b] = [clean(m[1]!), clean(m[2]!)];
  return a && b && a.split(/\s+/).length <= 8 && b.split(/\s+/).length <= 8 ? [a, b] : undefined;
}

function describeRange(r: DateRange): string {
  if (r.since && r.until) return r.since === r.until ? `on ${r.since}` : `from ${r.since} to ${r.until}`;
  return r.since ? `since ${r.since}` : `until ${r.until}`;
}
