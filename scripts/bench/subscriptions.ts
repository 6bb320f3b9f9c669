/**
 * Subscription matching speed: 10,000 subscriptions (2,000 users x 5 topics, drawn from about a thousand
 * distinct topics: the 30 labelled topics, variations of them, keyword and author forms) against the busiest
 * real digest day of the corpus.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { App } from '../../src/app.ts';
import { TopicMatcher } from '../../src/subscriptions/matcher.ts';
import { TopicProfiles } from '../../src/subscriptions/profile.ts';
import { newPapersOf, planNotifications } from '../../src/subscriptions/plan.ts';
import { percentile } from '../eval/metrics.ts';
import { repoRoot } from '../shared-data.ts';
// The same seeded generator as the tests, so every run draws the same subscriptions.
import { rng } from '../../test/helpers/synthetic-days.ts';

const USERS = 2_000;

const PER_USER = 5;

/** About a thousand distinct topic strings, as people would write them. */
function topicPool(app: App): string[] {
  const labelled = JSON.parse(readFileSync(path.join(repoRoot, 'scripts/eval/topics.json'), 'utf8')) as {
    dev: { topics: { topic: string }[] };
  };
  const base = labelled.dev.topics.map((t) => t.topic);
  const pre = ['', 'efficient ', 'multimodal ', 'scalable ', 'robust ', 'open-source '];
  const post = ['', ' benchmarks', ' for robotics', ' with small models', ' in medicine', ' evaluation'];
  const pool: string[] = [];
  for (const b of base) for (const a of pre) for (const c of post) pool.push(`${a}${b}${c}`.slice(0, 100));
  for (const b of base) pool.push(`keyword:"${b.replace(/\s*\(.*\)/, '')}"`);
  // Author forms: names from the corpus, so some of them match.
  const authors = new Set<string>();
  for (const p of app.store.papersBetween({}, { limit: 400 }))
    for (const a of p.authors.slice(0, 1)) authors.add(a.replace(/"/g, ''));
  for (const a of [...authors].slice(0, 100)) pool.push(`author:"${a}"`);
  return pool;
}

export async function benchSubscriptions(app: App, line: (label: string, value: string) => void): Promise<void> {
  const day = app.db
    .prepare('SELECT date FROM papers GROUP BY date ORDER BY COUNT(*) DESC, date DESC LIMIT 1')
    .pluck()
    .get() as string;
  const papers = newPapersOf(app.store, day);
  const pool = topicPool(app);
  const rand = rng(7);
  const subs: { user: string; topic: string }[] = [];
  for (let u = 0; u < USERS; u++) {
    const mine = new Set<string>();
    while (mine.size < PER_USER) mine.add(pool[Math.floor(rand() * pool.length)]!);
    for (const topic of mine) subs.push({ user: `u${u}`, topic });
  }
  const topics = subs.map((s) => s.topic);
  const distinct = new Set(topics).size;
  const emb = await app.embeddings();

  const vectors = await app.vectors();
  let t = performance.now();
  TopicProfiles.build(app.store, vectors);
  line(
    'subscriptions: corpus statistics',
    `${(performance.now() - t).toFixed(0)} ms (${vectors.paperIds().length.toLocaleString('en-US')} papers)`,
  );

  // Cold: a fresh matcher reads the corpus statistics, then parses, weighs, profiles and embeds every distinct
  // topic; then the steady state (topics cached).
  const matcher = new TopicMatcher(app.store, emb, { vectors });
  t = performance.now();
  let results = await matcher.match(topics, papers);
  const cold = performance.now() - t;
  const warm: number[] = [];
  for (let i = 0; i < 10; i++) {
    t = performance.now();
    results = await matcher.match(topics, papers);
    warm.push(performance.now() - t);
  }
  const pairs = results.reduce((n, r) => n + r.matches.length, 0);
  line(
    `subscriptions: match ${subs.length.toLocaleString('en-US')} (${distinct} distinct) x ${papers.length} papers`,
    `cold ${cold.toFixed(0)} ms (corpus statistics, topic profiles and embeddings), warm p50 ${percentile(warm, 50).toFixed(0)} ms, max ${Math.max(...warm).toFixed(0)} ms; ${pairs} matches (${day})`,
  );

  // End to end: the same subscriptions stored in SQLite, planned into one entry per user.
  app.db.transaction(() => {
    const now = new Date().toISOString();
    const sub = app.db.prepare('INSERT INTO subscribers (user_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING');
    const ins = app.db.prepare(
      'INSERT INTO subscriptions (user_id, topic, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    for (const s of subs) {
      sub.run(s.user, now);
      ins.run(s.user, s.topic, now);
    }
  })();
  const plans: number[] = [];
  let entries = 0;
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    entries = (
      await planNotifications(
        { subscriptions: app.subscriptions, deliveries: app.deliveries, papers: app.store },
        matcher,
        day,
      )
    ).length;
    plans.push(performance.now() - t);
  }
  line(
    'subscriptions: planNotifications, same 10,000',
    `p50 ${percentile(plans, 50).toFixed(0)} ms (SQLite reads + matching + grouping; ${entries} users to notify)`,
  );
}
