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
  /**
   * The message of this notification if it already went out (a run that died after sending, before recording it),
   * found where it was sent; undefined when it was not sent. Throws a DeliveryError when it cannot tell.
   */
  find(n: PlannedNotification): Promise<{ messageId: string; shown: PlannedPaper[] } | undefined>;
}

/** Why a message could not be delivered: its kind decides what is recorded and what the user is told. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    /** `transient` (a 5xx, a timeout, unreachable): tried again later; the others are final for the day. */
    readonly kind: 'dm-closed' | 'channel-unavailable' | 'failed' | 'transient',
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
  /** Transient failures, to be tried again (with backoff) by a later run. */
  retrying: number;
  /** Sent by a run that died before recording it, found and recorded instead of sent again. */
  recovered: number;
  /** Already sent or failed, or waiting for a retry. */
  skipped: number;
  /** True when every message of the day is finished: the day is no longer pending. */
  done: boolean;
}

/**
 * Tells every active subscriber about a digest day's new papers on their topics: one message per user, each paper
 * once per user ever, whatever the number of runs, re-ingests, crashes or restarts (the DeliveryLedger). A claim
 * left by a run that died is resolved by looking for the message before sending again; with `recover` (the
 * first run of a process holding the data dir's lock) every `sending` claim is such a claim. The day is marked
 * done once no message of it is open. It never throws for one user's failure.
 */
export async function deliverDay(
  deps: DeliveryDeps,
  day: string,
  opts: { concurrency?: number; recover?: boolean } = {},
): Promise<DeliveryReport> {
  const { subscriptions: subs, deliveries, sender, log } = deps;
  const now = deps.now ?? (() => new Date());
  const plan = await planNotifications({ subscriptions: subs, deliveries, papers: deps.papers }, deps.matcher, day, {
    onInvalidTopic: (userId, topic, error) =>
      log.warn('subscriptions.invalid_topic', { user: userId, topic, error: error.message }),
  });
  const report: DeliveryReport = {
    day,
    planned: plan.length,
    sent: 0,
    dmClosed: 0,
    failed: 0,
    retrying: 0,
    recovered: 0,
    skipped: 0,
    done: false,
  };
  const limit = pLimit(opts.concurrency ?? DEFAULT_CONCURRENCY);
  const staleMs = opts.recover ? 0 : undefined;

  const deliver = async (n: PlannedNotification): Promise<void> => {
    const claim = deliveries.claim(n.userId, day, now(), staleMs);
    if (claim === 'taken') {
      report.skipped++;
      return;
    }
    try {
      const found = claim === 'stale' ? await sender.find(n) : undefined;
      const { messageId, shown } = found ?? (await sender.send(n));
      deliveries.finish(n.userId, day, { status: 'sent', messageId, paperIds: shown.map((p) => p.paper.id) }, now());
      if (found) {
        report.recovered++;
        log.info('subscriptions.recovered', { user: n.userId, day, message: messageId });
      } else {
        report.sent++;
        log.info('subscriptions.sent', { user: n.userId, day, target: n.target.kind, papers: shown.length });
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const kind = err instanceof DeliveryError ? err.kind : 'transient'; // unknown: better late than lost
      deliveries.finish(n.userId, day, { status: kind === 'transient' ? 'retry' : 'failed', error: message }, now());
      const d = deliveries.get(n.userId, day);
      if (d?.status === 'retry') {
        report.retrying++;
        log.warn('subscriptions.retry', {
          user: n.userId,
          day,
          attempt: d.attempts,
          next: d.nextAttemptAt,
          error: message,
        });
        return;
      }
      if (kind === 'dm-closed') {
        subs.markDmClosed(n.userId);
        report.dmClosed++;
        log.warn('subscriptions.dm_closed', { user: n.userId, day });
        return;
      }
      report.failed++;
      if (err instanceof DeliveryError && kind === 'channel-unavailable') {
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
          // The ledger itself failed (SQLite): this user is left out this time, the others go on; the day stays
          // pending while the claim is open.
          report.failed++;
          log.error('subscriptions.ledger_failed', { user: n.userId, day, error: (err as Error).message });
        }
      }),
    ),
  );
  deliveries.abandonUnplanned(
    day,
    plan.map((n) => n.userId),
    now(),
    staleMs,
  );
  if (deliveries.openOn(day) === 0) {
    deliveries.finishDay(day, now());
    report.done = true;
  }
  if (report.planned) log.info('subscriptions.done', { ...report });
  return report;
}

/**
 * Delivers every pending day, oldest first (serve runs it after each fetch and every few minutes, so retries and
 * days left by a crash are completed). One day's failure is logged and the others go on.
 */
export async function deliverPending(deps: DeliveryDeps, opts: { recover?: boolean } = {}): Promise<DeliveryReport[]> {
  const reports: DeliveryReport[] = [];
  for (const day of deps.deliveries.pendingDays()) {
    try {
      reports.push(await deliverDay(deps, day, opts));
    } catch (err) {
      deps.log.error('subscriptions.day_failed', { day, error: (err as Error).message });
    }
  }
  return reports;
}
