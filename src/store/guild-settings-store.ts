import { isTimeZone } from '../dates.ts';
import { UserFacingError } from '../errors.ts';
import { SqliteStore } from './sqlite-store.ts';

/** Settings that could never work (checked when written; the scheduler checks them again when it reads them). */
export class SettingsError extends UserFacingError {
  override name = 'SettingsError';
}

/** A server's highlights settings. */
export interface GuildSettings {
  guildId: string;
  channelId: string;
  /** `HH:MM`, local to `timeZone`. */
  postTime: string;
  timeZone: string;
  count: number;
  enabled: boolean;
  createdAt: string;
}

interface SettingsRow {
  guild_id: string;
  channel_id: string;
  post_time: string;
  time_zone: string;
  count: number;
  enabled: number;
  created_at: string;
}

const toSettings = (r: SettingsRow): GuildSettings => ({
  guildId: r.guild_id,
  channelId: r.channel_id,
  postTime: r.post_time,
  timeZone: r.time_zone,
  count: r.count,
  enabled: r.enabled === 1,
  createdAt: r.created_at,
});

/**
 * Per-server settings in SQLite (table `guild_settings`): the highlights channel, time, zone and count, and the
 * channel a server allows subscription messages in.
 */
export class GuildSettingsStore extends SqliteStore {
  /** Store a server's highlights settings; settings that could never post are refused (SettingsError). */
  setSettings(s: Omit<GuildSettings, 'createdAt' | 'enabled'>, now: Date): GuildSettings {
    if (!isTimeZone(s.timeZone))
      throw new SettingsError(`"${s.timeZone}" is not a time zone; use an IANA name such as Europe/Paris or UTC.`);
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(s.postTime))
      throw new SettingsError(`"${s.postTime}" is not a time of day as HH:MM.`);
    if (!Number.isInteger(s.count) || s.count < 1 || s.count > 10)
      throw new SettingsError(`${s.count} papers: a post shows 1 to 10.`);
    if (!s.channelId) throw new SettingsError('Highlights need a channel to post in.');
    const at = now.toISOString();
    this.stmt(
      `INSERT INTO guild_settings (guild_id, channel_id, post_time, time_zone, count, enabled, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT(guild_id) DO UPDATE SET channel_id = excluded.channel_id, post_time = excluded.post_time,
         time_zone = excluded.time_zone, count = excluded.count, enabled = 1, updated_at = excluded.updated_at,
         -- Turning highlights back on must not post the days missed while they were off.
         created_at = CASE WHEN guild_settings.enabled = 1 THEN guild_settings.created_at ELSE excluded.created_at END`,
    ).run(s.guildId, s.channelId, s.postTime, s.timeZone, s.count, at, at);
    return this.settings(s.guildId)!;
  }

  settings(guildId: string): GuildSettings | undefined {
    const r = this.stmt('SELECT * FROM guild_settings WHERE guild_id = ?').get(guildId) as SettingsRow | undefined;
    return r && toSettings(r);
  }

  enabledGuilds(): GuildSettings[] {
    return (this.stmt('SELECT * FROM guild_settings WHERE enabled = 1 ORDER BY guild_id').all() as SettingsRow[]).map(
      toSettings,
    );
  }

  disable(guildId: string, now: Date): boolean {
    return (
      this.stmt('UPDATE guild_settings SET enabled = 0, updated_at = ? WHERE guild_id = ? AND enabled = 1').run(
        now.toISOString(),
        guildId,
      ).changes > 0
    );
  }

  /**
   * A server admin allows subscription messages in `channelId` (with a mention of each user who chose it), or stops
   * that with null: those users then get DMs again. `guild_settings` also holds the highlights settings, whose
   * columns are NOT NULL: a server without highlights gets a row with highlights off.
   */
  setSubscriptionChannel(guildId: string, channelId: string | null, now: Date = new Date()): void {
    const at = now.toISOString();
    if (channelId === null) {
      this.stmt('UPDATE guild_settings SET subscription_channel_id = NULL, updated_at = ? WHERE guild_id = ?').run(
        at,
        guildId,
      );
      return;
    }
    this.stmt(
      `INSERT INTO guild_settings (guild_id, channel_id, post_time, time_zone, enabled, subscription_channel_id, created_at, updated_at)
       VALUES (?, '', '09:00', 'UTC', 0, ?, ?, ?)
       ON CONFLICT(guild_id) DO UPDATE SET subscription_channel_id = excluded.subscription_channel_id, updated_at = excluded.updated_at`,
    ).run(guildId, channelId, at, at);
  }

  /** The channel a server allows subscription messages in, if any. */
  subscriptionChannel(guildId: string): string | undefined {
    const r = this.stmt('SELECT subscription_channel_id AS c FROM guild_settings WHERE guild_id = ?').get(guildId) as
      | { c: string | null }
      | undefined;
    return r?.c ?? undefined;
  }
}
