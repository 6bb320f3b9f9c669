import { dayThemes } from '../src/highlights/build.ts';
import type { Paper } from '../src/types.ts';
import { describe, expect, it } from 'vitest';
import { completionOf, dueDays, firstPostAtOrAfter } from '../src/highlights/scheduler.ts';
import { openDatabase } from '../src/store/database.ts';
import { GuildSettingsStore, type GuildSettings } from '../src/store/guild-settings-store.ts';
import { HighlightsStore } from '../src/store/highlights-store.ts';

const settings = (over: Partial<GuildSettings> = {}): GuildSettings => ({
  guildId: '100000000000000001',
  channelId: '200000000000000001',
  postTime: '09:00',
  timeZone: 'Europe/Paris',
  count: 5,
  enabled: true,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

const WEEKDAYS_MARCH = [
  '2026-03-23',
  '2026-03-24',
  '2026-03-25',
  '2026-03-26',
  '2026-03-27',
  '2026-03-30',
  '2026-03-31',
];

describe('when highlights are due', () => {
  it('a day is complete at 02:30 UTC the next morning', () => {
    expect(completionOf('2026-03-27').toISOString()).toBe('2026-03-28T02:30:00.000Z');
  });

  it('posts at the local time across the spring DST change, in two time zones', () => {
    // Europe moves clocks forward on 2026-03-29, the US on 2026-03-08.
    const paris = settings();
    expect(firstPostAtOrAfter(paris, new Date('2026-03-27T03:00:00Z')).toISOString()).toBe('2026-03-27T08:00:00.000Z'); // CET
    expect(firstPostAtOrAfter(paris, new Date('2026-03-31T03:00:00Z')).toISOString()).toBe('2026-03-31T07:00:00.000Z'); // CEST
    const ny = settings({ timeZone: 'America/New_York', postTime: '08:30' });
    expect(firstPostAtOrAfter(ny, new Date('2026-03-06T03:00:00Z')).toISOString()).toBe('2026-03-06T13:30:00.000Z'); // EST
    expect(firstPostAtOrAfter(ny, new Date('2026-03-10T03:00:00Z')).toISOString()).toBe('2026-03-10T12:30:00.000Z'); // EDT
  });

  it('posts at the local time across the autumn DST change too', () => {
    const paris = settings();
    expect(firstPostAtOrAfter(paris, new Date('2026-10-23T03:00:00Z')).toISOString()).toBe('2026-10-23T07:00:00.000Z'); // CEST
    expect(firstPostAtOrAfter(paris, new Date('2026-10-26T03:00:00Z')).toISOString()).toBe('2026-10-26T08:00:00.000Z'); // CET
  });

  it('each day is due once, at the first post time after its list is complete; a weekend posts nothing', () => {
    const s = settings();
    // Friday 2026-03-27 09:00 Paris (08:00Z): Thursday's digest is due, Friday's is still filling.
    expect(dueDays(s, WEEKDAYS_MARCH, new Date('2026-03-27T08:00:00Z'), 7)).toEqual([
      '2026-03-23',
      '2026-03-24',
      '2026-03-25',
      '2026-03-26',
    ]);
    // A minute earlier, Thursday's is not due yet.
    expect(dueDays(s, WEEKDAYS_MARCH, new Date('2026-03-27T07:59:00Z'), 7)).not.toContain('2026-03-26');
    // Saturday and Sunday (after the DST jump): Friday's digest is due Saturday; Sunday adds nothing new.
    expect(dueDays(s, WEEKDAYS_MARCH, new Date('2026-03-28T08:00:00Z'), 3)).toContain('2026-03-27');
    const sunday = dueDays(s, WEEKDAYS_MARCH, new Date('2026-03-29T07:00:00Z'), 3);
    const saturday = dueDays(s, WEEKDAYS_MARCH, new Date('2026-03-28T08:00:00Z'), 3);
    expect(sunday.filter((d) => !saturday.includes(d))).toEqual([]);
  });

  it('catch-up is bounded, and days from before the server set highlights up are not posted', () => {
    const now = new Date('2026-03-31T07:00:00Z');
    // Down since Tuesday the 24th: only the last two due digest days are caught up on (the weekend has none).
    expect(dueDays(settings(), WEEKDAYS_MARCH, now, 2)).toEqual(['2026-03-27', '2026-03-30']);
    const fresh = settings({ createdAt: '2026-03-30T12:00:00.000Z' });
    expect(dueDays(fresh, WEEKDAYS_MARCH, now, 7)).toEqual(['2026-03-30']);
  });
});

describe('the post ledger', () => {
  it('exactly one claim per server and day; a crashed claim turns stale once, and is then resolved', () => {
    const store = new HighlightsStore(openDatabase(':memory:'));
    const t0 = new Date('2026-03-27T08:00:00Z');
    expect(store.claimPost('g1', '2026-03-26', 'c1', t0).kind).toBe('claimed');
    expect(store.claimPost('g1', '2026-03-26', 'c1', t0).kind).toBe('taken'); // an overlapping run
    expect(store.claimPost('g2', '2026-03-26', 'c2', t0).kind).toBe('claimed'); // another server
    const later = new Date(t0.getTime() + 11 * 60_000);
    const stale = store.claimPost('g1', '2026-03-26', 'c1', later);
    expect(stale.kind).toBe('stale');
    expect(store.claimPost('g1', '2026-03-26', 'c1', later).kind).toBe('taken'); // only one takes it over
    store.finishPost('g1', '2026-03-26', { messageId: '300000000000000001' }, later);
    expect(store.claimPost('g1', '2026-03-26', 'c1', new Date(later.getTime() + 3_600_000)).kind).toBe('taken');
    expect(store.post('g1', '2026-03-26')).toMatchObject({ status: 'sent', messageId: '300000000000000001' });
  });

  it('notices are delivered once', () => {
    const store = new HighlightsStore(openDatabase(':memory:'));
    const now = new Date();
    store.addNotice('g1', 'the channel is gone', now);
    expect(store.takeNotices('g1', now)).toEqual(['the channel is gone']);
    expect(store.takeNotices('g1', now)).toEqual([]);
  });

  it('turning highlights off and on again does not post the days missed meanwhile', () => {
    const store = new GuildSettingsStore(openDatabase(':memory:'));
    const base = { guildId: 'g1', channelId: 'c1', postTime: '09:00', timeZone: 'UTC', count: 5 };
    const first = store.setSettings(base, new Date('2026-03-01T00:00:00Z'));
    store.setSettings({ ...base, count: 3 }, new Date('2026-03-02T00:00:00Z'));
    expect(store.settings('g1')!.createdAt).toBe(first.createdAt); // a change keeps the history
    store.disable('g1', new Date('2026-03-03T00:00:00Z'));
    expect(store.enabledGuilds()).toEqual([]);
    const again = store.setSettings(base, new Date('2026-03-20T00:00:00Z'));
    expect(again.createdAt).toBe('2026-03-20T00:00:00.000Z');
  });
});

describe('dayThemes', () => {
  const paper = (id: string, title: string, aiKeywords?: string[]): Paper => ({
    id,
    date: '2025-11-03',
    title,
    abstract: 'An abstract.',
    authors: [],
    upvotes: 1,
    comments: 0,
    ...(aiKeywords ? { aiKeywords } : {}),
  });

  it('derives themes from the titles of papers HF gave no keywords', () => {
    const themes = dayThemes([
      paper('1', 'Scaling Video Generation: A Study of Diffusion Transformers'),
      paper('2', 'Faster Video Generation with Sparse Attention'),
      paper('3', 'Diffusion Transformers for Medical Images'),
      paper('4', 'A Benchmark for Web Agents'),
    ]);
    expect(themes).toEqual(expect.arrayContaining(['video generation', 'diffusion transformer']));
    expect(themes).not.toContain('a');
  });

  it('prefers HF keywords where a paper has them', () => {
    const themes = dayThemes([
      paper('1', 'Untitled One', ['speculative decoding']),
      paper('2', 'Untitled Two', ['speculative decoding', 'draft model']),
    ]);
    expect(themes).toEqual(['speculative decoding']);
  });
});
