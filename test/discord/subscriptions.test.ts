/**
 * Topic subscriptions end to end: the real discord.js client (built by createBot, as `serve` builds it) against the
 * Discord emulator. Users subscribe with slash commands; a new digest day (made-up papers written as a day file and
 * ingested with the app's ingester) is delivered with `deliverDay`, exactly as the schedule's `onDayComplete` does.
 * After every test: no unknown routes, no emulator errors, nothing that pings except the one mention of a
 * channel delivery, no handler errors.
 */
import { pushTo } from '../helpers/log.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIUser } from 'discord.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { embedLength, LIMITS } from '../../src/discord/split.ts';
import { discordSubscriptionSender, subscriptionEmbed } from '../../src/discord/subscription-sender.ts';
import { deliverDay, type DeliveryReport } from '../../src/subscriptions/delivery.ts';
import type { PlannedNotification } from '../../src/subscriptions/plan.ts';
import { readApiFile } from '../../src/sources/files.ts';
import { newEntry, writeDays, type SynthPaper } from '../helpers/synthetic-days.ts';
import { responses, type Json } from './emulator.ts';
import {
  baseEnv,
  buildCorpus,
  haveModel,
  HOSTILE,
  LATEST_DAY,
  messageBodies,
  SKIP_REASON,
  startHarness,
  type Harness,
} from './harness.ts';

// Made-up papers (none copied from real ones), in templates: each test gives them ids of its own.
const SPEC = (id: string, n = ''): SynthPaper => ({
  id,
  title: `Speculative Decoding with Tiny Draft Models for Faster Chat Inference${n}`,
  abstract:
    'Large language models generate one token per forward pass, which makes chat assistants slow. We study speculative ' +
    'decoding, where a tiny draft model proposes several tokens that the large model verifies in a single pass. We ' +
    'show how to train the draft model on the large model outputs, and how the acceptance rate depends on temperature. ' +
    'Latency falls by a factor of two while the output distribution is unchanged.',
  authors: ['Jane Doe', 'Ray Tester'],
  keywords: ['speculative decoding', 'draft model', 'inference latency'],
  upvotes: 20,
});
const WEATHER = (id: string, n = ''): SynthPaper => ({
  id,
  title: `Forecasting Monsoon Rainfall with Graph Network Weather Models${n}`,
  abstract:
    'Monsoon rainfall is hard to predict weeks ahead. We train a graph network on decades of reanalysis data to forecast ' +
    'precipitation, wind and humidity over South Asia. The weather forecasting model runs in seconds and beats the ' +
    'operational physics model on rainfall totals and on the onset date of the monsoon.',
  authors: ['Kim Rainer'],
  keywords: ['weather forecasting', 'precipitation'],
  upvotes: 8,
});
const TABLES = (id: string): SynthPaper => ({
  id,
  title: 'Sorting Spreadsheets: A Benchmark for Question Answering over Tables',
  abstract:
    'Spreadsheets hold much of the data people work with, yet question answering systems read them poorly. We collect ' +
    'ten thousand questions over real spreadsheets that need sorting, filtering and arithmetic, and evaluate table ' +
    'readers on them. Even the best system fails on most questions that need more than two operations.',
  authors: ['Jane Doe', 'Lee Grid'],
  keywords: ['table question answering', 'spreadsheets'],
  upvotes: 5,
});
const LIDAR = (id: string): SynthPaper => ({
  id,
  title: 'Compressing Lidar Point Clouds for Mobile Mapping',
  abstract:
    'Mapping vehicles record billions of lidar points a day. We compress point clouds with a learned octree codec that ' +
    'keeps the geometry needed for localization, at a tenth of the storage of earlier codecs.',
  authors: ['Sam Scanner'],
  keywords: ['point cloud compression', 'lidar'],
  upvotes: 3,
});

describe('the subscription message', () => {
  it('fits one embed however many papers matched: the best first, the rest counted', () => {
    const papers = Array.from({ length: 40 }, (_, k) => ({
      paper: {
        id: `2504.${String(10000 + k)}`,
        date: '2025-03-12',
        title: `A Very Long Made-Up Title Number ${k} `.repeat(8),
        abstract: 'x',
        authors: [],
        upvotes: k,
        comments: 0,
      },
      topics: Array.from({ length: 5 }, (_, t) => ({
        topic: `topic ${t} `.repeat(10).trim(),
        score: 1 - t / 10,
        why: 'it mentions "topic"',
        reason: 'similarity 0.50, matched "topic"',
      })),
    }));
    const n: PlannedNotification = { userId: '1', day: '2025-03-12', target: { kind: 'dm' }, papers };
    const { embed, shown } = subscriptionEmbed(n);
    expect(shown.length).toBeGreaterThan(3);
    expect(shown.length).toBeLessThan(40);
    expect(shown).toEqual(papers.slice(0, shown.length));
    expect(embed.description!.length).toBeLessThanOrEqual(LIMITS.description);
    expect(embedLength(embed)).toBeLessThanOrEqual(LIMITS.embedsTotal);
    expect(embed.description).toMatch(
      new RegExp(`…and ${40 - shown.length} more matching papers: \`/digest date:2025-03-12\` lists the whole day.$`),
    );
    expect(embed.description).toContain('↳ and 2 more of your topics');
  });
});

describe.skipIf(!haveModel)(`topic subscriptions in Discord (${SKIP_REASON})`, () => {
  let corpus: Awaited<ReturnType<typeof buildCorpus>>;
  let h: Harness;
  let daysDir: string;
  let log: { event: string; fields?: Record<string, unknown> }[];
  let nextDay = Date.parse('2025-03-12T00:00:00Z');
  let nextId = 30001;

  beforeAll(async () => {
    corpus = await buildCorpus();
    h = await startHarness({ dataDir: corpus.dataDir });
    daysDir = await mkdtemp(path.join(tmpdir(), 'subs-days-'));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await corpus?.cleanup();
    if (daysDir) await rm(daysDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    h.app.db.exec(
      'DELETE FROM notified; DELETE FROM deliveries; DELETE FROM subscriptions; DELETE FROM subscribers; DELETE FROM guild_settings;',
    );
    h.emu.clearIntercepts();
    log = [];
  });

  afterEach(async () => {
    await h.bot.router.idle();
    expect(h.emu.unknownRoutes).toEqual([]);
    expect(h.emu.internalErrors).toEqual([]);
    // Nothing pings, except a channel delivery, which mentions exactly its user.
    for (const { req, body } of messageBodies(h.emu)) {
      const am = body?.allowed_mentions;
      if (am?.users) {
        expect(am, `${req.method} ${req.path}`).toEqual({ users: [expect.any(String)] });
        expect(body.content).toMatch(new RegExp(`^<@${am.users[0]}> `));
      } else {
        expect(am, `${req.method} ${req.path}`).toMatchObject({ parse: [] });
      }
    }
    for (const list of h.emu.messages.values()) {
      for (const m of list) {
        expect(m.mention_everyone).toBe(false);
        expect(m.mention_roles).toEqual([]);
        expect(m.mentions.length).toBeLessThanOrEqual(1);
      }
    }
    expect(h.logs.filter((l) => l.event === 'handler_error' || l.event === 'after_command_failed')).toEqual([]);
  });

  // ---- helpers ------------------------------------------------------------------------------------------------

  const newUser = (name: string) => h.emu.addUser({ username: name });
  const id = () => `2504.${String(nextId++).padStart(5, '0')}`;

  /** Writes a new digest day of made-up papers and ingests it with the app's ingester; returns the day. */
  async function ingestDay(papers: SynthPaper[], day?: string): Promise<string> {
    if (!day) {
      day = new Date(nextDay).toISOString().slice(0, 10);
      nextDay += 86_400_000;
    }
    await writeDays(daysDir, { [day]: papers.map((p) => newEntry(p, day!)) });
    await (await h.app.ingester()).ingest([await readApiFile(path.join(daysDir, `${day}.json`))]);
    return day;
  }

  const deliver = async (day: string, app: App = h.app, now?: () => Date): Promise<DeliveryReport> => {
    return deliverDay(
      {
        subscriptions: app.subscriptions,
        deliveries: app.deliveries,
        papers: app.store,
        matcher: await app.topicMatcher(),
        sender: discordSubscriptionSender(h.bot.client),
        log: pushTo(log),
        ...(now ? { now } : {}),
      },
      day,
    );
  };

  /** Runs a slash command; returns the callback's message data and the interaction handle. */
  async function command(user: APIUser, name: string, options: Json = {}, ctx: Json = {}) {
    const it = h.emu.interact(h.emu.chatInput(name, options, { user, ...ctx }));
    const cb = await it.callback();
    return { it, data: cb.body.data as Json };
  }

  async function subscribe(user: APIUser, topic: string, mode?: string): Promise<Json> {
    const { data } = await command(user, 'subscribe', mode ? { topic, mode } : { topic });
    expect(data.flags).toBe(64);
    return data;
  }

  const dms = (user: APIUser) => h.emu.dmMessages(user.id);
  const dmPosts = (user: APIUser) => {
    const cid = h.emu.dmChannelOf(user.id);
    return cid ? h.emu.requestsMatching({ method: 'POST', path: `/channels/${cid}/messages` }) : [];
  };

  // ---- tests --------------------------------------------------------------------------------------------------

  it('/subscribe confirms privately and enforces the limits: duplicates, 100 characters, 25 topics', async () => {
    const alice = newUser('alice');
    const ok = await subscribe(alice, 'speculative decoding');
    expect(ok.content).toMatch(/^Subscribed to \*\*speculative decoding\*\* \(1\/25 topics\): papers about it/);
    expect(ok.content).toMatch(/by DM, in one message/);
    const author = await subscribe(alice, 'Jane Doe', 'author');
    expect(author.content).toMatch(
      /Subscribed to \*\*author:"Jane Doe"\*\* \(2\/25 topics\): papers with Jane Doe among the authors/,
    );

    expect((await subscribe(alice, 'Speculative   DECODING!')).content).toBe(
      'You already follow "speculative decoding".',
    );
    const long = `${'speculative decoding '.repeat(6).slice(0, 100)}z`;
    expect([...long.trim()].length).toBe(101);
    expect((await subscribe(alice, long)).content).toMatch(
      /A topic is at most 100 characters; this one has 101\. Shorten it\./,
    );
    expect((await subscribe(alice, 'title:"x"')).content).toMatch(/"title:" is not a topic form/);
    expect((await subscribe(alice, 'kw:"draft" model', 'author')).content).toMatch(
      /written as a keyword topic but mode is author/,
    );

    for (let n = 3; n <= 25; n++) h.app.subscriptions.subscribe(alice.id, `topic number ${n}`);
    const full = await subscribe(alice, 'one too many');
    expect(full.content).toMatch(/You follow 25 topics, the most allowed is 25\. Unsubscribe from one first\./);
    expect(h.app.subscriptions.list(alice.id)).toHaveLength(25);
    expect(
      h.app.subscriptions
        .list(alice.id)
        .slice(0, 2)
        .map((s) => s.topic),
    ).toEqual(['speculative decoding', 'author:"Jane Doe"']);

    // Markdown in a topic is shown inert.
    const bob = newUser('bob');
    expect((await subscribe(bob, '**bold** <@123456789012345678> agents')).content).toMatch(
      /^Subscribed to \*\*\\\*\\\*bold\\\*\\\* \\<@123456789012345678> agents\*\*/,
    );
  });

  it("/unsubscribe autocompletes only the user's own topics, and /subscriptions list shows them privately", async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    await subscribe(alice, 'speculative decoding');
    await subscribe(alice, 'weather forecasting');
    await subscribe(bob, 'protein folding');

    const choices = async (user: APIUser, typed: string) => {
      const it = h.emu.interact(h.emu.autocomplete('unsubscribe', 'topic', typed, { user }));
      return ((await it.callback()).body.data.choices as Json[]).map((c) => [c.name, c.value]);
    };
    expect(await choices(alice, '')).toEqual([
      ['speculative decoding', 'speculative decoding'],
      ['weather forecasting', 'weather forecasting'],
    ]);
    expect(await choices(alice, 'WEATH')).toEqual([['weather forecasting', 'weather forecasting']]);
    expect(await choices(bob, '')).toEqual([['protein folding', 'protein folding']]);
    expect(await choices(newUser('carol'), '')).toEqual([]);

    const list = (await command(alice, 'subscriptions', {}, { subcommand: 'list' })).data;
    expect(list.flags).toBe(64);
    expect(list.embeds[0].title).toBe('Your topics (2/25)');
    expect(list.embeds[0].description).toMatch(
      /\*\*1\.\*\* speculative decoding\n\*\*2\.\*\* weather forecasting\n\nActive: new papers by DM/,
    );

    const gone = (await command(alice, 'unsubscribe', { topic: 'Weather Forecasting' })).data;
    expect(gone).toMatchObject({
      flags: 64,
      content: 'Unsubscribed from **weather forecasting**. You follow 1 other topic (`/subscriptions list`).',
    });
    expect((await command(alice, 'unsubscribe', { topic: 'weather forecasting' })).data.content).toMatch(
      /You do not follow "weather forecasting"/,
    );
    expect((await command(bob, 'unsubscribe', { topic: 'speculative decoding' })).data.content).toMatch(
      /You do not follow/,
    );
    expect(h.app.subscriptions.list(alice.id).map((s) => s.topic)).toEqual(['speculative decoding']);
  });

  it('a new day sends exactly one DM per matching user, with the right papers and reasons; re-runs, re-ingests and restarts send nothing', async () => {
    const [alice, bob, carol] = [newUser('alice'), newUser('bob'), newUser('carol')];
    await subscribe(alice, 'speculative decoding');
    await subscribe(alice, 'Jane Doe', 'author');
    await subscribe(bob, 'weather forecasting');
    await subscribe(carol, 'protein folding');
    const [spec, weather, tables, lidar] = [SPEC(id()), WEATHER(id()), TABLES(id()), LIDAR(id())];
    const day = await ingestDay([spec, weather, tables, lidar]);

    const report = await deliver(day);
    expect(report).toEqual({
      day,
      planned: 2,
      sent: 2,
      dmClosed: 0,
      failed: 0,
      retrying: 0,
      recovered: 0,
      skipped: 0,
      done: true,
    });

    expect(dms(alice)).toHaveLength(1);
    const a = dms(alice)[0]!;
    expect(a.content).toBe(`2 new papers on your topics in the ${day} digest.`);
    const embed = a.embeds[0]!;
    expect(embed.title).toBe(`New papers on your topics: ${day}`);
    expect(embed.footer?.text).toContain(`topic subscriptions · ${day} · 2 papers`);
    const desc = embed.description!;
    // The best match first: the speculative decoding paper, with both of alice's topics and why.
    expect(desc).toMatch(
      new RegExp(
        `^\\*\\*1\\.\\*\\* \\[Speculative Decoding with Tiny Draft Models for Faster Chat Inference\\]\\(https://huggingface\\.co/papers/${spec.id.replace('.', '\\.')}\\)\n${day} · ▲ 20`,
      ),
    );
    // Why, in words: no internal scores.
    expect(desc).toMatch(/↳ matched your topic \*\*author:"Jane Doe"\*\*: by Jane Doe/);
    expect(desc).toMatch(/↳ matched your topic \*\*speculative decoding\*\*: it mentions "speculative decoding"/);
    expect(desc).not.toMatch(/similarity|profile \d/);
    expect(desc).toMatch(
      new RegExp(
        `\\*\\*2\\.\\*\\* \\[Sorting Spreadsheets: A Benchmark for Question Answering over Tables\\]\\(https://huggingface\\.co/papers/${tables.id.replace('.', '\\.')}\\)`,
      ),
    );
    expect(desc).not.toContain('Monsoon');
    expect(desc).not.toContain('Lidar');

    expect(dms(bob)).toHaveLength(1);
    expect(dms(bob)[0]!.embeds[0]!.description).toMatch(
      /^\*\*1\.\*\* \[Forecasting Monsoon Rainfall[^\n]*\n[^\n]*\n↳ matched your topic \*\*weather forecasting\*\*: it mentions "weather forecasting"$/,
    );
    expect(h.emu.dmChannelOf(carol.id)).toBeUndefined();

    // Recorded: the day is sent, the papers are told.
    expect(h.app.deliveries.get(alice.id, day)).toMatchObject({ status: 'sent', messageId: a.id });
    expect(h.app.deliveries.unnotified(alice.id, [spec.id, tables.id, weather.id])).toEqual([weather.id]);

    // Again, after a re-ingest of the day (with new counts), and from a restarted app: nothing more.
    expect(await deliver(day)).toMatchObject({ planned: 0, sent: 0 });
    await ingestDay([{ ...spec, upvotes: 99 }, weather, tables, lidar], day);
    expect(await deliver(day)).toMatchObject({ planned: 0, sent: 0 });
    const restarted = new App(loadConfig(baseEnv(), { dataDir: corpus.dataDir }));
    try {
      expect(await deliver(day, restarted)).toMatchObject({ planned: 0, sent: 0 });
    } finally {
      restarted.close();
    }
    // A paper listed again on a later day is not new there; a new one is: one more DM with only it.
    const spec2 = SPEC(id(), ': Part Two');
    const next = await ingestDay([spec, spec2]);
    expect(await deliver(next)).toMatchObject({ planned: 1, sent: 1 });
    expect(dms(alice)).toHaveLength(2);
    expect(dms(alice)[1]!.embeds[0]!.description).toContain('Part Two');
    expect(dms(alice)[1]!.embeds[0]!.description).not.toContain(spec.id);
    expect(dms(bob)).toHaveLength(1);
  });

  it('closed DMs are recorded and not retried; a DM failing with 500 for a while is retried and delivered once; the user with closed DMs is told on their next command', async () => {
    const [alice, bob, carol] = [newUser('alice'), newUser('bob'), newUser('carol')];
    await subscribe(alice, 'weather forecasting');
    await subscribe(bob, 'weather forecasting');
    await subscribe(carol, 'weather forecasting');
    h.emu.refuseDms(alice.id);
    // carol's DMs fail with server errors, whatever discord.js's own retries, until Discord recovers.
    const outage = h.emu.intercept({
      method: 'POST',
      path: '/users/@me/channels',
      match: (r) => r.body?.recipient_id === carol.id,
      respond: responses.serverError(500),
      times: Infinity,
    });
    const day = await ingestDay([WEATHER(id())]);
    let clock = Date.now();
    const now = () => new Date(clock);

    const report = await deliver(day, h.app, now);
    expect(report).toEqual({
      day,
      planned: 3,
      sent: 1,
      dmClosed: 1,
      failed: 0,
      retrying: 1,
      recovered: 0,
      skipped: 0,
      done: false,
    });
    expect(dms(bob)).toHaveLength(1);
    expect(dms(alice)).toHaveLength(0);
    expect(dmPosts(alice).map((r) => [r.status, r.response])).toEqual([
      [403, { message: 'Cannot send messages to this user', code: 50007 }],
    ]);
    expect(h.app.subscriptions.subscriber(alice.id)!.dmClosedAt).not.toBeNull();
    expect(h.app.deliveries.get(alice.id, day)).toMatchObject({ status: 'failed' });
    expect(h.app.deliveries.get(carol.id, day)).toMatchObject({
      status: 'retry',
      attempts: 1,
      error: 'HTTPError 500: Internal Server Error',
    });
    expect(log.map((l) => l.event)).toEqual(
      expect.arrayContaining(['subscriptions.dm_closed', 'subscriptions.retry', 'subscriptions.sent']),
    );

    // Before her retry is due nothing is tried; when it is, it fails again and waits longer.
    expect(await deliver(day, h.app, now)).toMatchObject({ planned: 1, sent: 0, skipped: 1, done: false });
    clock += 61_000;
    expect(await deliver(day, h.app, now)).toMatchObject({ sent: 0, retrying: 1, done: false });
    expect(h.app.deliveries.get(carol.id, day)).toMatchObject({ status: 'retry', attempts: 2 });
    // Discord recovers: the next due attempt delivers her message, once, and the day is done.
    outage.remove();
    clock += 121_000;
    expect(await deliver(day, h.app, now)).toMatchObject({ sent: 1, retrying: 0, done: true });
    expect(dms(carol)).toHaveLength(1);
    expect(h.app.deliveries.get(carol.id, day)).toMatchObject({ status: 'sent' });
    expect(await deliver(day, h.app, now)).toMatchObject({ planned: 0, sent: 0, done: true });
    expect(dms(carol)).toHaveLength(1);

    // alice is not retried: not that day, and no DM is tried on the next day until she is back.
    const day2 = await ingestDay([WEATHER(id(), ' Again')]);
    expect(await deliver(day2)).toMatchObject({ planned: 2, sent: 2, failed: 0 }); // bob and carol
    expect(dmPosts(alice)).toHaveLength(1);

    // alice's next command (any command) answers, then tells her privately, once.
    const { it, data } = await command(alice, 'about');
    expect(data.flags).toBe(64);
    const notice = (await it.followup()).body;
    expect(notice.flags).toBe(64);
    expect(notice.content).toMatch(
      /I could not send you your topic matches: your DMs are closed to me\. Allow direct messages/,
    );
    expect(h.app.subscriptions.subscriber(alice.id)!.dmClosedAt).toBeNull(); // she is back: DMs are tried again
    const again = await command(alice, 'subscriptions', {}, { subcommand: 'list' });
    await h.bot.router.idle();
    expect(again.it.state.followups).toHaveLength(0);

    // She opened her DMs: the next day reaches her.
    h.emu.refuseDms(alice.id, false);
    const day3 = await ingestDay([WEATHER(id(), ' Third')]);
    expect(await deliver(day3)).toMatchObject({ sent: 3 }); // alice, bob and carol
    expect(dms(alice)).toHaveLength(1);
  });

  it('unsubscribing stops the notifications for that topic; pause stops them all until resume', async () => {
    const [alice, bob] = [newUser('alice'), newUser('bob')];
    await subscribe(alice, 'speculative decoding');
    await subscribe(alice, 'weather forecasting');
    await subscribe(bob, 'weather forecasting');
    await command(alice, 'unsubscribe', { topic: 'speculative decoding' });
    const day = await ingestDay([SPEC(id()), WEATHER(id())]);
    expect(await deliver(day)).toMatchObject({ planned: 2, sent: 2 });
    expect(dms(alice)).toHaveLength(1);
    expect(dms(alice)[0]!.embeds[0]!.description).not.toContain('Speculative');
    expect(dms(alice)[0]!.embeds[0]!.description).toContain('Monsoon');

    await command(alice, 'unsubscribe', { topic: 'weather forecasting' });
    const paused = await command(bob, 'subscriptions', {}, { subcommand: 'pause' });
    expect(paused.data).toMatchObject({
      flags: 64,
      content: expect.stringMatching(/^Paused: you get no messages until `\/subscriptions resume`/),
    });
    expect((await command(bob, 'subscriptions', {}, { subcommand: 'list' })).data.embeds[0].description).toMatch(
      /Paused: nothing is sent/,
    );
    const day2 = await ingestDay([SPEC(id(), ' II'), WEATHER(id(), ' II')]);
    expect(await deliver(day2)).toMatchObject({ planned: 0, sent: 0 });
    expect(dms(alice)).toHaveLength(1);
    expect(dms(bob)).toHaveLength(1);

    const resumed = await command(bob, 'subscriptions', {}, { subcommand: 'resume' });
    expect(resumed.data.content).toMatch(/^Resumed: new papers on your topics come by DM/);
    const day3 = await ingestDay([WEATHER(id(), ' III')]);
    expect(await deliver(day3)).toMatchObject({ planned: 1, sent: 1 });
    expect(dms(bob)).toHaveLength(2);
    expect(dms(bob)[1]!.embeds[0]!.description).toContain('Monsoon Rainfall with Graph Network Weather Models III');
    // The paused day's papers were never told, and are not new any more: they are not sent late.
    expect(dms(bob)[1]!.embeds[0]!.description).not.toMatch(/Models II\]/);
    expect((await command(newUser('dave'), 'subscriptions', {}, { subcommand: 'pause' })).data.content).toMatch(
      /You have no subscriptions yet/,
    );
  });

  it('channel delivery, where an admin allows it, posts in that channel mentioning only that user', async () => {
    const [alice, bob, carl] = [newUser('alice'), newUser('bob'), newUser('carl')];
    const owner = h.emu.defaults.owner;
    const channelId = h.emu.defaults.digestChannelId;
    await subscribe(alice, 'weather forecasting');
    await subscribe(bob, 'weather forecasting');
    await subscribe(carl, 'weather forecasting');

    const refused = await command(alice, 'subscriptions', { mode: 'here' }, { subcommand: 'delivery' });
    expect(refused.data.content).toMatch(/This server does not allow subscription messages in a channel/);
    const allowed = await command(owner, 'highlights', { channel: channelId }, { subcommand: 'subscriptions-channel' });
    expect(allowed.data).toMatchObject({
      flags: 64,
      content: expect.stringContaining(`may now get their topic matches in <#${channelId}>`),
    });
    expect(h.app.guildSettings.settings(h.emu.defaults.guildId)?.enabled).toBe(false); // highlights stay off
    const here = await command(alice, 'subscriptions', { mode: 'here' }, { subcommand: 'delivery' });
    expect(here.data.content).toBe(
      `Your matches now come in <#${channelId}> with a mention of you. Back to DMs: \`/subscriptions delivery mode:dm\`.`,
    );

    await command(carl, 'subscriptions', { mode: 'here' }, { subcommand: 'delivery' });
    // carl then leaves the server: he is not mentioned there any more, he gets a DM.
    const guild = h.emu.guilds.get(h.emu.defaults.guildId)!;
    guild.members = guild.members.filter((m) => m.user.id !== carl.id);

    const day = await ingestDay([WEATHER(id())]);
    expect(await deliver(day)).toMatchObject({ planned: 3, sent: 3 });
    expect(dms(carl)).toHaveLength(1);
    const posted = h.emu.getMessages(channelId);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.content).toBe(`<@${alice.id}> 1 new paper on your topics in the ${day} digest.`);
    expect(posted[0]!.mentions.map((u) => u.id)).toEqual([alice.id]);
    const req = h.emu.requestsMatching({ method: 'POST', path: `/channels/${channelId}/messages` })[0]!;
    expect(req.body.allowed_mentions).toEqual({ users: [alice.id] });
    expect(posted[0]!.embeds[0]!.description).toContain('Monsoon');
    expect(dms(alice)).toHaveLength(0);
    expect(dms(bob)).toHaveLength(1);

    // The admin withdraws the channel: alice gets DMs again.
    const off = await command(owner, 'highlights', {}, { subcommand: 'subscriptions-channel' });
    expect(off.data.content).toMatch(/no longer posted in a channel here: members who chose it get them by DM again/);
    const day2 = await ingestDay([WEATHER(id(), ' Later')]);
    await deliver(day2);
    expect(h.emu.getMessages(channelId)).toHaveLength(1);
    expect(dms(alice)).toHaveLength(1);
  });

  it('a subscription channel that is gone is recorded as failed and told to the user; markup in papers stays inert', async () => {
    const [alice, bob] = [newUser('alice'), newUser('bob')];
    const guildId = h.emu.defaults.guildId;
    const channel = h.emu.addChannel(guildId, { name: 'subs' }) as { id: string };
    h.app.guildSettings.setSubscriptionChannel(guildId, channel.id);
    await subscribe(alice, 'weather forecasting');
    await command(alice, 'subscriptions', { mode: 'here' }, { subcommand: 'delivery' });
    // The made-up hostile paper of the corpus's latest day: mentions, markdown and <think> tags in its text.
    await subscribe(bob, 'abstract sanitization');
    h.emu.deleteChannel(channel.id);
    const day = await ingestDay([WEATHER(id())]);
    expect(await deliver(day)).toMatchObject({ planned: 1, sent: 0, failed: 1 });
    expect(h.app.deliveries.get(alice.id, day)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/channel or server unavailable \(10003\)/),
    });
    expect(dms(alice)).toHaveLength(0);
    const { it } = await command(alice, 'subscriptions', {}, { subcommand: 'list' });
    expect((await it.followup()).body.content).toMatch(
      new RegExp(`I could not post your topic matches of ${day} in <#${channel.id}>: the channel is gone`),
    );

    expect(await deliver(LATEST_DAY)).toMatchObject({ planned: 1, sent: 1 });
    const desc = dms(bob)[0]!.embeds[0]!.description!;
    expect(desc).toContain(`(https://huggingface.co/papers/${HOSTILE.id})`);
    expect(desc).toContain('[Pinging @\u200beveryone With \\*Markdown\\* (and \\<think> Tags) in Abstracts](');
    expect(desc).not.toMatch(/(^|[^\\])<think>/);
  });

  it('a rate-limited DM is waited out and arrives once', async () => {
    const alice = newUser('alice');
    await subscribe(alice, 'speculative decoding');
    const limited = h.emu.intercept({
      method: 'POST',
      path: '/channels/:id/messages',
      match: (r) => h.emu.channels.get(r.path.split('/')[2]!)?.type === 1,
      respond: responses.rateLimited(0.3),
      times: 1,
    });
    const day = await ingestDay([SPEC(id())]);
    const t0 = Date.now();
    expect(await deliver(day)).toMatchObject({ sent: 1, failed: 0 });
    expect(limited.hits).toBe(1);
    expect(dmPosts(alice).map((r) => r.status)).toEqual([429, 200]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(dms(alice)).toHaveLength(1);
  });
});
