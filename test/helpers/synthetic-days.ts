import type { Paper } from '../../src/types.ts';
/**
 * Synthetic Daily Papers data for tests: entries in the API's shapes (the 2024 one and the current one), a small
 * hand-written corpus with clearly separated topics (for ranking checks), and a seeded generator for large corpora.
 * All text here is made up for the tests; none of it is copied from real papers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface SynthPaper {
  id: string;
  title: string;
  abstract: string;
  upvotes?: number;
  comments?: number;
  authors?: string[];
  keywords?: string[];
  aiSummary?: string;
  githubRepo?: string;
  projectPage?: string;
}

/** An entry in the current API shape (2025+): `paper.submittedOnDailyAt`, `ai_*`, top-level `title`/`summary`. */
export function newEntry(p: SynthPaper, day: string): Record<string, unknown> {
  const paper: Record<string, unknown> = {
    id: p.id,
    authors: (p.authors ?? ['Ada Example', 'Bo Sample']).map((name, i) => ({
      _id: `a${i}-${p.id}`,
      name,
      hidden: false,
    })),
    publishedAt: `${prevDay(day)}T17:59:00.000Z`,
    submittedOnDailyAt: `${day}T00:00:00.000Z`,
    title: p.title,
    summary: p.abstract,
    upvotes: p.upvotes ?? 3,
    discussionId: `d-${p.id}`,
  };
  if (p.githubRepo) paper.githubRepo = p.githubRepo;
  if (p.projectPage) paper.projectPage = p.projectPage;
  if (p.aiSummary) paper.ai_summary = p.aiSummary;
  if (p.keywords) paper.ai_keywords = p.keywords;
  return {
    paper,
    // The top-level publishedAt is arXiv time minus the US-Eastern offset since 2025-03-11: a different day.
    publishedAt: `${prevDay(day)}T13:59:00.000Z`,
    title: p.title.replace(/\s+/g, ' ').trim(),
    summary: p.abstract,
    thumbnail: `https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/${p.id}.png`,
    numComments: p.comments ?? 0,
    isAuthorParticipating: false,
  };
}

/** An entry in the 2024 shape: no `submittedOnDailyAt`, no top-level `summary`, no `ai_*`. */
export function oldEntry(p: SynthPaper, publishedAt = '2024-06-19T09:30:00.000Z'): Record<string, unknown> {
  return {
    paper: {
      id: p.id,
      authors: (p.authors ?? ['Ada Example']).map((name, i) => ({ _id: `a${i}-${p.id}`, name, hidden: false })),
      publishedAt: '2024-06-18T17:59:00.000Z',
      title: p.title,
      summary: p.abstract,
      upvotes: p.upvotes ?? 7,
    },
    publishedAt,
    title: p.title.replace(/\s+/g, ' ').trim(),
    thumbnail: `https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/${p.id}.png`,
    mediaUrl: null,
    numComments: p.comments ?? 1,
    submittedBy: {
      avatarUrl: '/avatars/x.svg',
      fullname: 'Someone',
      name: 'someone',
      type: 'user',
      isPro: false,
      isHf: false,
      isMod: false,
    },
  };
}

function prevDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

/** Writes `{day: entries}` as `<dir>/<day>.json` files. */
export async function writeDays(dir: string, days: Record<string, unknown[]> | Map<string, unknown[]>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const list = days instanceof Map ? [...days] : Object.entries(days);
  for (const [day, entries] of list) await writeFile(path.join(dir, `${day}.json`), JSON.stringify(entries));
}

// ---------------------------------------------------------------------------------------------------------------
// A hand-written corpus: eight papers on eight clearly different topics.

export const TOPICS = {
  draft: {
    id: '2503.00101',
    title: 'Draft and Verify: Accelerating Autoregressive Text Generation with a Small Proposal Network',
    abstract:
      'Generating long answers with large language models is slow because every token needs a full forward pass ' +
      'of the big network. We let a tiny proposal network guess several upcoming tokens cheaply, and the large ' +
      'network then checks all of the guesses in a single parallel pass, keeping the longest accepted prefix. The ' +
      'output distribution is provably unchanged. On chat and summarization workloads the method cuts latency by ' +
      'a factor of two to three. We analyse how the acceptance rate depends on the size of the proposal network ' +
      'and on the sampling temperature, and release an inference server that applies the technique to any ' +
      'decoder-only model.',
    keywords: ['speculative decoding', 'draft model', 'inference latency'],
  },
  protein: {
    id: '2503.00102',
    title: 'Folding Chains: Predicting Three-Dimensional Protein Structure from Amino Acid Sequences',
    abstract:
      'Proteins fold into shapes that determine their biological function. We train a geometric network that reads ' +
      'an amino acid sequence together with an alignment of related sequences from evolution and outputs the ' +
      'coordinates of every backbone atom. Pairwise residue distances are refined over several rounds. On a ' +
      'benchmark of newly solved crystal structures the predictions reach near experimental accuracy for most ' +
      'single-domain proteins. We also study enzymes and antibodies, where flexible loops remain hard to place, ' +
      'and show that confidence scores flag unreliable regions.',
    keywords: ['protein folding', 'structural biology'],
  },
  grasp: {
    id: '2503.00103',
    title: 'Picking Up Anything: Learning Robotic Grasps for Cluttered Kitchen Shelves',
    abstract:
      'Household robots must pick up unfamiliar objects from cluttered shelves. We collect forty thousand grasp ' +
      'attempts with a two-finger gripper mounted on a mobile arm and learn a policy that maps depth camera images ' +
      'to gripper poses. Tactile feedback from the fingertips is used to detect slipping and to regrasp. In real ' +
      'kitchens the robot succeeds on ninety percent of previously unseen cups, bottles and fruit. Failures mostly ' +
      'come from transparent glass and very thin objects such as cutlery lying flat on a table.',
    keywords: ['robotic manipulation', 'grasping'],
  },
  weather: {
    id: '2503.00104',
    title: 'Global Medium-Range Weather Forecasting with Graph Networks on an Icosahedral Mesh',
    abstract:
      'Numerical weather prediction solves the equations of the atmosphere on supercomputers. We instead learn a ' +
      'forecaster from decades of reanalysis data. The planet is covered by an icosahedral mesh and a graph network ' +
      'passes messages between neighbouring cells to advance temperature, wind, humidity and pressure by six hours ' +
      'at a time. Ten-day forecasts run in under a minute on one accelerator and beat the operational physics ' +
      'model on most variables, including the tracks of tropical cyclones and extreme heat events.',
    keywords: ['weather forecasting', 'climate'],
  },
  music: {
    id: '2503.00105',
    title: 'Composing Piano Music with Long-Context Symbolic Sequence Models',
    abstract:
      'Writing convincing piano pieces requires melody, harmony and a structure that repeats and varies themes over ' +
      'minutes. We represent performances as sequences of note events with timing and velocity and train a ' +
      'sequence model with a context of thousands of events. Listeners preferred our compositions over earlier ' +
      'systems in blind tests, citing coherent chord progressions and recurring motifs. The model can also continue ' +
      'a melody hummed by a user or harmonize a given bass line.',
    keywords: ['music generation', 'symbolic music'],
  },
  tumor: {
    id: '2503.00106',
    title: 'Segmenting Brain Tumors in MRI Scans with Uncertainty-Aware Networks',
    abstract:
      'Radiologists outline tumors in magnetic resonance images by hand, which is slow and varies between readers. ' +
      'We train a volumetric segmentation network on scans from eleven hospitals and add a calibrated uncertainty ' +
      'map that shows where the outline may be wrong. The network matches expert agreement on the boundary of the ' +
      'enhancing tumor and the surrounding edema. Clinicians who reviewed the uncertainty maps corrected errors ' +
      'faster and trusted the automatic outlines more.',
    keywords: ['medical imaging', 'segmentation'],
  },
  speech: {
    id: '2503.00107',
    title: 'Speech Recognition for Low-Resource Languages with Self-Supervised Audio Pretraining',
    abstract:
      'Thousands of spoken languages have almost no transcribed recordings. We pretrain an audio encoder on ' +
      'untranscribed radio broadcasts in many languages and fine-tune it with one hour of labelled speech per ' +
      'language. Word error rates fall by half compared with training from scratch. We find that phonetically ' +
      'related languages help each other most, and we publish recordings and transcripts for twelve languages of ' +
      'West Africa that had no public speech corpus before.',
    keywords: ['automatic speech recognition', 'low-resource languages'],
  },
  code: {
    id: '2503.00108',
    title: 'Repository-Level Benchmarks for Program Synthesis Agents',
    abstract:
      'Coding assistants are usually tested on short standalone functions. We build a benchmark of real maintenance ' +
      'tasks taken from open source repositories, each with a failing unit test that the fix must make pass. Agents ' +
      'must navigate the files, read documentation, edit several modules and run the test suite. The strongest ' +
      'agents solve about a third of the tasks; most failures come from edits that break other tests. We release the ' +
      'tasks with containers so that results are reproducible.',
    keywords: ['code generation', 'software engineering agents'],
  },
} satisfies Record<string, SynthPaper>;

export type TopicKey = keyof typeof TOPICS;

/** A long made-up abstract (well over two chunks of about ninety words). */
export function longAbstract(topic: string, sentences = 14): string {
  const parts: string[] = [];
  for (let i = 0; i < sentences; i++) {
    parts.push(
      `Experiment ${i + 1} examines how ${topic} behaves when the budget grows by a factor of ${i + 2}, ` +
        `and the measurements in setting ${i + 1} show a steady gain over the previous configuration.`,
    );
  }
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------------------------------
// A seeded generator for large corpora (crash tests, CLI runs).

const SUBJECTS = [
  'graph neural networks',
  'diffusion models',
  'reinforcement learning agents',
  'vision transformers',
  'retrieval augmented generation',
  'mixture of experts layers',
  'sparse attention kernels',
  'protein language models',
  'speech enhancement systems',
  'autonomous driving planners',
  'recommendation engines',
  'tabular data models',
  'video generation pipelines',
  'robot navigation policies',
  'federated learning clients',
  'quantized language models',
];
const VERBS = [
  'improves',
  'stabilizes',
  'accelerates',
  'simplifies',
  'regularizes',
  'compresses',
  'calibrates',
  'scales',
];
const OBJECTS = [
  'training on noisy labels',
  'inference on mobile phones',
  'long context reasoning',
  'multilingual evaluation',
  'few-shot adaptation',
  'uncertainty estimation',
  'data curation at scale',
  'reward modelling',
  'tokenizer design',
  'memory efficient fine-tuning',
  'evaluation of hallucinations',
  'curriculum schedules',
];

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The weekdays from `since` on, `count` of them. */
export function weekdays(since: string, count: number): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${since}T00:00:00Z`); out.length < count; t += 86_400_000) {
    const d = new Date(t);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

/**
 * `days` weekdays from `since`, `perDay` papers each, with made-up titles and abstracts of `sentences` sentences
 * (about 20 words each). Ids are `25MM.NNNNN`-like, unique within a corpus (and across corpora with disjoint `first`).
 */
export function generateCorpus(opts: {
  since: string;
  days: number;
  perDay: number;
  sentences?: number;
  seed?: number;
  /** Number of the first paper (ids and titles derive from it); give corpora that must not overlap distinct ranges. */
  first?: number;
}): Map<string, Record<string, unknown>[]> {
  const rand = rng(opts.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out = new Map<string, Record<string, unknown>[]>();
  let n = opts.first ?? 0;
  for (const day of weekdays(opts.since, opts.days)) {
    const entries: Record<string, unknown>[] = [];
    for (let i = 0; i < opts.perDay; i++, n++) {
      const subject = pick(SUBJECTS);
      const object = pick(OBJECTS);
      const sentences: string[] = [];
      for (let s = 0; s < (opts.sentences ?? 8); s++) {
        sentences.push(
          `Our study of ${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} in benchmark ${s + 1} of paper ${n} ` +
            `and the variant ${pick(VERBS)} ${pick(OBJECTS)} with ${Math.floor(rand() * 90) + 10} percent less compute.`,
        );
      }
      const id = `25${String(1 + (n % 9)).padStart(2, '0')}.${String(10000 + n).padStart(5, '0')}`;
      entries.push(
        newEntry(
          {
            id,
            title: `How ${subject} ${pick(VERBS)} ${object}: study number ${n}`,
            abstract: sentences.join(' '),
            upvotes: Math.floor(rand() * 50),
            keywords: [subject, object],
          },
          day,
        ),
      );
    }
    out.set(day, entries);
  }
  return out;
}

/** Days of the hand-written topic papers: Monday 3 to Tuesday 11 March 2025 (the weekend between is empty). */
export const TOPIC_DAYS: Record<TopicKey, string> = {
  draft: '2025-03-03',
  protein: '2025-03-03',
  grasp: '2025-03-04',
  weather: '2025-03-05',
  music: '2025-03-06',
  tumor: '2025-03-07',
  speech: '2025-03-10',
  code: '2025-03-11',
};

/** A topic paper as a normalized `Paper` (what a store holds), for tests below the sources. */
export function topicPaper(key: TopicKey, date: string, extra: Partial<Paper> = {}): Paper {
  const t = TOPICS[key];
  return {
    id: t.id,
    date,
    title: t.title,
    abstract: t.abstract,
    authors: ['Ada Example'],
    upvotes: 1,
    comments: 0,
    aiKeywords: t.keywords,
    ...extra,
  };
}
