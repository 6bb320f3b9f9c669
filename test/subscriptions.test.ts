/**
 * Topic subscriptions: parsing and limits, the store (CRUD, delivery preferences, DM-closed notices, the
 * exactly-once delivery ledger, notified-once across re-runs, re-ingests and restarts), the matcher on made-up
 * papers (plain, keyword and author forms) and the per-user plan.
 *
 * Most tests use a small deterministic embedding (hashed words), so they run without ../shared; those that check
 * matching quality use the real static model and skip without it.
 */
import { staticDir, haveModel } from './helpers/shared.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../src/app.ts';
import { runSubscriptionsMatch, type PlanJson, type TopicMatchJson } from '../src/cli/subscriptions.ts';
import { loadConfig } from '../src/config.ts';
import { loadStaticEmbeddings } from '../src/embeddings/static.ts';
import { openDatabase, type Db } from '../src/store/database.ts';
import { PaperStore } from '../src/store/paper-store.ts';
import { MAX_TOPICS_PER_USER, SubscriptionError, SubscriptionStore } from '../src/store/subscription-store.ts';
import { MATCH_THRESHOLD, TopicMatcher } from '../src/subscriptions/matcher.ts';
import { planNotifications } from '../src/subscriptions/plan.ts';
import { stem } from '../src/stem.ts';
import { DeliveryLedger, RETRY_DELAYS_MS } from '../src/store/delivery-ledger.ts';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { GenerativeAnswerer } from '../src/answer/generative.ts';
import { conjuncts, MAX_TOPIC_LENGTH, parseTopic, TopicError, topicKey } from '../src/subscriptions/topic.ts';
import { HashEmbeddings } from './helpers/hash-embeddings.ts';
import { TOPICS, type TopicKey, topicPaper } from './helpers/synthetic-days.ts';

const paper = topicPaper;

// -------------------------------------------------------------------------------------------------------------
describe('parseTopic', () => {
  it('reads subjects joined by and/or/commas as alternatives, sharing their words as people mean them', () => {
    expect(conjuncts('speech and audio models')).toEqual(['speech models', 'audio models']);
    expect(conjuncts('jailbreak attacks and defenses')).toEqual(['jailbreak attacks', 'jailbreak defenses']);
    expect(conjuncts('uncertainty and calibration in LLMs')).toEqual(['uncertainty in LLMs', 'calibration in LLMs']);
    expect(conjuncts('tool use or function calling')).toEqual(['tool use', 'function calling']);
    expect(conjuncts('vision, language & audio models')).toEqual(['vision models', 'language models', 'audio models']);
    expect(conjuncts('agents for science and robots for manufacturing')).toEqual([
      'agents for science',
      'robots for manufacturing',
    ]);
    expect(conjuncts('text-to-image/video generation')).toEqual(['text-to-image generation', 'video generation']);
    expect(conjuncts('video generation')).toEqual(['video generation']);
    expect(conjuncts('reinforcement learning for LLM agents')).toEqual(['reinforcement learning for LLM agents']);
    const t = parseTopic('speech and audio models (TTS)');
    expect(t.kind === 'semantic' && t.alternatives.map((a) => a.flatMap((r) => r.words))).toEqual([
      ['speech', 'models'],
      ['audio', 'models'],
      ['tts'],
    ]);
  });

  it('parses plain words into runs of stemmed content words, with parenthesized aliases', () => {
    const t = parseTopic('  Long-term memory for  LLM agents ');
    expect(t.kind).toBe('semantic');
    if (t.kind !== 'semantic') return;
    expect(t.text).toBe('Long-term memory for LLM agents');
    expect(t.alternatives).toEqual([
      [
        { words: ['long', 'term', 'memory'], stems: ['long', 'term', 'memori'] },
        { words: ['llm', 'agents'], stems: ['llm', 'agent'] },
      ],
    ]);
    const rag = parseTopic('retrieval-augmented generation (RAG)');
    expect(rag.kind === 'semantic' && rag.alternatives.map((a) => a.flatMap((r) => r.words))).toEqual([
      ['retrieval', 'augmented', 'generation'],
      ['rag'],
    ]);
  });

  it('parses keyword and author forms, quoted or not, with typographic quotes', () => {
    expect(parseTopic('keyword:"Speculative Decoding"')).toMatchObject({
      kind: 'keyword',
      phrase: 'Speculative Decoding',
      key: 'keyword:speculative decoding',
      stems: ['specul', 'decod'],
    });
    expect(parseTopic('kw: “draft model”')).toMatchObject({ kind: 'keyword', phrase: 'draft model' });
    expect(parseTopic('KW:decoding')).toMatchObject({ kind: 'keyword', phrase: 'decoding' });
    expect(parseTopic('author:"Jane Doe"')).toMatchObject({
      kind: 'author',
      name: 'Jane Doe',
      key: 'author:jane doe',
      tokens: ['jane', 'doe'],
    });
    expect(parseTopic('Author: José  Pérez')).toMatchObject({
      kind: 'author',
      name: 'José Pérez',
      key: 'author:jose perez',
    });
    // A colon in plain words is not a form.
    expect(parseTopic('RL: reward hacking').kind).toBe('semantic');
  });

  it('normalizes for uniqueness: case, punctuation, spacing, accents and hyphens aside', () => {
    expect(topicKey('Speculative  Decoding!')).toBe(topicKey('speculative decoding'));
    expect(topicKey('Vision-Language models')).toBe(topicKey('vision language Models'));
    expect(topicKey('author:"José Pérez"')).toBe(topicKey('author: jose perez'));
    expect(topicKey('kw:"draft model"')).toBe(topicKey('keyword:"Draft Model"'));
    expect(topicKey('speculative decoding')).not.toBe(topicKey('kw:"speculative decoding"'));
    expect(topicKey('speculative decoding')).not.toBe(topicKey('decoding speculative'));
  });

  it('rejects bad topics with clear messages', () => {
    const msg = (s: string) => {
      try {
        parseTopic(s);
      } catch (e) {
        expect(e).toBeInstanceOf(TopicError);
        return (e as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(s)}`);
    };
    expect(msg('')).toMatch(/empty/);
    expect(msg(' \n\t ')).toMatch(/empty/);
    expect(msg('x'.repeat(MAX_TOPIC_LENGTH + 1))).toMatch(/at most 100 characters; this one has 101/);
    expect(() => parseTopic('a'.repeat(MAX_TOPIC_LENGTH))).not.toThrow();
    expect(msg('author:')).toMatch(/needs a name/);
    expect(msg('author:"Jane Doe')).toMatch(/Unbalanced quotes/);
    expect(msg('kw:""')).toMatch(/needs words/);
    expect(msg('title:"diffusion"')).toMatch(/"title:" is not a topic form/);
    expect(msg('mixture of experts (MoE')).toMatch(/Unbalanced parentheses/);
    expect(msg('"speculative decoding')).toMatch(/Unbalanced quotes/);
    expect(msg('the papers about')).toMatch(/no words to match on/);
  });

  it('stems like SQLite FTS5 porter', () => {
    expect(
      ['agents', 'agentic', 'generation', 'generative', 'caresses', 'ponies', 'relational', 'hopping'].map(stem),
    ).toEqual(['agent', 'agent', 'gener', 'gener', 'caress', 'poni', 'relat', 'hop']);
  });
});

// -------------------------------------------------------------------------------------------------------------
describe('SubscriptionStore', () => {
  let work: string;
  let dbFile: string;
  let db: Db;
  let subs: SubscriptionStore;
  let clock: number;
  const now = () => new Date(clock);

  beforeEach(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'subs-'));
    dbFile = path.join(work, 'digest.db');
    db = openDatabase(dbFile);
    clock = Date.parse('2025-03-03T08:00:00Z');
    subs = new SubscriptionStore(db, { now });
  });
  afterEach(async () => {
    if (db.open) db.close();
    await rm(work, { recursive: true, force: true });
  });

  const error = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error('did not throw');
  };

  it('subscribes, lists, and unsubscribes by the same topic in other words', () => {
    expect(subs.subscribe('u1', 'speculative decoding').count).toBe(1);
    expect(subs.subscribe('u1', '  author:"Jane   Doe" ').subscription.topic).toBe('author:"Jane Doe"');
    expect(subs.list('u1').map((s) => s.topic)).toEqual(['speculative decoding', 'author:"Jane Doe"']);
    expect(subs.subscriber('u1')).toMatchObject({
      userId: 'u1',
      paused: false,
      delivery: 'dm',
      guildId: null,
      dmClosedAt: null,
    });
    expect(subs.unsubscribe('u1', 'Speculative Decoding.').topic).toBe('speculative decoding');
    expect(subs.list('u1').map((s) => s.topic)).toEqual(['author:"Jane Doe"']);
    const e = error(() => subs.unsubscribe('u1', 'world models'));
    expect(e).toBeInstanceOf(SubscriptionError);
    expect((e as SubscriptionError).code).toBe('not-found');
    expect(e.message).toMatch(/You do not follow "world models"/);
  });

  it('rejects duplicates, invalid topics and more than 25 topics with clear errors', () => {
    subs.subscribe('u1', 'AI agents');
    const dup = error(() => subs.subscribe('u1', 'ai  AGENTS!')) as SubscriptionError;
    expect(dup.code).toBe('duplicate');
    expect(dup.message).toBe('You already follow "AI agents".');
    expect(error(() => subs.subscribe('u1', 'x'.repeat(101)))).toBeInstanceOf(TopicError);
    subs.subscribe('u2', 'AI agents'); // another user may follow the same topic
    for (let i = 1; i < MAX_TOPICS_PER_USER; i++) subs.subscribe('u1', `topic number ${i}`);
    expect(subs.list('u1')).toHaveLength(25);
    const full = error(() => subs.subscribe('u1', 'one too many')) as SubscriptionError;
    expect(full.code).toBe('limit');
    expect(full.message).toMatch(/You follow 25 topics, the most allowed is 25/);
    expect(subs.list('u1')).toHaveLength(25);
  });

  it('pauses and resumes; only active, reachable subscribers are planned for', () => {
    subs.subscribe('u1', 'world models');
    subs.subscribe('u2', 'image editing');
    subs.subscribe('u2', 'video understanding');
    expect(subs.activeSubscribers()).toEqual([
      { userId: 'u1', target: { kind: 'dm' }, topics: ['world models'] },
      { userId: 'u2', target: { kind: 'dm' }, topics: ['image editing', 'video understanding'] },
    ]);
    subs.setPaused('u1', true);
    expect(subs.activeSubscribers().map((s) => s.userId)).toEqual(['u2']);
    subs.setPaused('u1', false);
    expect(subs.activeSubscribers().map((s) => s.userId)).toEqual(['u1', 'u2']);
    expect((error(() => subs.setPaused('nobody', true)) as SubscriptionError).code).toBe('not-found');
  });

  it('delivers in a channel only where the server allows it, and falls back to DMs when it stops', () => {
    subs.subscribe('u1', 'world models');
    const refused = error(() => subs.setDelivery('u1', 'channel', 'g1')) as SubscriptionError;
    expect(refused.code).toBe('channel-not-allowed');
    db.prepare(
      `INSERT INTO guild_settings (guild_id, channel_id, post_time, time_zone, subscription_channel_id, created_at, updated_at)
       VALUES ('g1', 'c-highlights', '09:00', 'UTC', 'c-subs', 'x', 'x')`,
    ).run();
    subs.setDelivery('u1', 'channel', 'g1');
    expect(subs.subscriber('u1')).toMatchObject({ delivery: 'channel', guildId: 'g1' });
    expect(subs.activeSubscribers()[0]!.target).toEqual({ kind: 'channel', guildId: 'g1', channelId: 'c-subs' });
    // A channel delivery does not need DMs.
    subs.markDmClosed('u1');
    expect(subs.activeSubscribers()[0]!.target).toEqual({ kind: 'channel', guildId: 'g1', channelId: 'c-subs' });
    db.prepare(`UPDATE guild_settings SET subscription_channel_id = NULL WHERE guild_id = 'g1'`).run();
    expect(subs.activeSubscribers()).toEqual([]); // falls back to DMs, which are closed
    subs.clearDmClosed('u1');
    expect(subs.activeSubscribers()[0]!.target).toEqual({ kind: 'dm' });
    subs.setDelivery('u1', 'dm');
    expect(subs.subscriber('u1')).toMatchObject({ delivery: 'dm', guildId: null });
  });

  it('records closed DMs: no more DMs until the user is back, who is told once', () => {
    subs.subscribe('u1', 'world models');
    subs.markDmClosed('u1');
    expect(subs.subscriber('u1')!.dmClosedAt).toBe('2025-03-03T08:00:00.000Z');
    expect(subs.activeSubscribers()).toEqual([]);
    subs.addNotice('u1', 'Second notice.');
    const told = subs.checkIn('u1');
    expect(told).toMatch(/your DMs are closed to me/);
    expect(told).toMatch(/\nSecond notice\.$/);
    expect(subs.checkIn('u1')).toBeUndefined(); // once
    expect(subs.subscriber('u1')!.dmClosedAt).toBeNull();
    expect(subs.activeSubscribers().map((s) => s.userId)).toEqual(['u1']);
    subs.addNotice('u2', 'hello');
    expect(subs.takeNotice('u2')).toBe('hello');
    expect(subs.takeNotice('u2')).toBeUndefined();
  });

  it('claims a (user, day) delivery exactly once; a stale claim from a crash can be taken again', () => {
    const ledger = new DeliveryLedger(db);
    expect(ledger.claim('u1', '2025-03-03', now())).toBe('claimed');
    expect(ledger.claim('u1', '2025-03-03', now())).toBe('taken'); // in flight
    expect(ledger.claim('u2', '2025-03-03', now())).not.toBe('taken'); // another user
    expect(ledger.claim('u1', '2025-03-04', now())).not.toBe('taken'); // another day
    clock += 11 * 60_000; // the claim of a crashed run goes stale
    expect(ledger.claim('u1', '2025-03-03', now())).toBe('stale');
    expect(ledger.claim('u1', '2025-03-03', now())).toBe('taken');
    expect(ledger.finish('u1', '2025-03-03', { status: 'sent', messageId: 'm1', paperIds: ['p1', 'p2'] }, now())).toBe(
      true,
    );
    expect(ledger.get('u1', '2025-03-03')).toMatchObject({ status: 'sent', messageId: 'm1', error: null });
    expect(ledger.unnotified('u1', ['p1', 'p2', 'p3'])).toEqual(['p3']);
    clock += 24 * 3600_000;
    expect(ledger.claim('u1', '2025-03-03', now())).toBe('taken'); // sent is final
    expect(ledger.finish('u2', '2025-03-03', { status: 'failed', error: 'DiscordAPIError[50007]' }, now())).toBe(true);
    expect(ledger.unnotified('u2', ['p1'])).toEqual(['p1']); // a failed message told nobody anything
    expect(ledger.claim('u2', '2025-03-03', now())).toBe('taken'); // failed is final for the day
    expect(ledger.finish('u3', '2025-03-03', { status: 'failed', error: 'x' }, now())).toBe(false); // never claimed
  });

  it('retries a transient failure with backoff, then fails for good; a due retry is claimed again', () => {
    const ledger = new DeliveryLedger(db);
    expect(ledger.claim('u1', '2025-03-03', now())).toBe('claimed');
    for (const [k, wait] of RETRY_DELAYS_MS.entries()) {
      expect(ledger.finish('u1', '2025-03-03', { status: 'retry', error: 'HTTPError 503' }, now())).toBe(true);
      expect(ledger.get('u1', '2025-03-03')).toMatchObject({ status: 'retry', attempts: k + 1 });
      expect(ledger.claim('u1', '2025-03-03', now())).toBe('taken'); // not due yet
      clock += wait;
      expect(ledger.claim('u1', '2025-03-03', now())).toBe('claimed');
    }
    expect(ledger.finish('u1', '2025-03-03', { status: 'retry', error: 'HTTPError 503' }, now())).toBe(true);
    expect(ledger.get('u1', '2025-03-03')).toMatchObject({ status: 'failed', attempts: RETRY_DELAYS_MS.length + 1 });
    clock += 24 * 3600_000;
    expect(ledger.claim('u1', '2025-03-03', now())).toBe('taken');
  });

  it('queues days and keeps them pending while a message is open; a crashed claim is stale at once when recovering', () => {
    const ledger = new DeliveryLedger(db);
    ledger.queueDay('2025-03-03', now());
    ledger.queueDay('2025-03-04', now());
    expect(ledger.pendingDays()).toEqual(['2025-03-03', '2025-03-04']);
    expect(ledger.claim('u1', '2025-03-03', now())).toBe('claimed');
    expect(ledger.openOn('2025-03-03')).toBe(1);
    clock += 1000;
    expect(ledger.claim('u1', '2025-03-03', now())).toBe('taken'); // another run may be sending
    expect(ledger.claim('u1', '2025-03-03', now(), 0)).toBe('stale'); // the lock holder knows it is not
    expect(ledger.abandonUnplanned('2025-03-03', ['u1'], now(), 0)).toBe(0);
    expect(ledger.claim('u2', '2025-03-03', now())).toBe('claimed');
    clock += 1000;
    expect(ledger.abandonUnplanned('2025-03-03', ['u1'], now(), 0)).toBe(1); // u2 unsubscribed meanwhile
    ledger.finish('u1', '2025-03-03', { status: 'sent', messageId: 'm', paperIds: ['p'] }, now());
    expect(ledger.openOn('2025-03-03')).toBe(0);
    ledger.finishDay('2025-03-03', now());
    ledger.queueDay('2025-03-03', now()); // fetched again: stays done
    expect(ledger.pendingDays()).toEqual(['2025-03-04']);
  });

  it('keeps claims and notified papers across a restart', () => {
    let ledger = new DeliveryLedger(db);
    ledger.claim('u1', '2025-03-03', now());
    ledger.markNotified('u1', '2025-03-03', ['p1'], now());
    ledger.markNotified('u1', '2025-03-04', ['p1', 'p2'], now()); // p1 keeps its first day
    db.close();
    db = openDatabase(dbFile);
    ledger = new DeliveryLedger(db);
    expect(ledger.claim('u1', '2025-03-03', now())).toBe('taken');
    expect(ledger.unnotified('u1', ['p1', 'p2', 'p3'])).toEqual(['p3']);
    expect(db.prepare(`SELECT day FROM notified WHERE user_id = 'u1' AND paper_id = 'p1'`).pluck().get()).toBe(
      '2025-03-03',
    );
    expect(ledger.notifiedAmong(['p2', 'p3'])).toEqual(new Map([['u1', new Set(['p2'])]]));
  });
});

// -------------------------------------------------------------------------------------------------------------
describe('TopicMatcher and planNotifications (hashed-word embeddings)', () => {
  let db: Db;
  let papers: PaperStore;
  let subs: SubscriptionStore;
  let deliveries: DeliveryLedger;
  let matcher: TopicMatcher;
  const DAY1 = '2025-03-03';
  const DAY2 = '2025-03-04';

  beforeEach(() => {
    db = openDatabase(':memory:');
    papers = new PaperStore(db);
    subs = new SubscriptionStore(db);
    deliveries = new DeliveryLedger(db);
    papers.upsertPapers([
      paper('draft', DAY1, { authors: ['Jane Doe', 'Bo Sample'], upvotes: 10 }),
      paper('protein', DAY1, { authors: ['José Pérez'] }),
      paper('grasp', DAY1),
      paper('weather', DAY2),
      paper('code', DAY2, { authors: ['Jane A. Doe'] }),
    ]);
    matcher = new TopicMatcher(papers, new HashEmbeddings());
  });
  afterEach(() => db.close());

  it('matches keyword and author forms, with their reasons', async () => {
    const day1 = papers.papersBetween({ since: DAY1, until: DAY1 });
    const [kw, author, accents, none] = await matcher.match(
      ['kw:"Draft Model"', 'author:"Jane Doe"', 'author:"jose perez"', 'author:"Jane Smith"'],
      papers.papersBetween({}),
    );
    expect(kw!.matches.map((m) => [m.paper.id, m.reason])).toEqual([[TOPICS.draft.id, 'matched "Draft Model"']]);
    expect(author!.matches.map((m) => m.reason).sort()).toEqual(['author Jane A. Doe', 'author Jane Doe']);
    expect(accents!.matches.map((m) => m.reason)).toEqual(['author José Pérez']);
    expect(none!.matches).toEqual([]);
    // A phrase must be consecutive words: "tactile feedback" is in the grasp abstract, "feedback tactile" is not.
    const [yes, no] = await matcher.match(['kw:"tactile feedback"', 'kw:"feedback tactile"'], day1);
    expect(yes!.matches.map((m) => m.paper.id)).toEqual([TOPICS.grasp.id]);
    expect(no!.matches).toEqual([]);
  });

  it('matches plain topics by their words, in the order asked, each distinct topic once', async () => {
    const all = papers.papersBetween({});
    const res = await matcher.match(
      ['proposal network', 'weather forecasting', 'Proposal  Network!', 'quantum chemistry'],
      all,
    );
    expect(res.map((r) => r.matches.map((m) => m.paper.id))).toEqual([
      [TOPICS.draft.id],
      [TOPICS.weather.id],
      [TOPICS.draft.id],
      [],
    ]);
    expect(res[0]!.matches).toBe(res[2]!.matches); // same key: computed once
    const m = res[0]!.matches[0]!;
    expect(m.score).toBeGreaterThanOrEqual(MATCH_THRESHOLD);
    expect(m.reason).toMatch(/^similarity -?\d\.\d\d, matched "proposal network"$/);
    expect(m.coverage).toBeGreaterThan(0.5);
    await expect(matcher.match([''], all)).rejects.toBeInstanceOf(TopicError);
  });

  it('with a chat model, a pair just under the threshold is matched when the model says the paper is about the topic', async () => {
    const all = papers.papersBetween({});
    const topics = [
      'proposal network',
      'weather forecasting',
      'protein folding',
      'robot grasping',
      'code generation',
      'drafting tokens faster',
      'tactile robot hands',
    ];
    // Find pairs within 0.15 under the threshold: what the model is asked about.
    const near = (await matcher.match(topics, all, { threshold: MATCH_THRESHOLD - 0.15 })).flatMap((r, i) =>
      r.matches.filter((m) => m.score < MATCH_THRESHOLD).map((m) => ({ topic: topics[i]!, id: m.paper.id })),
    );
    expect(near.length).toBeGreaterThan(0);
    const ask = async (verdict: string) => {
      const model = new FakeListChatModel({ responses: [verdict] });
      const gen = new GenerativeAnswerer(model, 2000);
      const asked: string[] = [];
      const m = new TopicMatcher(papers, new HashEmbeddings(), {
        confirm: {
          check: (topic, p) => {
            asked.push(`${topic}|${p.id}`);
            return gen.isAbout(topic, p);
          },
          band: 0.15,
          max: 40,
        },
      });
      return { res: await m.match(topics, all), asked };
    };
    const yes = await ask('YES');
    expect(yes.asked.sort()).toEqual(near.map((n) => `${n.topic}|${n.id}`).sort());
    const confirmed = yes.res.flatMap((r) =>
      r.matches.filter((m) => m.reason.endsWith('confirmed by the language model')),
    );
    expect(confirmed).toHaveLength(near.length);
    const no = await ask('NO');
    expect(no.res.flatMap((r) => r.matches).filter((m) => m.score < MATCH_THRESHOLD)).toEqual([]);
    const plain = await matcher.match(topics, all);
    expect(no.res.map((r) => r.matches.map((m) => m.paper.id))).toEqual(
      plain.map((r) => r.matches.map((m) => m.paper.id)),
    );
  });

  it('plans one entry per user with each paper once, and never notifies a paper twice', async () => {
    subs.subscribe('alice', 'proposal network');
    subs.subscribe('alice', 'kw:"draft model"'); // the same paper again: listed once, with both topics
    subs.subscribe('alice', 'robotic grasping');
    subs.subscribe('bob', 'author:"Jane Doe"');
    subs.subscribe('carol', 'proposal network');
    subs.setPaused('carol', true);
    subs.subscribe('dave', 'proposal network');
    subs.markDmClosed('dave');
    subs.subscribe('erin', 'quantum chemistry'); // nothing matches: no entry

    const plan = await planNotifications({ subscriptions: subs, deliveries, papers }, matcher, DAY1);
    expect(plan.map((n) => n.userId)).toEqual(['alice', 'bob']);
    const alice = plan[0]!;
    expect(alice).toMatchObject({ day: DAY1, target: { kind: 'dm' } });
    expect(alice.papers.map((p) => p.paper.id).sort()).toEqual([TOPICS.draft.id, TOPICS.grasp.id].sort());
    const draft = alice.papers.find((p) => p.paper.id === TOPICS.draft.id)!;
    expect(draft.topics.map((t) => t.topic).sort()).toEqual(['kw:"draft model"', 'proposal network']);
    expect(draft.topics.find((t) => t.topic === 'kw:"draft model"')!.reason).toBe('matched "draft model"');
    expect(plan[1]!.papers.map((p) => [p.paper.id, p.topics[0]!.reason])).toEqual([
      [TOPICS.draft.id, 'author Jane Doe'],
    ]);

    // Send alice's message; bob's fails. Re-planning the day leaves alice out, and bob (not told) in.
    for (const n of plan) expect(deliveries.claim(n.userId, DAY1, new Date())).toBe('claimed');
    deliveries.finish(
      'alice',
      DAY1,
      { status: 'sent', messageId: 'm1', paperIds: alice.papers.map((p) => p.paper.id) },
      new Date(),
    );
    deliveries.finish('bob', DAY1, { status: 'failed', error: 'boom' }, new Date());
    const again = await planNotifications({ subscriptions: subs, deliveries, papers }, matcher, DAY1);
    expect(again.map((n) => n.userId)).toEqual(['bob']);
    expect(deliveries.claim('bob', DAY1, new Date())).toBe('taken'); // but the ledger will not send that day again

    // Re-ingesting the day (same papers, and one with new counts) brings nothing new for alice.
    papers.upsertPapers([
      paper('draft', DAY1, { authors: ['Jane Doe', 'Bo Sample'], upvotes: 99 }),
      paper('grasp', DAY1),
    ]);
    matcher.reset();
    expect(
      (await planNotifications({ subscriptions: subs, deliveries, papers }, matcher, DAY1)).map((n) => n.userId),
    ).toEqual(['bob']);
    // A paper seen again on a later day keeps its first day: it is not new on day 2.
    papers.upsertPapers([paper('draft', DAY2, { authors: ['Jane Doe', 'Bo Sample'] })]);
    const day2 = await planNotifications({ subscriptions: subs, deliveries, papers }, matcher, DAY2);
    expect(day2.map((n) => [n.userId, n.papers.map((p) => p.paper.id)])).toEqual([['bob', [TOPICS.code.id]]]);
    expect(await planNotifications({ subscriptions: subs, deliveries, papers }, matcher, '2025-03-09')).toEqual([]);
  });

  it('plans for a channel delivery with its target, and for chosen users only', async () => {
    db.prepare(
      `INSERT INTO guild_settings (guild_id, channel_id, post_time, time_zone, subscription_channel_id, created_at, updated_at)
       VALUES ('g1', 'c1', '09:00', 'UTC', 'c-subs', 'x', 'x')`,
    ).run();
    subs.subscribe('alice', 'weather forecasting');
    subs.setDelivery('alice', 'channel', 'g1');
    subs.subscribe('bob', 'weather forecasting');
    const plan = await planNotifications({ subscriptions: subs, deliveries, papers }, matcher, DAY2);
    expect(plan.map((n) => [n.userId, n.target])).toEqual([
      ['alice', { kind: 'channel', guildId: 'g1', channelId: 'c-subs' }],
      ['bob', { kind: 'dm' }],
    ]);
    expect(
      (await planNotifications({ subscriptions: subs, deliveries, papers }, matcher, DAY2, { userIds: ['bob'] })).map(
        (n) => n.userId,
      ),
    ).toEqual(['bob']);
  });

  it('skips a stored topic that no longer parses, and says so', async () => {
    subs.subscribe('alice', 'weather forecasting');
    db.prepare(`INSERT INTO subscriptions (user_id, topic, created_at) VALUES ('alice', 'author:', 'x')`).run();
    const bad: string[] = [];
    const plan = await planNotifications({ subscriptions: subs, deliveries, papers }, matcher, DAY2, {
      onInvalidTopic: (_u, t) => bad.push(t),
    });
    expect(bad).toEqual(['author:']);
    expect(plan.map((n) => n.userId)).toEqual(['alice']);
  });
});

// -------------------------------------------------------------------------------------------------------------
describe.skipIf(!haveModel)('matching with the static model (needs ../shared/models/potion-base-4M-int8)', () => {
  it('matches each made-up paper to its own topic and nothing else', async () => {
    const db = openDatabase(':memory:');
    const papers = new PaperStore(db);
    papers.upsertPapers((Object.keys(TOPICS) as TopicKey[]).map((k) => paper(k, '2025-03-03')));
    const emb = await loadStaticEmbeddings({
      provider: 'static',
      model: 'potion',
      modelDir: staticDir,
      cacheDir: tmpdir(),
      hfEndpoint: 'http://127.0.0.1:9',
    });
    const matcher = new TopicMatcher(papers, emb);
    const cases: [string, string[]][] = [
      ['speculative decoding', [TOPICS.draft.id]],
      ['protein structure prediction', [TOPICS.protein.id]],
      ['robotic grasping', [TOPICS.grasp.id]],
      ['weather forecasting', [TOPICS.weather.id]],
      ['music generation', [TOPICS.music.id]],
      ['medical image segmentation', [TOPICS.tumor.id]],
      ['speech recognition for low-resource languages', [TOPICS.speech.id]],
      ['AI agents', [TOPICS.code.id]],
      ['quantum chemistry', []],
      ['diffusion models', []],
    ];
    const res = await matcher.match(
      cases.map(([t]) => t),
      papers.papersBetween({}),
    );
    expect(res.map((r) => [r.topic.text, r.matches.map((m) => m.paper.id)])).toEqual(cases);
    const grasp = res[2]!.matches[0]!;
    expect(grasp.similarity).toBeGreaterThan(0.4);
    expect(grasp.reason).toMatch(/^similarity 0\.\d\d, matched "robotic grasping"$/);
    db.close();
  });

  it('subscriptions match --json prints one line per user, and --topic one line for the topic', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'subs-cli-'));
    const app = new App(
      loadConfig({ EMBEDDINGS_MODEL_DIR: staticDir, HF_ENDPOINT: 'http://127.0.0.1:9' }, { dataDir: dir }),
    );
    try {
      app.store.upsertPapers([
        paper('draft', '2025-03-03'),
        paper('grasp', '2025-03-03'),
        paper('weather', '2025-03-04'),
      ]);
      app.subscriptions.subscribe('111', 'speculative decoding');
      app.subscriptions.subscribe('111', 'robotic grasping');
      app.subscriptions.subscribe('222', 'weather forecasting');
      const lines: string[] = [];
      await runSubscriptionsMatch(app, { date: '2025-03-03', json: true }, (s) => lines.push(s));
      const json = lines.map((l) => JSON.parse(l) as PlanJson);
      expect(json.map((j) => j.user)).toEqual(['111']);
      expect(json[0]!.papers.map((p) => Object.keys(p))).toEqual([
        ['id', 'title', 'topic', 'reason'],
        ['id', 'title', 'topic', 'reason'],
      ]);
      expect(json[0]!.papers.map((p) => [p.id, p.topic]).sort()).toEqual([
        [TOPICS.draft.id, 'speculative decoding'],
        [TOPICS.grasp.id, 'robotic grasping'],
      ]);
      const one: string[] = [];
      await runSubscriptionsMatch(app, { date: '2025-03-04', topic: 'weather forecasting', json: true }, (s) =>
        one.push(s),
      );
      const t = JSON.parse(one[0]!) as TopicMatchJson;
      expect(t).toMatchObject({
        topic: 'weather forecasting',
        date: '2025-03-04',
        papers: [{ id: TOPICS.weather.id }],
      });
      expect(t.papers[0]!.reason).toMatch(/matched "weather forecasting"/);
    } finally {
      app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
