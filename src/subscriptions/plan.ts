/**
 * Who gets which papers of a new digest day: for every active subscriber, the day's new papers that match any of
 * their topics, minus the papers they were already told about, one entry per user with each paper once. The
 * Discord side sends exactly this (one message per entry); `subscriptions match` prints it.
 */
import type { PaperStore } from '../store/paper-store.ts';
import type { DeliveryLedger } from '../store/delivery-ledger.ts';
import type { DeliveryTarget, SubscriptionStore } from '../store/subscription-store.ts';
import type { Paper } from '../types.ts';
import type { TopicMatch, TopicMatcher } from './matcher.ts';
import { TopicError, type Topic } from './topic.ts';

/** One topic a paper matched, with why. */
export interface TopicReason {
  /** The topic as the user wrote it. */
  topic: string;
  score: number;
  /** For people, in words: `mentions "a", "b"`, `close in meaning`, `by Jane Doe`. */
  why: string;
  /** The matcher's own line, with its scores (the CLI shows it; people in Discord get `why`). */
  reason: string;
}

export interface PlannedPaper {
  paper: Paper;
  /** Every topic of this user the paper matched, best first. */
  topics: TopicReason[];
}

export interface PlannedNotification {
  userId: string;
  /** The digest day: claim (userId, day) before sending. */
  day: string;
  target: DeliveryTarget;
  /** Best match first; each paper once. */
  papers: PlannedPaper[];
}

export interface PlanOptions {
  /** Plan for these users only (default: every active subscriber). */
  userIds?: readonly string[];
  /** Report stored topics that no longer parse (they are skipped). */
  onInvalidTopic?: (userId: string, topic: string, error: TopicError) => void;
}

/** The new papers of a digest day: those whose first day on the digest is `day`. */
export function newPapersOf(papers: PaperStore, day: string): Paper[] {
  return papers.papersBetween({ since: day, until: day });
}

/**
 * Plan one digest day's notifications. Re-running it is safe: papers recorded as notified (by
 * `finishDelivery(..., { status: 'sent' })`) are left out, so a re-ingested or re-planned day yields nothing new.
 */
export async function planNotifications(
  stores: { subscriptions: SubscriptionStore; deliveries: DeliveryLedger; papers: PaperStore },
  matcher: TopicMatcher,
  day: string,
  opts: PlanOptions = {},
): Promise<PlannedNotification[]> {
  const papers = newPapersOf(stores.papers, day);
  if (!papers.length) return [];
  const only = opts.userIds ? new Set(opts.userIds) : undefined;
  const subscribers = stores.subscriptions.activeSubscribers().filter((s) => !only || only.has(s.userId));
  if (!subscribers.length) return [];

  // Each distinct topic is parsed and matched once, however many users follow it.
  const topics = new Map<string, Topic>();
  const userTopics = subscribers.map((s) => {
    const parsed: Topic[] = [];
    for (const text of s.topics) {
      try {
        const t = matcher.parse(text);
        if (!topics.has(t.key)) topics.set(t.key, t);
        parsed.push(t);
      } catch (err) {
        if (!(err instanceof TopicError)) throw err;
        opts.onInvalidTopic?.(s.userId, text, err);
      }
    }
    return parsed;
  });
  const distinct = [...topics.values()];
  const results = await matcher.match(distinct, papers);
  const matchesByKey = new Map(results.map((r) => [r.topic.key, r.matches]));
  const told = stores.deliveries.notifiedAmong(papers.map((p) => p.id));

  const out: PlannedNotification[] = [];
  subscribers.forEach((s, i) => {
    const already = told.get(s.userId);
    const byPaper = new Map<string, PlannedPaper>();
    for (const t of userTopics[i]!) {
      for (const m of matchesByKey.get(t.key) ?? []) {
        if (already?.has(m.paper.id)) continue;
        let pp = byPaper.get(m.paper.id);
        if (!pp) byPaper.set(m.paper.id, (pp = { paper: m.paper, topics: [] }));
        // The user's own wording of the topic; a topic written twice differently is listed once.
        if (!pp.topics.some((x) => x.topic === t.text))
          pp.topics.push({ topic: t.text, score: m.score, why: inWords(m), reason: m.reason });
      }
    }
    if (!byPaper.size) return;
    const list = [...byPaper.values()];
    for (const pp of list) pp.topics.sort((a, b) => b.score - a.score);
    list.sort(
      (a, b) =>
        b.topics[0]!.score - a.topics[0]!.score ||
        b.paper.upvotes - a.paper.upvotes ||
        a.paper.id.localeCompare(b.paper.id),
    );
    out.push({ userId: s.userId, day, target: s.target, papers: list });
  });
  return out;
}

/** Why a paper matched, in words a subscriber reads (no scores). */
function inWords(m: TopicMatch): string {
  const confirmed = m.reason.endsWith('confirmed by the language model') ? ', confirmed by the language model' : '';
  if (m.reason.startsWith('author ')) return `by ${m.matched[0] ?? m.reason.slice(7)}`;
  if (m.matched.length) return `it mentions ${m.matched.map((w) => `"${w}"`).join(', ')}${confirmed}`;
  return `close in meaning to it${confirmed}`;
}
