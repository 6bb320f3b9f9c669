import { addDays } from '../dates.ts';
import type { Logger } from '../log.ts';
import { Cron } from 'croner';
import type { VectorIndex } from '../index/vector-index.ts';
import type { GuildSettings, GuildSettingsStore } from '../store/guild-settings-store.ts';
import type { HighlightsStore } from '../store/highlights-store.ts';
import type { PaperStore } from '../store/paper-store.ts';

import { buildHighlights, type Highlights } from './build.ts';

/** Where highlights go. The Discord implementation posts an embed to a channel. */
export interface HighlightsPoster {
  /** Post; resolves with the message id. Throws `PermanentPostError` when the channel is gone or forbidden. */
  send(channelId: string, highlights: Highlights): Promise<string>;
  /** The id of a post for `day` already in the channel, if any: how a claim left by a crash is resolved. */
  findPosted(channelId: string, day: string): Promise<string | undefined>;
}

/** The channel cannot take posts (deleted: 404, or the bot lost access: 403); retrying will not help. */
export class PermanentPostError extends Error {
  override name = 'PermanentPostError';
  constructor(
    readonly reason: 'gone' | 'forbidden',
    message: string,
  ) {
    super(message);
  }
}

export interface PostOutcome {
  guildId: string;
  day: string;
  outcome: 'sent' | 'recovered' | 'failed' | 'deferred';
  detail?: string;
}

/** A day's list keeps filling until about 02:30 UTC the next morning; after that it counts as complete. */
export function completionOf(day: string): Date {
  return new Date(`${addDays(day, 1)}T02:30:00Z`);
}

/** The first post time of a server at or after `instant` (croner handles the time zone and DST jumps). */
export function firstPostAtOrAfter(s: Pick<GuildSettings, 'postTime' | 'timeZone'>, instant: Date): Date {
  const [hh, mm] = s.postTime.split(':');
  const cron = new Cron(`${Number(mm)} ${Number(hh)} * * *`, { timezone: s.timeZone, paused: true });
  return cron.nextRun(new Date(instant.getTime() - 1))!;
}

/**
 * The digest days a server is due to have posted by `now`: each day with papers is due at the server's first
 * post time after the day's list is complete. Days due before the server set highlights up are not its to post,
 * and only the last `catchUpDays` due days count (a bot down for a month does not flood the channel).
 */
export function dueDays(s: GuildSettings, daysWithPapers: string[], now: Date, catchUpDays: number): string[] {
  const oldest = addDays(now.toISOString().slice(0, 10), -(catchUpDays * 3 + 7));
  const created = Date.parse(s.createdAt);
  const due = daysWithPapers.filter((day) => {
    if (day < oldest) return false;
    const complete = completionOf(day);
    if (complete > now) return false;
    const at = firstPostAtOrAfter(s, complete);
    return at <= now && at.getTime() >= created;
  });
  return due.slice(-catchUpDays);
}

export interface SchedulerDeps {
  highlights: HighlightsStore;
  settings: GuildSettingsStore;
  papers: PaperStore;
  vectors: () => Promise<VectorIndex>;
  poster: HighlightsPoster;
  now: () => Date;
  log: Logger;
  /** How many past days a server catches up on after downtime. */
  catchUpDays?: number;
}

/**
 * Posts each server's highlights exactly once per digest day. `tick()` is idempotent and cheap: call it at
 * every server's post time (croner), periodically as a safety net, and after each fetch; it posts whatever is
 * due and not yet in the ledger. Each (server, day) is claimed in SQLite before sending and finished after.
 */
export class HighlightsScheduler {
  private running?: Promise<PostOutcome[]>;

  constructor(private readonly deps: SchedulerDeps) {}

  /** Post what is due. Overlapping calls share one run (the ledger would keep them apart anyway). */
  /**
   * Posts what is due. `recover`: this process holds the data dir's lock and has just started, so a `sending`
   * claim was left by a process that died: it is resolved at once (found in the channel, or posted).
   */
  tick(opts: { recover?: boolean } = {}): Promise<PostOutcome[]> {
    this.running ??= this.run(opts).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(opts: { recover?: boolean }): Promise<PostOutcome[]> {
    const now = this.deps.now();
    const catchUp = this.deps.catchUpDays ?? 3;
    const since = addDays(now.toISOString().slice(0, 10), -(catchUp * 3 + 7));
    const days = this.deps.papers.daysWithPapers(since);
    const outcomes: PostOutcome[] = [];
    for (const s of this.deps.settings.enabledGuilds()) {
      // One server's failure, bad settings included (a time zone this runtime does not know), never stops the others.
      let due: string[];
      try {
        due = dueDays(s, days, now, catchUp);
      } catch (err) {
        this.deps.log.warn('highlights.bad_settings', {
          guild: s.guildId,
          timeZone: s.timeZone,
          error: (err as Error).message,
        });
        continue;
      }
      for (const day of due) {
        const existing = this.deps.highlights.post(s.guildId, day);
        if (existing && existing.status !== 'sending') continue;
        try {
          const o = await this.postDay(s, day, opts.recover);
          if (o) outcomes.push(o);
        } catch (err) {
          this.deps.log.warn('highlights.error', { guild: s.guildId, day, error: (err as Error).message });
        }
      }
    }
    return outcomes;
  }

  /** Claim, send and record one server's post of one day. */
  async postDay(s: GuildSettings, day: string, recover = false): Promise<PostOutcome | undefined> {
    const { highlights: store, poster, log } = this.deps;
    const claim = store.claimPost(s.guildId, day, s.channelId, this.deps.now(), recover ? 0 : undefined);
    if (claim.kind === 'taken') return undefined;
    if (claim.kind === 'stale') {
      // A run died between claiming and finishing: the post may or may not have gone out. Look before sending.
      const found = await poster.findPosted(claim.record.channelId, day).catch(() => undefined);
      if (found) {
        store.finishPost(s.guildId, day, { messageId: found }, this.deps.now());
        log.info('highlights.recovered', { guild: s.guildId, day, message: found });
        return { guildId: s.guildId, day, outcome: 'recovered' };
      }
    }
    const h = buildHighlights(this.deps.papers, await this.deps.vectors(), day, s.count);
    try {
      const messageId = await poster.send(s.channelId, h);
      store.finishPost(s.guildId, day, { messageId }, this.deps.now());
      log.info('highlights.sent', { guild: s.guildId, day, channel: s.channelId, papers: h.papers.length });
      return { guildId: s.guildId, day, outcome: 'sent' };
    } catch (err) {
      if (err instanceof PermanentPostError) {
        const why = err.reason === 'gone' ? 'the channel no longer exists' : 'I am not allowed to post there any more';
        store.finishPost(s.guildId, day, { error: err.message }, this.deps.now());
        store.addNotice(
          s.guildId,
          `I could not post the highlights of ${day} in <#${s.channelId}>: ${why}. Pick a channel with \`/highlights set\`.`,
          this.deps.now(),
        );
        log.warn('highlights.failed', { guild: s.guildId, day, channel: s.channelId, reason: err.reason });
        return { guildId: s.guildId, day, outcome: 'failed', detail: err.reason };
      }
      // Anything else may or may not have reached Discord: the claim stays and turns stale, and the next run
      // looks for the post before sending again. Late is better than twice.
      log.warn('highlights.deferred', { guild: s.guildId, day, error: (err as Error).message });
      return { guildId: s.guildId, day, outcome: 'deferred', detail: (err as Error).message };
    }
  }
}
