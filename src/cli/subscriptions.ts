import { resolveDay } from '../dates.ts';
import type { App } from '../app.ts';
import { paperUrl } from '../sources/normalize.ts';
import { SubscriptionError } from '../store/subscription-store.ts';
import { newPapersOf, planNotifications, type PlannedNotification } from '../subscriptions/plan.ts';
import { parseTopic, TopicError } from '../subscriptions/topic.ts';

import { UsageError } from './ingest.ts';

export interface MatchCliOptions {
  date?: string;
  topic?: string;
  json?: boolean;
}

/** The JSON line printed per user by `subscriptions match --json`; a contract other tools rely on. */
export interface PlanJson {
  user: string;
  papers: { id: string; title: string; topic: string; reason: string }[];
}

/** The JSON line printed by `subscriptions match --topic T --json`. */
export interface TopicMatchJson {
  topic: string;
  date: string;
  papers: { id: string; title: string; score: number; reason: string }[];
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** A topic in running text: quoted, unless it carries its own quotes (`author:"Jane Doe"`). */
export const showTopic = (t: string): string => (/["\u201c\u201d]/.test(t) ? t : `"${t}"`);

/** One paper per entry; a paper several topics matched names the best and mentions the others in its reason. */
export function toPlanJson(n: PlannedNotification): PlanJson {
  return {
    user: n.userId,
    papers: n.papers.map((p) => {
      const [best, ...more] = p.topics;
      const also = more.length ? ` (also ${more.map((t) => showTopic(t.topic)).join(', ')})` : '';
      return { id: p.paper.id, title: p.paper.title, topic: best!.topic, reason: best!.reason + also };
    }),
  };
}

/** User-facing errors of topics and subscriptions become usage errors (exit 2, message only). */
function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TopicError || e instanceof SubscriptionError) throw new UsageError(e.message);
    throw e;
  }
}

function dayOf(app: App, date: string | undefined): string {
  const day = date ? resolveDay(date, '--date') : app.store.latestDay();
  if (!day) throw new UsageError('The index is empty: ingest some days first (npm run cli -- ingest ...).');
  return day;
}

/** `subscriptions match`: who would be notified of what for a digest day, or what one topic would match. */
export async function runSubscriptionsMatch(app: App, opts: MatchCliOptions, out: (s: string) => void): Promise<void> {
  const day = dayOf(app, opts.date);
  const matcher = await app.topicMatcher();
  if (opts.topic !== undefined) {
    const papers = newPapersOf(app.store, day);
    const topic = asUsage(() => parseTopic(opts.topic!));
    const [result] = await matcher.match([topic], papers);
    const matches = result!.matches;
    if (opts.json) {
      const json: TopicMatchJson = {
        topic: result!.topic.text,
        date: day,
        papers: matches.map((m) => ({ id: m.paper.id, title: m.paper.title, score: round(m.score), reason: m.reason })),
      };
      out(JSON.stringify(json));
    } else if (!papers.length) out(`No papers on ${day} (a weekend, or a day not ingested yet).`);
    else if (!matches.length)
      out(`${showTopic(result!.topic.text)} matches none of the ${papers.length} new papers of ${day}.`);
    else {
      const lines = [
        `${showTopic(result!.topic.text)} matches ${matches.length} of the ${papers.length} new papers of ${day}:`,
      ];
      matches.forEach((m, i) =>
        lines.push(
          `${String(i + 1).padStart(2)}. ${m.paper.title}`,
          `    ${m.reason}; score ${m.score.toFixed(3)}  ${paperUrl(m.paper)}`,
        ),
      );
      out(lines.join('\n'));
    }
    return;
  }
  const plan = await planNotifications(
    { subscriptions: app.subscriptions, deliveries: app.deliveries, papers: app.store },
    matcher,
    day,
    {
      onInvalidTopic: (user, topic, err) =>
        process.stderr.write(`warning: skipped topic "${topic}" of ${user}: ${err.message}\n`),
    },
  );
  if (opts.json) {
    for (const n of plan) out(JSON.stringify(toPlanJson(n)));
    return;
  }
  if (!plan.length) {
    out(
      `Nobody would be notified for ${day} (${newPapersOf(app.store, day).length} new papers, ${app.subscriptions.activeSubscribers().length} active subscribers).`,
    );
    return;
  }
  const lines: string[] = [];
  for (const n of plan) {
    const where = n.target.kind === 'dm' ? 'by DM' : `in channel ${n.target.channelId} of server ${n.target.guildId}`;
    lines.push(`${n.userId} (${where}): ${n.papers.length} paper${n.papers.length === 1 ? '' : 's'} of ${day}`);
    for (const p of n.papers) {
      lines.push(`  - ${p.paper.title}  ${paperUrl(p.paper)}`);
      for (const t of p.topics) lines.push(`      ${showTopic(t.topic)}: ${t.reason}`);
    }
  }
  out(lines.join('\n'));
}

/** `subscriptions add`: follow a topic for a user (admin and development use). */
export function runSubscriptionsAdd(app: App, opts: { user: string; topic: string }, out: (s: string) => void): void {
  const { subscription, count } = asUsage(() => app.subscriptions.subscribe(opts.user, opts.topic));
  out(`${opts.user} follows ${showTopic(subscription.topic)} (${count} of ${app.subscriptions.maxTopics} topics).`);
}

/** `subscriptions remove`: stop following a topic. */
export function runSubscriptionsRemove(
  app: App,
  opts: { user: string; topic: string },
  out: (s: string) => void,
): void {
  const removed = asUsage(() => app.subscriptions.unsubscribe(opts.user, opts.topic));
  out(`${opts.user} no longer follows ${showTopic(removed.topic)}.`);
}

/** `subscriptions list`: every subscription, or one user's, with their delivery settings. */
export function runSubscriptionsList(
  app: App,
  opts: { user?: string; json?: boolean },
  out: (s: string) => void,
): void {
  const subs = opts.user ? app.subscriptions.list(opts.user) : app.subscriptions.listAll();
  const users = [...new Set(subs.map((s) => s.userId))];
  if (opts.json) {
    for (const u of users) {
      const info = app.subscriptions.subscriber(u);
      out(
        JSON.stringify({
          user: u,
          paused: info?.paused ?? false,
          delivery: info?.delivery ?? 'dm',
          guild: info?.guildId ?? null,
          dmClosed: !!info?.dmClosedAt,
          topics: subs.filter((s) => s.userId === u).map((s) => s.topic),
        }),
      );
    }
    return;
  }
  if (!subs.length) {
    out(opts.user ? `${opts.user} follows no topics.` : 'No subscriptions.');
    return;
  }
  const lines: string[] = [];
  for (const u of users) {
    const info = app.subscriptions.subscriber(u);
    const flags = [
      info?.delivery === 'channel' ? `channel delivery in ${info.guildId}` : 'DM',
      info?.paused ? 'paused' : '',
      info?.dmClosedAt ? 'DMs closed' : '',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`${u} (${flags}):`);
    for (const s of subs.filter((x) => x.userId === u)) lines.push(`  ${s.topic}`);
  }
  out(lines.join('\n'));
}
