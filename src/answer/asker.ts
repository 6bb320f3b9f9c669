import type { DigestEmbeddings } from '../embeddings/types.ts';
import type { Retriever } from '../retrieval/retriever.ts';
import type { PaperStore } from '../store/paper-store.ts';
import type { DateRange, Hit, Paper } from '../types.ts';
import { checkCitations, type CheckedAnswer } from './citations.ts';
import { ExtractiveAnswerer } from './extractive.ts';
import { NO_ANSWER, type GenerativeAnswerer } from './generative.ts';
import { dayIn, isMetadataOnly, parseIntent, type Intent } from './intent.ts';
import { addDays } from '../sources/hf-api.ts';
import { isRelevant, relevanceStrength, RelevanceScorer } from './relevance.ts';
import type { Answer, Asker, AskOptions } from './types.ts';

/** Papers considered for an answer, and the most a metadata answer lists. */
const RETRIEVE = 8;
const CONSIDER = 5;
const LIST = 10;
const MAX_QUESTION = 1000;

export interface AskerDeps {
  store: PaperStore;
  retriever: Retriever;
  embeddings: DigestEmbeddings;
  /** A chat model answerer; absent for the extractive default. */
  generative?: { answerer: GenerativeAnswerer; name: string };
  timeZone: string;
  now?: () => Date;
}

/** Why a remote model's answer was not used, for the reader. */
function failureReason(err: unknown): string {
  const e = err as { name?: string; message?: string; status?: number };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /timed? ?out|abort/i.test(e?.message ?? '')) return 'it timed out';
  if (e?.status === 429 || /429|rate limit/i.test(e?.message ?? '')) return 'it is rate-limited (429)';
  if (typeof e?.status === 'number') return `it answered HTTP ${e.status}`;
  return 'it could not be reached or answered in an unexpected form';
}

/**
 * Answers a question from the digest only. Metadata questions ("top papers this week", "which papers have
 * code?") are answered from the data; everything else is retrieved, judged relevant or not (abstaining when
 * nothing is), answered by the configured answerer, and its citations checked before anyone sees them.
 */
export class DigestAsker implements Asker {
  private readonly relevance: RelevanceScorer;
  private readonly extractive: ExtractiveAnswerer;

  constructor(private readonly deps: AskerDeps) {
    this.relevance = new RelevanceScorer(deps.store);
    this.extractive = new ExtractiveAnswerer(deps.embeddings, (t) => this.relevance.idf(t));
  }

  /** Forget cached corpus statistics (call after an ingest). */
  refresh(): void {
    this.relevance.reset();
  }

  async ask(question: string, opts: AskOptions = {}): Promise<Answer> {
    const q = question.replace(/\s+/g, ' ').trim().slice(0, MAX_QUESTION);
    const intent = parseIntent(q, this.deps.timeZone, this.deps.now?.() ?? new Date());
    const range: DateRange = opts.since || opts.until ? { since: opts.since, until: opts.until } : (intent.range ?? {});
    const base = { question, searched: this.deps.store.countBetween(range) };
    if (!q) {
      return { ...base, abstained: true, text: 'Ask a question about the digest, for example "which papers make LLM decoding faster?"', citations: [], retrieved: [], closest: [], answerer: 'none' };
    }
    if (isMetadataOnly(intent)) return this.metadataAnswer(question, intent, range);

    let hits = await this.deps.retriever.search(intent.topic || q, { k: RETRIEVE, ...range });
    if (intent.withCode) hits = hits.filter((h) => h.paper.githubUrl);
    const scores = this.relevance.score(intent.topic || q, hits);
    // Relevant enough on its own, and not far behind the best: weak matches would dilute the answer.
    const strength = scores.map(relevanceStrength);
    const best = Math.max(0, ...strength.slice(0, CONSIDER));
    const relevant = hits.slice(0, CONSIDER).filter((_, i) => isRelevant(scores[i]!) && strength[i]! >= 0.8 * best);
    const where = intent.rangeLabel ?? (range.since || range.until ? `from ${range.since ?? 'the start'} to ${range.until ?? 'now'}` : '');
    const abstain = (note?: string): Answer => ({
      ...base,
      abstained: true,
      text: `Nothing in the digest${where ? ` ${where}` : ''} answers this.`,
      citations: [],
      retrieved: hits,
      closest: hits.slice(0, 3),
      answerer: this.deps.generative?.name ?? 'extractive',
      ...(note ? { note } : {}),
    });
    if (!relevant.length) return abstain();

    let note: string | undefined;
    let answerer = 'extractive';
    let checked: CheckedAnswer | undefined;
    if (this.deps.generative) {
      try {
        const raw = await this.deps.generative.answerer.answer(q, relevant);
        if (raw === NO_ANSWER || raw.startsWith(NO_ANSWER)) return abstain('The language model found no answer in the retrieved papers.');
        const c = checkCitations(raw, relevant);
        if (c.keptSentences > 0) {
          checked = c;
          answerer = this.deps.generative.name;
          if (c.droppedSentences) note = `${c.droppedSentences} sentence(s) of the model's answer had no supporting citation and were removed.`;
        } else {
          note = "The language model's answer cited none of the retrieved papers, so this is an extractive answer.";
        }
      } catch (err) {
        note = `The language model could not answer (${failureReason(err)}), so this is an extractive answer.`;
      }
    }
    checked ??= checkCitations(await this.extractive.answer(q, relevant), relevant);
    if (!checked.keptSentences) return abstain(note);
    return { ...base, abstained: false, text: checked.text, citations: checked.citations, retrieved: hits, closest: [], answerer, ...(note ? { note } : {}) };
  }

  /** "What's new today?", "top papers this week", "which papers have code?": answered from the data. */
  private metadataAnswer(question: string, intent: Intent, asked: DateRange): Answer {
    const store = this.deps.store;
    let range = asked;
    let label = intent.rangeLabel;
    let papers: Paper[] = [];
    if (range.since || range.until) papers = store.papersBetween(range, { withCode: intent.withCode, limit: LIST });
    // No dates, or nothing on the asked day (a weekend, or today's list not out yet): the latest digest before
    // it; for "which papers have code?" the week up to it, since one day may have none.
    if (!papers.length && !(intent.range && intent.range.since !== intent.range.until)) {
      const latest = store.latestDay(range.until ?? dayIn(this.deps.timeZone, this.deps.now?.() ?? new Date()));
      if (latest) {
        const week = intent.withCode && !intent.range;
        range = { since: week ? addDays(latest, -6) : latest, until: latest };
        const span = week ? `the week up to the latest digest, ${range.since} to ${latest}` : `the latest digest, ${latest}`;
        label = label ? `${label.replace(/ \(.*\)$/, '')}: nothing yet, so ${span}` : `in ${span}`;
        papers = store.papersBetween(range, { withCode: intent.withCode, limit: LIST });
      }
    }
    const retrieved: Hit[] = papers.map((p) => ({ paper: p, score: p.upvotes, chunks: [] }));
    const searched = store.countBetween(range);
    const what = intent.withCode ? 'Papers with code' : 'Top papers by upvotes';
    if (!papers.length) {
      const latest = store.latestDay();
      const hint = latest ? ` The latest digest in the index is from ${latest}.` : ' The index is empty.';
      const text = `The digest has no ${intent.withCode ? 'papers with code' : 'papers'} ${label ?? ''}.`.replace(/\s+\./, '.') + hint;
      return { question, searched, abstained: true, text, citations: [], retrieved, closest: [], answerer: 'metadata' };
    }
    const lines = papers.map((p, i) => {
      const code = p.githubUrl ? ', with code' : '';
      return `- ${p.title}: ${p.upvotes} upvote${p.upvotes === 1 ? '' : 's'}${code} [${i + 1}].`;
    });
    const raw = [`${what} ${label ?? ''}:`.replace(/\s+:/, ':'), ...lines].join('\n');
    const checked = checkCitations(raw, retrieved);
    return { question, searched, abstained: false, text: checked.text, citations: checked.citations, retrieved, closest: [], answerer: 'metadata' };
  }
}
