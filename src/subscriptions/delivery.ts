/**
 * Delivering a digest day's subscription messages, whatever carries them (the Discord sender in
 * src/discord/subscription-sender.ts):
 *
 *   planNotifications -> for each user: claim (DeliveryLedger) -> send -> finish (the papers are recorded as told)
 *
 * Failures stay with their user: a DM refused is recorded with `markDmClosed` (no more DMs until the user runs a
 * command, who is then told why), an unavailable channel is recorded and told to the user, anything else is
 * recorded as failed for that day and logged.
 */
import pLimit from 'p-limit';
import type { Logger } from '../log.ts';
import type { DeliveryLedger } from '../store/delivery-ledger.ts';
import type { PaperStore } from '../store/paper-store.ts';
import type { SubscriptionStore } from '../store/subscription-store.ts';
import type { TopicMatcher } from './matcher.ts';
import { planNotifications, type PlannedNotification, type PlannedPaper } from './plan.ts';

/** Users served at once: a long rate limit on one user's channel does not hold up everyone else. */
const DEFAULT_CONCURRENCY = 4;

/** Carries one planned message to its user; throws a DeliveryError when it cannot. */
export interface SubscriptionSender {
  send(n: PlannedNotification): Promise<{ messageId: string; shown: PlannedPaper[] }>;
}

/** Why a message could not be delivered: its kind decides what is recorded and what the user is told. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    readonly kind: 'dm-closed' | 'channel-unavailable' | 'failed',
    message: string,
    readonly channelId?: string,
  ) {
    super(message);
  }
}

export interface DeliveryDeps {
  subscriptions: SubscriptionStore;
  deliveries: DeliveryLedger;
  papers: PaperStore;
  matcher: TopicMatcher;
  sender: SubscriptionSender;
  log: Logger;
  now?: () => Date;
}

export interface DeliveryReport {
  day: string;
  /** Users with new matching papers that day. */
  planned: number;
  sent: number;
  /** DMs refused (50007): recorded, the user is told on their next command. */
  dmClosed: number;
  failed: number;
  /** Already sent, failed or being sent by another run. */
  skipped: number;
}

/**
 * Tells every active subscriber about a digest day's new papers on their topics: one message per user, each paper
 * once per user ever, whatever the number of runs, re-ingests or restarts (the DeliveryLedger). Call it after the
 * day was ingested (with the app's corpus statistics reset); it never throws for one user's failure.
 */
export async function deliverDay(
  deps: DeliveryDeps,
  day: string,
  opts: { concurrency?: number } = {},
): Promise<DeliveryReport> {
  const { subscriptions: subs, deliveries, sender, log } = deps;
  const now = deps.now ?? (() => new Date());
  const plan = await planNotifications({ subscriptions: subs, deliveries, papers: deps.papers }, deps.matcher, day, {
    onInvalidTopic: (userId, topic, error) =>
      log.warn('subscriptions.invalid_topic', { user: userId, topic, error: error.message }),
  });
  const report: DeliveryReport = { day, planned: plan.length, sent: 0, dmClosed: 0, failed: 0, skipped: 0 };
  const limit = pLimit(opts.concurrency ?? DEFAULT_CONCURRENCY);

  const deliver = async (n: PlannedNotification): Promise<void> => {
    if (deliveries.claim(n.userId, day, now()) === 'taken') {
      report.skipped++;
      return;
    }
    try {
      const { messageId, shown } = await sender.send(n);
      deliveries.finish(n.userId, day, { status: 'sent', messageId, paperIds: shown.map((p) => p.paper.id) }, now());
      report.sent++;
      log.info('subscriptions.sent', { user: n.userId, day, target: n.target.kind, papers: shown.length });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      deliveries.finish(n.userId, day, { status: 'failed', error: message }, now());
      if (err instanceof DeliveryError && err.kind === 'dm-closed') {
        subs.markDmClosed(n.userId);
        report.dmClosed++;
        log.warn('subscriptions.dm_closed', { user: n.userId, day });
        return;
      }
      report.failed++;
      if (err instanceof DeliveryError && err.kind === 'channel-unavailable') {
        subs.addNotice(
          n.userId,
          `I could not post your topic matches of ${day} in <#${err.channelId}>: the channel is gone or I may not post there. ` +
            'Ask a server admin, or get them by DM with `/subscriptions delivery mode:dm`.',
        );
      }
      log.warn('subscriptions.failed', { user: n.userId, day, target: n.target.kind, error: message });
    }
  };

  await Promise.all(
    plan.map((n) =>
      limit(async () => {
        try {
          await deliver(n);
        } catch (err) {
          // The ledger itself failed (SQLite): this user is left out, the others go on.
          report.failed++;
          log.warn('subscriptions.failed', { user: n.userId, day, error: (err as Error).message });
        }
      }),
    ),
  );
  if (report.planned) log.info('subscriptions.done', { ...report });
  return report;
}
