/**
 * Which papers of a digest day match which subscription topics, and why: a plain topic is scored against a paper
 * by coverage (its words where the paper has them, topic-weights.ts and paper-terms.ts), the similarity of the
 * topic's and the title's embeddings, and the topic's profile (profile.ts); tuning.ts has the weights and the
 * threshold with the figures that chose them.
 *
 * Forms: `keyword:"phrase"` matches papers whose title, abstract, HF keywords or summary contain the phrase as
 * consecutive words (stemmed); `author:"Jane Doe"` matches papers with an author of that name.
 *
 * Speed: corpus statistics for the profiles are read once per matcher (until `reset()`); a day's papers are
 * tokenized, stemmed and embedded once per `match` call; each distinct topic is parsed, weighted, profiled and
 * embedded once and cached; scoring a pair is a few map lookups and two dot products.
 */
import type { DigestEmbeddings } from '../embeddings/types.ts';
import { queryTerms } from '../index/lexical-query.ts';
import type { VectorIndex } from '../index/vector-index.ts';
import { dot } from '../vector-math.ts';
import type { PaperStore } from '../store/paper-store.ts';
import { CorpusStats } from '../retrieval/corpus-stats.ts';
import type { Paper } from '../types.ts';
import { TopicProfiles, type Profile } from './profile.ts';
import { parseTopic, type Topic } from './topic.ts';
import { preparePaper, type PreparedPaper } from './paper-terms.ts';
import { anchorPhrases, weighTopic, type Alternative } from './topic-weights.ts';
import { MATCH_THRESHOLD, PROFILE_NEUTRAL, PROFILE_WEIGHT, SATURATION, SHOWN_TF, SIMILARITY_WEIGHT } from './tuning.ts';

export { MATCH_THRESHOLD, PROFILE_WEIGHT, SIMILARITY_WEIGHT } from './tuning.ts';

export interface TopicMatch {
  paper: Paper;
  /** coverage + 0.5 x similarity + 0.3 x profile for plain topics; 1 for keyword and author forms. */
  score: number;
  /** Title cosine similarity (plain topics). */
  similarity?: number;
  /** Lexical coverage in [0, 1] (plain topics). */
  coverage?: number;
  /** Resemblance to the corpus papers about the topic (plain topics with a profile); see profile.ts. */
  profile?: number;
  /** The topic words or phrases found, or the author's name as the paper spells it. */
  matched: string[];
  /**
   * One line for people: `similarity 0.52, profile 0.91, matched "memory", "agents"` (profile when the topic has
   * one) / `matched "x"` / `author Jane Doe`.
   */
  reason: string;
}

export interface TopicMatches {
  topic: Topic;
  /** Best first. */
  matches: TopicMatch[];
}

/** A chat model's check of a pair just under the threshold: is this paper about the topic? */
export interface MatchConfirmation {
  check(topic: string, paper: Paper): Promise<boolean>;
  /** How far under the threshold a pair is still asked about. */
  band: number;
  /** At most this many pairs asked per `match` call. */
  max: number;
}

export interface MatchOptions {
  /** Default `MATCH_THRESHOLD`; `-Infinity` scores every pair (for evaluation). */
  threshold?: number;
}

interface PreparedTopic {
  topic: Topic;
  alternatives: Alternative[];
  vector?: Float32Array;
  profile?: Profile;
}

const saturate = (tf: number): number => tf / (tf + SATURATION);

/**
 * Matches topics against papers. Build one per process (or per digest run) and reuse it: topic preparation and
 * embeddings are cached. Word weights come from the store's lexical index; call `reset()` after an ingest.
 */
export class TopicMatcher {
  private readonly prepared = new Map<string, PreparedTopic>();
  private readonly vectors = new Map<string, Float32Array>();
  private readonly stats: CorpusStats;
  private readonly confirm?: MatchConfirmation;
  /** The chat model's verdicts, per topic and paper: a pair is asked once. */
  private readonly confirmed = new Map<string, boolean>();
  readonly threshold: number;

  private readonly vectorIndex?: VectorIndex;
  /** Built on first use from the vector index; null when there is none or it is too small. */
  private profiles?: TopicProfiles | null;

  /** Without `vectors`, topics have no profile (see profile.ts): every pair counts `PROFILE_NEUTRAL` for it. */
  constructor(
    private readonly store: PaperStore,
    private readonly embeddings: DigestEmbeddings,
    opts: { threshold?: number; vectors?: VectorIndex; stats?: CorpusStats; confirm?: MatchConfirmation } = {},
  ) {
    this.threshold = opts.threshold ?? MATCH_THRESHOLD;
    this.confirm = opts.confirm;
    this.stats = opts.stats ?? new CorpusStats(store);
    this.vectorIndex = opts.vectors;
  }

  /** Forget prepared topics and profiles (they change when papers are added); embeddings stay cached. */
  reset(): void {
    this.prepared.clear();
    this.profiles = undefined;
  }

  /**
   * The papers each topic matches, best first, in the order of `topics` (a topic given twice is computed once).
   * Topics given as text are parsed here and throw `TopicError` if invalid.
   */
  async match(
    topics: readonly (string | Topic)[],
    papers: readonly Paper[],
    opts: MatchOptions = {},
  ): Promise<TopicMatches[]> {
    const threshold = opts.threshold ?? this.threshold;
    const parsed = topics.map((t) => (typeof t === 'string' ? this.parse(t) : t));
    const prepared = await this.prepareTopics(parsed);
    const day = await this.preparePapers(papers);
    // With a chat model, pairs just under the threshold are asked about (the best first, a bounded number).
    const confirm = this.confirm && Number.isFinite(threshold) ? this.confirm : undefined;
    const floor = confirm ? threshold - confirm.band : threshold;
    const byKey = new Map<string, TopicMatch[]>();
    const borderline: { pt: PreparedTopic; m: TopicMatch }[] = [];
    for (const pt of prepared) {
      if (byKey.has(pt.topic.key)) continue;
      const matches: TopicMatch[] = [];
      for (const pp of day) {
        const m = this.score(pt, pp, floor);
        if (!m) continue;
        if (m.score >= threshold) matches.push(m);
        else if (pt.topic.kind === 'semantic') borderline.push({ pt, m });
      }
      byKey.set(pt.topic.key, matches);
    }
    if (confirm && borderline.length) {
      borderline.sort((a, b) => b.m.score - a.m.score);
      for (const { pt, m } of borderline.slice(0, confirm.max)) {
        const key = `${pt.topic.key}\u0000${m.paper.id}`;
        let yes = this.confirmed.get(key);
        if (yes === undefined) {
          try {
            yes = await confirm.check(pt.topic.text, m.paper);
          } catch {
            break; // the model is unavailable: the offline matches stand
          }
          this.confirmed.set(key, yes);
        }
        if (yes) byKey.get(pt.topic.key)!.push({ ...m, reason: `${m.reason}, confirmed by the language model` });
      }
    }
    for (const matches of byKey.values())
      matches.sort((a, b) => b.score - a.score || b.paper.upvotes - a.paper.upvotes);
    return prepared.map((pt, i) => ({ topic: parsed[i]!, matches: byKey.get(pt.topic.key)! })); // as this caller wrote it
  }

  private readonly parsed = new Map<string, Topic>();

  /** Parse a topic (cached by its text). Throws `TopicError`. */
  parse(text: string): Topic {
    let t = this.parsed.get(text);
    if (!t) {
      if (this.parsed.size > 100_000) this.parsed.clear();
      this.parsed.set(text, (t = parseTopic(text)));
    }
    return t;
  }

  /** A stop word inside a compound ("on" of on-policy) is in nearly every paper: weight 0, but it still pairs. */
  private idf(word: string): number {
    return queryTerms(word).length ? this.stats.idf(word) : 0;
  }

  private async prepareTopics(topics: Topic[]): Promise<PreparedTopic[]> {
    const missing = new Map<string, string>();
    const out = topics.map((topic) => {
      let pt = this.prepared.get(topic.key);
      if (!pt) {
        pt = { topic, alternatives: topic.kind === 'semantic' ? weighTopic(topic, (w) => this.idf(w)) : [] };
        if (topic.kind === 'semantic') pt.profile = this.corpusProfiles()?.profile(anchorPhrases(topic));
        this.prepared.set(topic.key, pt);
      }
      if (pt.topic.kind === 'semantic' && !pt.vector) {
        const v = this.vectors.get(pt.topic.text);
        if (v) pt.vector = v;
        else missing.set(pt.topic.text, pt.topic.text);
      }
      return pt;
    });
    if (missing.size) {
      const texts = [...missing.keys()];
      const vecs = await this.embed(texts, 'query');
      texts.forEach((t, i) => this.vectors.set(t, vecs[i]!));
      if (this.vectors.size > 100_000) this.vectors.clear(); // a bound, far above any real number of topics
      for (const pt of out) if (pt.topic.kind === 'semantic') pt.vector ??= this.vectors.get(pt.topic.text);
    }
    return out;
  }

  private corpusProfiles(): TopicProfiles | undefined {
    if (this.profiles === undefined)
      this.profiles = this.vectorIndex ? (TopicProfiles.build(this.store, this.vectorIndex) ?? null) : null;
    return this.profiles ?? undefined;
  }

  private async preparePapers(papers: readonly Paper[]): Promise<PreparedPaper[]> {
    const out = papers.map(preparePaper);
    if (this.vectorIndex) for (const pp of out) pp.centroid = this.vectorIndex.centroidOf(pp.paper.id);
    const titles = await this.embed(
      papers.map((p) => p.title),
      'document',
    );
    out.forEach((pp, i) => (pp.title = titles[i]));
    return out;
  }

  private async embed(texts: string[], as: 'query' | 'document'): Promise<Float32Array[]> {
    if (!texts.length) return [];
    const emb = this.embeddings;
    if (emb.embedOne) return texts.map((t) => emb.embedOne!(t));
    if (as === 'document') return (await emb.embedDocuments(texts)).map((v) => Float32Array.from(v));
    const out: Float32Array[] = [];
    for (const t of texts) out.push(Float32Array.from(await emb.embedQuery(t)));
    return out;
  }

  /** The match of one topic and one paper if it scores at least `threshold` (explained only then: it is rare). */
  private score(pt: PreparedTopic, pp: PreparedPaper, threshold: number): TopicMatch | undefined {
    const topic = pt.topic;
    if (topic.kind === 'keyword') {
      const needle = ` ${topic.stems.join(' ')} `;
      if (!pp.fields.some((f) => f.includes(needle))) return undefined;
      if (1 < threshold) return undefined;
      return { paper: pp.paper, score: 1, matched: [topic.phrase], reason: `matched "${topic.phrase}"` };
    }
    if (topic.kind === 'author') {
      const q = topic.tokens;
      const last = q[q.length - 1];
      const hit = pp.authors.find(
        (a) => a.tokens[a.tokens.length - 1] === last && q.every((t) => a.tokens.includes(t)),
      );
      if (!hit || 1 < threshold) return undefined;
      return { paper: pp.paper, score: 1, matched: [hit.name], reason: `author ${hit.name}` };
    }
    let coverage = 0;
    let best: Alternative | undefined;
    for (const alt of pt.alternatives) {
      if (alt.total <= 0) continue;
      let num = 0;
      for (const t of alt.terms) {
        const tf = pp.tf.get(t.stem);
        if (tf) num += t.weight * saturate(tf);
      }
      for (const p of alt.pairs) {
        const tf = pp.pairTf.get(p.key);
        if (tf) num += p.weight * saturate(tf);
      }
      const c = num / alt.total;
      if (c > coverage || !best) {
        coverage = Math.max(coverage, c);
        best = alt;
      }
    }
    const similarity = pt.vector && pp.title ? dot(pt.vector, pp.title) : 0;
    const profile = pt.profile && pp.centroid ? TopicProfiles.score(pt.profile, pp.centroid) : undefined;
    const score = coverage + SIMILARITY_WEIGHT * similarity + PROFILE_WEIGHT * (profile ?? PROFILE_NEUTRAL);
    if (score < threshold) return undefined;
    const matched = best ? explain(best, pp) : [];
    const parts = [`similarity ${similarity.toFixed(2)}`];
    if (profile !== undefined) parts.push(`profile ${profile.toFixed(2)}`);
    if (matched.length) parts.push(`matched ${matched.map((m) => `"${m}"`).join(', ')}`);
    return { paper: pp.paper, score, similarity, coverage, profile, matched, reason: parts.join(', ') };
  }
}

/** The topic's phrases found whole, else its words found prominently (title, summary, or repeatedly). */
function explain(alt: Alternative, pp: PreparedPaper): string[] {
  const out: string[] = [];
  for (const run of alt.runs) {
    if (run.pairKeys.length && run.pairKeys.every((k) => pp.pairTf.has(k))) {
      out.push(run.phrase);
      continue;
    }
    for (const t of run.terms) {
      if ((pp.tf.get(t.stem) ?? 0) >= SHOWN_TF && t.weight > 0 && !out.includes(t.word)) out.push(t.word);
    }
  }
  if (!out.length) {
    for (const t of alt.terms) if (pp.tf.has(t.stem) && t.weight > 0) out.push(t.word);
  }
  return out;
}
