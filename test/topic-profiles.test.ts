/**
 * Topic profiles (src/subscriptions/profile.ts) and their part in matching: learned from the corpus papers whose
 * title or HF keywords name the topic, they raise a paper on the topic that does not use its words and lower one
 * that uses them in passing.
 * Real SQLite (FTS5) and a real Vectra index in a temporary directory; hashed words stand in for the model.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VectorIndex } from '../src/index/vector-index.ts';
import { Ingester } from '../src/ingest/ingester.ts';
import { openDatabase, type Db } from '../src/store/database.ts';
import { PaperStore } from '../src/store/paper-store.ts';
import { TopicMatcher } from '../src/subscriptions/matcher.ts';
import { MIN_ANCHORS, TopicProfiles } from '../src/subscriptions/profile.ts';
import type { Paper } from '../src/types.ts';
import { HashEmbeddings } from './helpers/hash-embeddings.ts';
import { rng } from './helpers/synthetic-days.ts';

const DAY = '2025-03-03';
/** Subject vocabularies: papers of one subject share words, as real papers of a field do. */
const FIELDS: Record<string, string[]> = {
  rl: [
    'verifiable',
    'reward',
    'policy',
    'rollout',
    'grpo',
    'advantage',
    'reasoning',
    'optimization',
    'math',
    'correctness',
  ],
  weather: [
    'forecast',
    'radar',
    'precipitation',
    'climate',
    'atmosphere',
    'storm',
    'satellite',
    'temperature',
    'wind',
    'ensemble',
  ],
  vision: [
    'image',
    'pixel',
    'segmentation',
    'convolution',
    'detector',
    'camera',
    'scene',
    'depth',
    'object',
    'bounding',
  ],
  speech: [
    'audio',
    'speech',
    'phoneme',
    'speaker',
    'acoustic',
    'waveform',
    'transcription',
    'prosody',
    'vocoder',
    'utterance',
  ],
  graphs: ['graph', 'node', 'edge', 'message', 'molecule', 'neighbor', 'adjacency', 'spectral', 'pooling', 'citation'],
  robots: [
    'robot',
    'gripper',
    'manipulation',
    'trajectory',
    'tactile',
    'actuator',
    'locomotion',
    'grasp',
    'joint',
    'sim2real',
  ],
};
const COMMON = [
  'we',
  'propose',
  'a',
  'model',
  'method',
  'results',
  'show',
  'improves',
  'the',
  'benchmark',
  'data',
  'training',
];

function text(field: string, words: number, next: () => number): string {
  const vocab = FIELDS[field]!;
  return Array.from({ length: words }, (_, i) =>
    i % 3 === 2 ? COMMON[Math.floor(next() * COMMON.length)] : vocab[Math.floor(next() * vocab.length)],
  ).join(' ');
}

function paper(id: string, title: string, abstract: string, keywords: string[] = []): Paper {
  return { id, date: DAY, title, abstract, authors: ['Ada Example'], upvotes: 1, comments: 0, aiKeywords: keywords };
}

describe('topic profiles', () => {
  let dir: string;
  let db: Db;
  let store: PaperStore;
  let vectors: VectorIndex;
  const emb = new HashEmbeddings();
  const next = rng(42);
  // Six subjects x 20 papers, titled by their subject's words; RL papers never say "RLVR" except the anchors.
  const corpus: Paper[] = Object.keys(FIELDS).flatMap((field, f) =>
    Array.from({ length: 20 }, (_, i) =>
      paper(`25${f}.${String(i).padStart(5, '0')}`, `${text(field, 6, next)} study`, text(field, 60, next)),
    ),
  );
  const anchors = Array.from({ length: 8 }, (_, i) =>
    i % 2
      ? paper(`2509.${i}`, `RLVR with ${text('rl', 4, next)}`, text('rl', 60, next))
      : paper(`2509.${i}`, `On ${text('rl', 5, next)}`, text('rl', 60, next), ['RLVR', 'group relative training']),
  );
  const mentionsOnly = paper(
    '2509.100',
    `${text('weather', 5, next)} study`,
    `Unlike RLVR, ${text('weather', 60, next)}`,
  );
  const onTopic = paper('2509.200', 'Saturation-aware advantage reweighting', text('rl', 70, next));
  const offTopic = paper('2509.300', 'Nowcasting storms', text('weather', 70, next));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'profiles-'));
    db = openDatabase(':memory:');
    store = new PaperStore(db);
    vectors = await VectorIndex.open(path.join(dir, 'vectors'));
    await new Ingester(store, vectors, emb).ingest([
      { source: 'test', papers: [...corpus, ...anchors, mentionsOnly, onTopic, offTopic], skipped: [] },
    ]);
  });
  afterAll(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the papers about a topic by its phrases in titles and HF keywords only', () => {
    expect(store.papersAbout([[['rlvr']]]).sort()).toEqual(anchors.map((p) => p.id).sort()); // not the abstract mention
    expect(store.papersAbout([[['group', 'relative', 'training']]]).sort()).toEqual([
      '2509.0',
      '2509.2',
      '2509.4',
      '2509.6',
    ]); // keywords
    expect(store.papersAbout([[['relative', 'group']]])).toEqual([]); // a phrase keeps its order
    expect(store.papersAbout([[['rlvr'], ['group', 'relative']]]).length).toBe(4); // phrases of one alternative: all
    expect(store.papersAbout([[['nowcasting']], [['rlvr']]]).length).toBe(9); // alternatives: any
    expect(store.papersAbout([[['a"b', 'OR', '*']], []])).toEqual([]); // user text is never FTS5 syntax
  });

  it('scores a paper on the topic high without its words, and others low', () => {
    const profiles = TopicProfiles.build(store, vectors)!;
    const profile = profiles.profile([[['rlvr']]])!;
    expect(profile.anchors).toBe(8);
    const on = TopicProfiles.score(profile, vectors.centroidOf(onTopic.id)!);
    const off = TopicProfiles.score(profile, vectors.centroidOf(offTopic.id)!);
    expect(on).toBeGreaterThan(0.6);
    expect(off).toBeLessThan(0.1);
    for (const p of corpus.filter((p) => p.id.startsWith('251')))
      expect(TopicProfiles.score(profile, vectors.centroidOf(p.id)!)).toBeLessThan(on);
    // Too few anchors to learn from: no profile.
    expect(store.papersAbout([[['group', 'relative', 'training']]]).length).toBe(MIN_ANCHORS - 1);
    expect(profiles.profile([[['group', 'relative', 'training']]])).toBeUndefined();
    expect(profiles.profile([[['nowcasting']]])).toBeUndefined();
  });

  it('has no profiles while the index has fewer papers than dimensions, or papers all alike', async () => {
    const small = await VectorIndex.open(path.join(dir, 'small'));
    const smallDb = openDatabase(':memory:');
    const smallStore = new PaperStore(smallDb);
    await new Ingester(smallStore, small, emb).ingest([{ source: 'test', papers: anchors, skipped: [] }]);
    expect(TopicProfiles.build(smallStore, small)).toBeUndefined();
    // Enough papers, but all the same vector: no spread to learn from, and no profile rather than NaN scores.
    const same = Array.from({ length: 80 }, (_, i) => paper(`2510.${i}`, 'RLVR again', 'the same words every time'));
    const sameIndex = await VectorIndex.open(path.join(dir, 'same'));
    const sameDb = openDatabase(':memory:');
    const sameStore = new PaperStore(sameDb);
    await new Ingester(sameStore, sameIndex, emb).ingest([{ source: 'test', papers: same, skipped: [] }]);
    expect(sameIndex.paperIds().length).toBe(80);
    expect(TopicProfiles.build(sameStore, sameIndex)).toBeUndefined();
    const [m] = await new TopicMatcher(sameStore, emb, { vectors: sameIndex }).match(['RLVR'], same.slice(0, 3));
    expect(m!.matches.every((x) => x.profile === undefined && Number.isFinite(x.score))).toBe(true);
    smallDb.close();
    sameDb.close();
  });

  it("moves matching scores toward papers like the topic's, and says why", async () => {
    const all = { threshold: -Infinity };
    const [withProfile] = await new TopicMatcher(store, emb, { vectors }).match(
      ['RLVR'],
      [onTopic, offTopic, mentionsOnly],
      all,
    );
    const [without] = await new TopicMatcher(store, emb).match(['RLVR'], [onTopic, offTopic, mentionsOnly], all);
    const scores = (r: typeof without) => Object.fromEntries(r!.matches.map((m) => [m.paper.id, m.score]));
    const [a, b] = [scores(withProfile), scores(without)];
    // Never names the topic, but reads like the papers that do: up. Names it in passing, reads like weather: down.
    expect(a[onTopic.id]!).toBeGreaterThan(b[onTopic.id]!);
    expect(a[mentionsOnly.id]!).toBeLessThan(b[mentionsOnly.id]!);
    const on = withProfile!.matches.find((m) => m.paper.id === onTopic.id)!;
    expect(on.coverage).toBe(0);
    expect(on.profile).toBeGreaterThan(0.6);
    expect(on.reason).toMatch(/^similarity -?\d\.\d\d, profile \d\.\d\d$/);
    expect(without!.matches.every((m) => m.profile === undefined && !m.reason.includes('profile'))).toBe(true);
    // The matched words stay the deciding evidence: the passing mention still outranks a paper without them.
    expect(withProfile!.matches[0]!.paper.id).toBe(mentionsOnly.id);
  });
});
