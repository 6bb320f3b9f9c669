/**
 * Daily highlights end to end: the scheduler posts through the real discord.js client to the Discord emulator,
 * driven by a controllable clock (no real waiting).
 */
import { pushTo } from '../helpers/log.ts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { discordHighlightsPoster, highlightsMarker } from '../../src/discord/highlights-post.ts';
import { HighlightsScheduler } from '../../src/highlights/scheduler.ts';
import { buildCorpus, haveModel, LATEST_DAY, SKIP_REASON, startHarness, type Harness } from './harness.ts';

describe.skipIf(!haveModel)(`daily highlights in Discord (${SKIP_REASON})`, () => {
  let corpus: Awaited<ReturnType<typeof buildCorpus>>;
  let h: Harness;
  let clock: Date;
  let log: { event: string; fields?: Record<string, unknown> }[];
  let scheduler: HighlightsScheduler;

  beforeAll(async () => {
    corpus = await buildCorpus();
  });
  afterAll(async () => corpus?.cleanup());

  const newScheduler = () =>
    new HighlightsScheduler({
      highlights: h.app.highlights,
      settings: h.app.guildSettings,
      papers: h.app.store,
      vectors: () => h.app.vectors(),
      poster: discordHighlightsPoster(h.bot.client),
      now: () => clock,
      log: pushTo(log),
      catchUpDays: 2,
    });

  beforeEach(async () => {
    h = await startHarness({ dataDir: corpus.dataDir });
    // Each test starts from an empty ledger and no settings.
    h.app.db.exec('DELETE FROM posts; DELETE FROM guild_settings; DELETE FROM admin_notices;');
    log = [];
    scheduler = newScheduler();
  });
  afterEach(async () => h?.close());

  const posts = (channelId: string) =>
    h.emu
      .getMessages(channelId)
      .filter((m) => m.embeds?.some((e) => e.footer?.text?.startsWith('HF Daily Papers highlights')));
  const setUp = (
    guildId: string,
    channelId: string,
    postTime: string,
    timeZone: string,
    count = 5,
    createdAt = '2025-03-01T00:00:00Z',
  ) => h.app.guildSettings.setSettings({ guildId, channelId, postTime, timeZone, count }, new Date(createdAt));

  it('a server whose stored settings went bad (an unknown time zone) is logged and skipped; the others still post', async () => {
    const a = h.emu.defaults;
    const guilds = [a.guildId, h.emu.addGuild({ name: 'B' }).id, h.emu.addGuild({ name: 'C' }).id];
    const channels = guilds.map((g) => h.emu.guildChannels(g).find((c) => c.type === 0)!.id as string);
    guilds.forEach((g, i) => setUp(g, channels[i]!, '09:00', 'UTC', 3, '2025-03-11T20:00:00Z'));
    // A row written by an older version, or by hand: no longer a zone this runtime knows.
    h.app.db.prepare(`UPDATE guild_settings SET time_zone = 'Mars/Olympus_Mons' WHERE guild_id = ?`).run(guilds[1]);
    clock = new Date('2025-03-12T09:00:00Z');
    await scheduler.tick();
    expect(posts(channels[0]!)).toHaveLength(1);
    expect(posts(channels[1]!)).toHaveLength(0);
    expect(posts(channels[2]!)).toHaveLength(1);
    expect(log).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        event: 'highlights.bad_settings',
        fields: expect.objectContaining({ guild: guilds[1] }),
      }),
    );
  });

  it('two servers with different settings each get the latest complete digest once, at their own local time', async () => {
    const a = h.emu.defaults;
    const other = h.emu.addGuild({ name: 'Other', channels: [] });
    const otherChannel = h.emu.addChannel(other.id, { name: 'papers' }) as { id: string };
    // Both set up on Tuesday evening (UTC).
    setUp(a.guildId, a.digestChannelId, '09:00', 'Europe/Paris', 3, '2025-03-11T20:00:00Z');
    setUp(other.id, otherChannel.id, '08:30', 'America/New_York', 5, '2025-03-11T20:00:00Z');

    // Wed 2025-03-12 07:59 UTC = 08:59 Paris: nothing yet.
    clock = new Date('2025-03-12T07:59:00Z');
    await scheduler.tick();
    expect(posts(a.digestChannelId)).toHaveLength(0);
    // 08:00 UTC = 09:00 Paris: Tuesday's (LATEST_DAY) list is complete, Paris is due; New York is not.
    clock = new Date('2025-03-12T08:00:00Z');
    await scheduler.tick();
    const paris = posts(a.digestChannelId);
    expect(paris.map((m) => m.embeds[0]!.footer!.text)).toEqual([
      expect.stringContaining(highlightsMarker(LATEST_DAY)),
    ]);
    expect(paris[0]!.embeds[0]!.description!.match(/^\*\*\d\.\*\*/gm)).toHaveLength(3);
    expect(posts(otherChannel.id)).toHaveLength(0);

    // 12:30 UTC = 08:30 New York (EDT since 2025-03-09).
    clock = new Date('2025-03-12T12:29:00Z');
    await scheduler.tick();
    expect(posts(otherChannel.id)).toHaveLength(0);
    clock = new Date('2025-03-12T12:30:00Z');
    await scheduler.tick();
    expect(posts(otherChannel.id)).toHaveLength(1);
    expect(posts(otherChannel.id)[0]!.embeds[0]!.description!.match(/^\*\*\d\.\*\*/gm)).toHaveLength(5);

    // Later ticks, and a second scheduler (an overlapping run, or a restart), post nothing more.
    const before = h.emu.requestsMatching({ method: 'POST', path: '/channels/:id/messages' }).length;
    clock = new Date('2025-03-12T18:00:00Z');
    await Promise.all([scheduler.tick(), newScheduler().tick()]);
    expect(h.emu.requestsMatching({ method: 'POST', path: '/channels/:id/messages' })).toHaveLength(before);
    // No pings possible, and nothing hit an unknown route.
    for (const r of h.emu.requestsMatching({ method: 'POST', path: '/channels/:id/messages' }))
      expect(r.body.allowed_mentions).toMatchObject({ parse: [] });
    expect(h.emu.unknownRoutes).toEqual([]);
  });

  it('after downtime, the missed days are posted once on start, bounded to the most recent ones', async () => {
    const a = h.emu.defaults;
    setUp(a.guildId, a.digestChannelId, '09:00', 'UTC', 5, '2025-03-01T00:00:00Z');
    // Down from Tuesday 2025-03-04 until Wednesday 2025-03-12: catch-up posts the last two due days only.
    clock = new Date('2025-03-12T10:00:00Z');
    await scheduler.tick();
    expect(posts(a.digestChannelId).map((m) => m.embeds[0]!.title)).toEqual([
      'Daily Papers highlights: 2025-03-10',
      `Daily Papers highlights: ${LATEST_DAY}`,
    ]);
    await scheduler.tick();
    expect(posts(a.digestChannelId)).toHaveLength(2);
  });

  it('a weekend posts nothing new; the embed carries titles, links, upvotes and themes', async () => {
    const a = h.emu.defaults;
    setUp(a.guildId, a.digestChannelId, '09:00', 'UTC', 5, '2025-03-08T00:00:00Z');
    // Saturday 2025-03-08: Friday's digest (03-07) is due. Sunday: nothing new (no Saturday digest).
    clock = new Date('2025-03-08T09:00:00Z');
    await scheduler.tick();
    expect(posts(a.digestChannelId)).toHaveLength(1);
    clock = new Date('2025-03-09T09:00:00Z');
    await scheduler.tick();
    expect(posts(a.digestChannelId)).toHaveLength(1);
    const embed = posts(a.digestChannelId)[0]!.embeds[0]!;
    expect(embed.title).toBe('Daily Papers highlights: 2025-03-07');
    expect(embed.description).toMatch(/\]\(https:\/\/huggingface\.co\/papers\/2503\.\d+\)/);
    expect(embed.description).toMatch(/▲ \d+/);
  });

  it('a restart in the middle of a post does not post twice', async () => {
    const a = h.emu.defaults;
    setUp(a.guildId, a.digestChannelId, '09:00', 'UTC', 5, '2025-03-12T00:00:00Z');
    clock = new Date('2025-03-12T09:00:00Z');
    // The crash: the post was claimed and sent, but the process died before recording it.
    expect(h.app.highlights.claimPost(a.guildId, LATEST_DAY, a.digestChannelId, clock).kind).toBe('claimed');
    const poster = discordHighlightsPoster(h.bot.client);
    const { buildHighlights } = await import('../../src/highlights/build.ts');
    await poster.send(a.digestChannelId, buildHighlights(h.app.store, await h.app.vectors(), LATEST_DAY, 5));
    expect(posts(a.digestChannelId)).toHaveLength(1);

    // Restarted right away: the claim is recent, so nothing is sent.
    await newScheduler().tick();
    expect(posts(a.digestChannelId)).toHaveLength(1);
    // Once the claim is stale, the post is looked up in the channel, found, and recorded: still one post.
    clock = new Date('2025-03-12T09:15:00Z');
    const outcomes = await newScheduler().tick();
    expect(outcomes).toEqual([expect.objectContaining({ day: LATEST_DAY, outcome: 'recovered' })]);
    expect(posts(a.digestChannelId)).toHaveLength(1);
    expect(h.app.highlights.post(a.guildId, LATEST_DAY)?.status).toBe('sent');

    // A crash before sending: the stale claim finds nothing, so the post goes out, once.
    h.app.db.exec('DELETE FROM posts;');
    h.emu.getMessages(a.digestChannelId).length = 0;
    expect(h.app.highlights.claimPost(a.guildId, LATEST_DAY, a.digestChannelId, clock).kind).toBe('claimed');
    clock = new Date('2025-03-12T09:30:00Z');
    await newScheduler().tick();
    await newScheduler().tick();
    expect(posts(a.digestChannelId)).toHaveLength(1);
  });

  it('a deleted channel is recorded, told to the admin, and does not stop other servers', async () => {
    const a = h.emu.defaults;
    const other = h.emu.addGuild({ name: 'Other', channels: [] });
    const otherChannel = h.emu.addChannel(other.id, { name: 'papers' }) as { id: string };
    setUp(a.guildId, a.digestChannelId, '09:00', 'UTC', 5, '2025-03-12T00:00:00Z');
    setUp(other.id, otherChannel.id, '09:00', 'UTC', 5, '2025-03-12T00:00:00Z');
    h.emu.deleteChannel(a.digestChannelId);
    clock = new Date('2025-03-12T09:00:00Z');
    const outcomes = await scheduler.tick();
    expect(outcomes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ guildId: a.guildId, outcome: 'failed', detail: 'gone' }),
        expect.objectContaining({ guildId: other.id, outcome: 'sent' }),
      ]),
    );
    expect(posts(otherChannel.id)).toHaveLength(1);
    // Not retried on the next tick.
    await scheduler.tick();
    expect(h.app.highlights.post(a.guildId, LATEST_DAY)?.status).toBe('failed');

    // The admin hears about it on their next /highlights command.
    const it = h.emu.interact(h.emu.chatInput('highlights', {}, { subcommand: 'show', user: h.emu.defaults.owner }));
    const cb = await it.callback();
    expect(cb.body.data.flags).toBe(64);
    expect(cb.body.data.content).toMatch(/could not post the highlights of 2025-03-11/);
    expect(cb.body.data.content).toMatch(/no longer exists/);
  });

  it('/highlights set validates the time zone and the time, and preview shows the highlights privately', async () => {
    const owner = h.emu.defaults.owner;
    const bad = h.emu.interact(
      h.emu.chatInput(
        'highlights',
        { channel: h.emu.defaults.digestChannelId, time: '09:00', timezone: 'Mars/Olympus' },
        { subcommand: 'set', user: owner },
      ),
    );
    expect((await bad.callback()).body.data.content).toMatch(/not a time zone I know.*Europe\/Paris/);
    const badTime = h.emu.interact(
      h.emu.chatInput(
        'highlights',
        { channel: h.emu.defaults.digestChannelId, time: '25:00', timezone: 'UTC' },
        { subcommand: 'set', user: owner },
      ),
    );
    expect((await badTime.callback()).body.data.content).toMatch(/not a time/);
    const ok = h.emu.interact(
      h.emu.chatInput(
        'highlights',
        { channel: h.emu.defaults.digestChannelId, time: '7:05', timezone: 'Asia/Tokyo', count: 3 },
        { subcommand: 'set', user: owner },
      ),
    );
    expect((await ok.callback()).body.data.content).toMatch(/top 3 papers in <#\d+> at 07:05 Asia\/Tokyo/);
    expect(h.app.guildSettings.settings(h.emu.defaults.guildId)).toMatchObject({
      postTime: '07:05',
      timeZone: 'Asia/Tokyo',
      count: 3,
    });
    const preview = h.emu.interact(h.emu.chatInput('highlights', {}, { subcommand: 'preview', user: owner }));
    const p = (await preview.callback()).body.data;
    expect(p.flags).toBe(64);
    expect(p.embeds[0].title).toBe(`Daily Papers highlights: ${LATEST_DAY}`);
  });
});
