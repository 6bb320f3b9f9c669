/**
 * Drives the real, unmodified discord.js Client against the DiscordEmulator on 127.0.0.1.
 * One emulator + one client for the file; every test sets `handler` for the interactions it sends.
 */
import { once } from 'node:events';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  EmbedBuilder,
  Events,
  GatewayIntentBits,
  MessageFlags,
  ModalBuilder,
  SlashCommandBuilder,
  TextInputBuilder,
  TextInputStyle,
  type Interaction,
  type TextChannel,
} from 'discord.js';
import { DiscordEmulator, Permission, responses, type Json } from './emulator.ts';

const commandDefs = [
  new SlashCommandBuilder()
    .setName('ask')
    .setDescription('Ask a question about the digest')
    .addStringOption((o) => o.setName('question').setDescription('The question').setRequired(true)),
  new SlashCommandBuilder()
    .setName('subscribe')
    .setDescription('Subscribe to a topic')
    .addStringOption((o) => o.setName('topic').setDescription('Topic').setRequired(true).setAutocomplete(true)),
  new SlashCommandBuilder()
    .setName('digest')
    .setDescription('Browse the digest')
    .addSubcommand((s) => s.setName('today').setDescription("Today's digest"))
    .addSubcommand((s) =>
      s
        .setName('search')
        .setDescription('Search')
        .addStringOption((o) => o.setName('query').setDescription('Query').setRequired(true))
        .addIntegerOption((o) => o.setName('limit').setDescription('Max results').setMinValue(1).setMaxValue(10))
        .addBooleanOption((o) => o.setName('semantic').setDescription('Semantic search')),
    ),
].map((b) => b.toJSON());

let emu: DiscordEmulator;
let client: Client;
let handler: (i: Interaction) => Promise<void> = async () => undefined;
const handlerErrors: unknown[] = [];

async function until(cond: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  // 250 ms exercises heartbeats quickly; much lower risks zombie-resumes when the event loop stalls under load.
  emu = await DiscordEmulator.start({ heartbeatIntervalMs: 250 });
  client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: emu.apiBase, globalRequestsPerSecond: 1e6, timeout: 2000 },
  });
  client.on(Events.InteractionCreate, (i) => {
    handler(i).catch((err: unknown) => handlerErrors.push(err));
  });
  const ready = once(client, Events.ClientReady);
  await client.login(emu.token);
  await ready;
  await client.application!.commands.set(commandDefs);
});

afterAll(async () => {
  await client?.destroy();
  await emu?.close();
});

afterEach(() => {
  expect(emu.unknownRoutes).toEqual([]);
  expect(emu.internalErrors).toEqual([]);
  expect(handlerErrors).toEqual([]);
  handler = async () => undefined;
  emu.clearIntercepts();
});

describe('gateway and login', () => {
  it('logs in, reaches ready with the fixture guild cached, and heartbeats are ACKed', async () => {
    expect(client.user?.id).toBe(emu.botUser.id);
    expect(client.application?.id).toBe(emu.applicationId);
    const guild = client.guilds.cache.get(emu.defaults.guildId);
    expect(guild?.name).toBe('Test Guild');
    expect(guild?.channels.cache.get(emu.defaults.channelId)?.name).toBe('general');
    const gw = emu.requests.find((r) => r.path === '/gateway/bot');
    expect(gw?.headers.authorization).toBe(`Bot ${emu.token}`);
    expect(emu.identifyCount).toBe(1);
    expect(emu.gatewaySessions[0]?.identify.intents).toBe(GatewayIntentBits.Guilds);
    await emu.waitForGateway((f) => f.op === 1, 1500);
    await until(() => client.ws.ping >= 0, 1000, 'a measured ping');
  });

  it('rejects a bad token (REST 401 -> TokenInvalid; gateway IDENTIFY -> close 4004)', async () => {
    const bad = new Client({ intents: [], rest: { api: emu.apiBase, globalRequestsPerSecond: 1e6 } });
    await expect(bad.login('wrong-token')).rejects.toThrow(/token/i);
    await bad.destroy();
    const unauthorized = emu.requests.filter((r) => r.path === '/gateway/bot' && r.status === 401);
    expect(unauthorized).toHaveLength(1);

    const ws = new WebSocket(`${emu.gatewayUrl}?v=10&encoding=json`);
    const hello = await new Promise<Json>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    expect(hello.op).toBe(10);
    ws.send(JSON.stringify({ op: 2, d: { token: 'nope', intents: 1, properties: {} } }));
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(4004);
  });

  it('speaks zlib-stream when asked (one deflate context, Z_SYNC_FLUSH frames)', async () => {
    const ws = new WebSocket(`${emu.gatewayUrl}?v=10&encoding=json&compress=zlib-stream`);
    const inflate = zlib.createInflate();
    const frames: Json[] = [];
    inflate.on('data', (c: Buffer) => frames.push(JSON.parse(c.toString('utf8'))));
    ws.on('message', (d: Buffer) => {
      expect(d.subarray(-4).toString('hex')).toBe('0000ffff');
      inflate.write(d);
    });
    await until(() => frames.length === 1, 1000, 'HELLO');
    ws.send(JSON.stringify({ op: 1, d: null }));
    await until(() => frames.length === 2, 1000, 'heartbeat ACK');
    expect(frames.map((f) => f.op)).toEqual([10, 11]);
    ws.close(1000);
    await once(ws, 'close');
  });
});

describe('commands', () => {
  it('registers global and guild commands, keeping ids across re-registration', async () => {
    expect(emu.commands().map((c) => c.name)).toEqual(['ask', 'subscribe', 'digest']);
    const put = await emu.waitForRequest({ method: 'PUT', path: `/applications/${emu.applicationId}/commands` });
    expect(put.body[0]).toMatchObject({
      name: 'ask',
      type: 1,
      options: [{ type: 3, name: 'question', required: true }],
    });

    const askId = emu.commands()[0]!.id;
    const again = await client.application!.commands.set(commandDefs);
    expect(again.find((c) => c.name === 'ask')?.id).toBe(askId);

    const guildSet = await client.application!.commands.set([commandDefs[0]!], emu.defaults.guildId);
    expect(guildSet.first()?.guildId).toBe(emu.defaults.guildId);
    expect(emu.commands(emu.defaults.guildId).map((c) => c.name)).toEqual(['ask']);
    const fetched = await client.application!.commands.fetch({ guildId: emu.defaults.guildId });
    expect(fetched.size).toBe(1);
    await client.application!.commands.set([], emu.defaults.guildId);
  });

  it('answers an invalid definition with 400 {code: 50035} like Discord', async () => {
    const err = await client
      .application!.commands.set([{ name: 'Bad Name', description: 'x' }], emu.defaults.guildId)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect((err as DiscordAPIError).code).toBe(50035);
    expect((err as DiscordAPIError).message).toMatch(/0\.name\[APPLICATION_COMMAND_INVALID_NAME\]/);
  });

  it('builders refuse what a real Discord client could not send', () => {
    expect(() => emu.chatInput('ask', { nope: 'x' })).toThrow(/option 'nope' is not declared/);
    expect(() => emu.chatInput('ask', {})).toThrow(/required option\(s\) missing: question/);
    expect(() => emu.chatInput('digest', { query: 'x' })).toThrow(/pass ctx.subcommand/);
    expect(() => emu.chatInput('digest', { query: 'x', limit: 50 }, { subcommand: 'search' })).toThrow(/max_value 10/);
    expect(() => emu.autocomplete('ask', 'question', 'x')).toThrow(/autocomplete: true/);
  });
});

describe('interactions', () => {
  it('slash command: deferReply + editReply with an embed', async () => {
    handler = async (i) => {
      if (!i.isChatInputCommand() || i.commandName !== 'ask') return;
      await i.deferReply();
      const q = i.options.getString('question', true);
      await i.editReply({
        embeds: [
          new EmbedBuilder()
            .setTitle('Answer')
            .setDescription(`Speculative decoding [1] for: ${q}`)
            .setURL('https://huggingface.co/papers/2501.00001')
            .addFields({ name: '[1]', value: '[Paper](https://arxiv.org/abs/2501.00001)' }),
        ],
      });
    };
    const it = emu.interact(emu.chatInput('ask', { question: 'faster decoding?' }));
    const cb = await it.callback();
    expect(cb.status).toBe(204);
    expect(cb.query.with_response).toBe('false');
    expect(cb.body).toEqual({ type: 5, data: { flags: 0 } });
    expect(cb.headers.authorization).toBeUndefined();

    const edit = await it.editOriginal();
    expect(edit.status).toBe(200);
    expect(edit.body.embeds[0]).toMatchObject({
      title: 'Answer',
      description: 'Speculative decoding [1] for: faster decoding?',
      fields: [{ name: '[1]', value: '[Paper](https://arxiv.org/abs/2501.00001)' }],
    });
    const original = it.state.original!;
    expect(original.flags! & MessageFlags.Loading).toBe(0);
    expect(original.interaction_metadata?.user.id).toBe(emu.defaults.user.id);
    expect(emu.lastMessage(emu.defaults.channelId)?.id).toBe(original.id);
  });

  it('ephemeral reply carries flags 64 and stays out of the channel', async () => {
    handler = async (i) => {
      if (i.isChatInputCommand())
        await i.reply({ content: `Subscribed to **${i.options.getString('topic')}**`, flags: MessageFlags.Ephemeral });
    };
    const before = emu.getMessages(emu.defaults.channelId).length;
    const it = emu.interact(emu.chatInput('subscribe', { topic: 'rust' }));
    const cb = await it.callback();
    expect(cb.body).toMatchObject({ type: 4, data: { content: 'Subscribed to **rust**', flags: 64 } });
    expect(it.state.original!.flags! & 64).toBe(64);
    expect(emu.getMessages(emu.defaults.channelId)).toHaveLength(before);
  });

  it('autocomplete: respond with choices', async () => {
    handler = async (i) => {
      if (!i.isAutocomplete()) return;
      const typed = i.options.getFocused();
      const all = ['javascript', 'java', 'rust'];
      await i.respond(all.filter((t) => t.startsWith(typed)).map((t) => ({ name: t, value: t })));
    };
    const it = emu.interact(emu.autocomplete('subscribe', 'topic', 'ja'));
    const cb = await it.callback();
    expect(cb.body).toEqual({
      type: 8,
      data: {
        choices: [
          { name: 'javascript', value: 'javascript' },
          { name: 'java', value: 'java' },
        ],
      },
    });
    expect(it.state.choices).toHaveLength(2);
  });

  it('subcommands with integer/boolean options, followUp with a button, then a click that updates', async () => {
    let seen: Json = {};
    handler = async (i) => {
      if (i.isChatInputCommand() && i.commandName === 'digest') {
        seen = {
          sub: i.options.getSubcommand(),
          query: i.options.getString('query'),
          limit: i.options.getInteger('limit'),
          semantic: i.options.getBoolean('semantic'),
        };
        await i.reply({ content: 'Results' });
        await i.followUp({
          content: 'Want updates on this?',
          components: [
            new ActionRowBuilder<ButtonBuilder>().addComponents(
              new ButtonBuilder().setCustomId('sub:confirm').setLabel('Subscribe').setStyle(ButtonStyle.Primary),
            ),
          ],
        });
      } else if (i.isButton() && i.customId === 'sub:confirm') {
        await i.update({ content: 'Subscribed!', components: [] });
      }
    };
    const cmd = emu.interact(
      emu.chatInput('digest', { query: 'moe', limit: 3, semantic: true }, { subcommand: 'search' }),
    );
    const follow = await cmd.followup();
    expect(follow.query.wait).toBe('true');
    expect(seen).toEqual({ sub: 'search', query: 'moe', limit: 3, semantic: true });
    const followMsg = cmd.state.followups[0]!;
    expect(followMsg.components).toHaveLength(1);

    const click = emu.interact(emu.button('sub:confirm', followMsg.id));
    const cb = await click.callback();
    expect(cb.body).toMatchObject({ type: 7, data: { content: 'Subscribed!', components: [] } });
    expect(emu.getMessage(followMsg.id)).toMatchObject({ content: 'Subscribed!', components: [] });
    expect(emu.getMessage(followMsg.id)?.edited_timestamp).not.toBeNull();
    expect(() => emu.button('sub:confirm', followMsg.id)).toThrow(/no component 'sub:confirm'/);
  });

  it('deferReply({withResponse}) gets the callback resource; the first followUp edits the thinking message', async () => {
    let responseMessageId: string | undefined;
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      const res = await i.deferReply({ withResponse: true });
      responseMessageId = res.resource?.message?.id;
      await i.followUp({ content: 'done' });
      await i.followUp({ content: 'second', flags: MessageFlags.Ephemeral });
    };
    const it = emu.interact(emu.chatInput('ask', { question: 'q' }));
    await it.followup(2000, 2);
    expect(responseMessageId).toBe(it.state.original?.id);
    expect(it.state.original?.content).toBe('done');
    expect(it.state.followups.map((m) => [m.content, m.flags])).toEqual([['second', 64]]);
  });

  it('multipart editReply with a file (payload_json + files[0])', async () => {
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.deferReply();
      await i.editReply({
        content: 'report',
        files: [new AttachmentBuilder(Buffer.from('a,b\n1,2\n'), { name: 'report.csv' })],
      });
    };
    const it = emu.interact(emu.chatInput('ask', { question: 'csv' }));
    const edit = await it.editOriginal();
    expect(edit.headers['content-type']).toMatch(/^multipart\/form-data/);
    expect(edit.body.content).toBe('report');
    expect(edit.files[0]?.filename).toBe('report.csv');
    expect(edit.files[0]?.data.toString()).toBe('a,b\n1,2\n');
    expect(it.state.original?.attachments[0]).toMatchObject({ filename: 'report.csv', size: 8 });
  });

  it('modal: showModal then a submission', async () => {
    handler = async (i) => {
      if (i.isChatInputCommand()) {
        await i.showModal(
          new ModalBuilder()
            .setCustomId('feedback')
            .setTitle('Feedback')
            .addComponents(
              new ActionRowBuilder<TextInputBuilder>().addComponents(
                new TextInputBuilder().setCustomId('text').setLabel('Text').setStyle(TextInputStyle.Short),
              ),
            ),
        );
      } else if (i.isModalSubmit()) {
        await i.reply({ content: `got: ${i.fields.getTextInputValue('text')}`, flags: MessageFlags.Ephemeral });
      }
    };
    const open = emu.interact(emu.chatInput('ask', { question: 'x' }));
    expect((await open.callback()).body).toMatchObject({ type: 9, data: { custom_id: 'feedback', title: 'Feedback' } });
    const submit = emu.interact(emu.modalSubmit('feedback', { text: 'great' }));
    expect((await submit.callback()).body).toMatchObject({ type: 4, data: { content: 'got: great', flags: 64 } });
  });

  it('DM-context interaction (user instead of member)', async () => {
    let info: Json = {};
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      // Real discord.js: without Partials.Channel an uncached DM channel is not cached from the payload.
      info = { inGuild: i.inGuild(), user: i.user.id, channelId: i.channelId, channel: i.channel };
      await i.reply({ content: 'hi in DM' });
    };
    const payload = emu.chatInput('ask', { question: 'dm?' }, { guildId: null });
    expect(payload.member).toBeUndefined();
    expect(payload.user.id).toBe(emu.defaults.user.id);
    const it = emu.interact(payload);
    await it.callback();
    expect(info).toEqual({
      inGuild: false,
      user: emu.defaults.user.id,
      channelId: emu.dmChannelOf(emu.defaults.user.id),
      channel: null,
    });
    expect(emu.dmMessages(emu.defaults.user.id).at(-1)?.content).toBe('hi in DM');
  });

  it('a second acknowledgement is refused with 40060; unknown interactions with 10062', async () => {
    const it = emu.interact(emu.chatInput('ask', { question: 'raw' })); // handler ignores it
    const url = `${emu.apiBase}/v10/interactions/${it.id}/${it.token}/callback`;
    const post = (body: Json): Promise<Response> =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ type: 5 })).status).toBe(204);
    const second = await post({ type: 4, data: { content: 'x' } });
    expect(second.status).toBe(400);
    expect(await second.json()).toMatchObject({ code: 40060 });
    const unknown = await fetch(`${emu.apiBase}/v10/interactions/1/nope/callback`, {
      method: 'POST',
      body: '{"type":5}',
    });
    expect(await unknown.json()).toMatchObject({ code: 10062 });
  });
});

describe('channels, DMs and failures', () => {
  it('channel.send to a guild channel (cached: no GET /channels)', async () => {
    const channel = (await client.channels.fetch(emu.defaults.digestChannelId)) as TextChannel;
    const sent = await channel.send({
      embeds: [new EmbedBuilder().setTitle('Daily digest').setDescription('3 papers')],
    });
    const req = await emu.waitForRequest({
      method: 'POST',
      path: `/channels/${emu.defaults.digestChannelId}/messages`,
    });
    expect(req.body).toMatchObject({ embeds: [{ title: 'Daily digest', description: '3 papers' }] });
    expect(emu.lastMessage(emu.defaults.digestChannelId)?.id).toBe(sent.id);
    expect(sent.id).toMatch(/^\d{17,19}$/);
    expect(emu.requestsMatching({ method: 'GET', path: '/channels/:id' })).toHaveLength(0);
    expect(req.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('users.send opens a DM channel and posts to it', async () => {
    const user = emu.addUser({ username: 'reader' });
    const msg = await client.users.send(user.id, 'New papers on speculative decoding');
    const open = await emu.waitForRequest({ method: 'POST', path: '/users/@me/channels' });
    expect(open.body).toEqual({ recipient_id: user.id });
    const dm = emu.dmChannelOf(user.id)!;
    expect(msg.channelId).toBe(dm);
    expect(emu.dmMessages(user.id).map((m) => m.content)).toEqual(['New papers on speculative decoding']);
  });

  it('a 429 injected once is retried transparently (two POSTs in the log)', async () => {
    const rule = emu.intercept({
      method: 'POST',
      path: '/channels/:id/messages',
      respond: responses.rateLimited(0.05),
    });
    const channel = client.channels.cache.get(emu.defaults.channelId) as TextChannel;
    const before = emu.requests.length;
    await channel.send('after a rate limit');
    const posts = emu.requests.slice(before).filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.status)).toEqual([429, 200]);
    expect(posts[0]?.intercepted).toBe(true);
    expect(rule.hits).toBe(1);
    expect(emu.lastMessage(emu.defaults.channelId)?.content).toBe('after a rate limit');
  });

  it('5xx injected twice via an intercept function is retried (3 POSTs: 502, 502, 200)', async () => {
    const rule = emu.intercept(
      (req) => (req.method === 'POST' && req.path.endsWith('/messages') ? responses.serverError(502) : undefined),
      { times: 2 },
    );
    const channel = client.channels.cache.get(emu.defaults.channelId) as TextChannel;
    const before = emu.requests.length;
    await channel.send('after two 502s');
    expect(emu.requests.slice(before).map((r) => r.status)).toEqual([502, 502, 200]);
    expect(rule.remaining).toBe(0);
  });

  it('a deleted channel yields DiscordAPIError 10003', async () => {
    const ch = emu.addChannel(emu.defaults.guildId, { name: 'doomed' });
    await until(() => client.channels.cache.has(ch.id), 1000, 'CHANNEL_CREATE');
    const channel = client.channels.cache.get(ch.id) as TextChannel;
    emu.deleteChannel(ch.id, { dispatch: false });
    const err = await channel.send('hello?').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect((err as DiscordAPIError).code).toBe(10003);
    expect((err as DiscordAPIError).status).toBe(404);
    const fetchErr = await client.channels.fetch(ch.id, { force: true }).catch((e: unknown) => e);
    expect((fetchErr as DiscordAPIError).code).toBe(10003);
  });

  it('a user who refuses DMs yields DiscordAPIError 50007', async () => {
    const user = emu.addUser({ username: 'private' });
    emu.refuseDms(user.id);
    const err = await client.users.send(user.id, 'hi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect((err as DiscordAPIError).code).toBe(50007);
    expect((err as DiscordAPIError).status).toBe(403);
    expect((err as DiscordAPIError).message).toBe('Cannot send messages to this user');
  });

  it('a removed permission yields DiscordAPIError 50013', async () => {
    const ch = emu.addChannel(emu.defaults.guildId, { name: 'locked' });
    await until(() => client.channels.cache.has(ch.id), 1000, 'CHANNEL_CREATE');
    emu.denyPermission(ch.id, Permission.SendMessages);
    const channel = client.channels.cache.get(ch.id) as TextChannel;
    await until(() => channel.permissionOverwrites.cache.has(emu.botUser.id), 1000, 'CHANNEL_UPDATE');
    expect(channel.permissionsFor(client.user!)?.has('SendMessages')).toBe(false);
    const err = await channel.send('hi').catch((e: unknown) => e);
    expect((err as DiscordAPIError).code).toBe(50013);
  });

  it('message limits are validated like Discord (50035 / 50006)', async () => {
    const channel = client.channels.cache.get(emu.defaults.channelId) as TextChannel;
    const long = await channel.send('x'.repeat(2001)).catch((e: unknown) => e);
    expect((long as DiscordAPIError).code).toBe(50035);
    expect((long as DiscordAPIError).message).toMatch(/content\[BASE_TYPE_MAX_LENGTH\]/);
    const badField = await channel
      .send({ embeds: [{ title: 't', fields: [{ name: 'n', value: 'v'.repeat(1025) }] }] })
      .catch((e: unknown) => e);
    expect((badField as DiscordAPIError).message).toMatch(/embeds\[0\]\.fields\[0\]\.value/);
  });

  it('op 7 RECONNECT: the client resumes and gets the events it missed', async () => {
    const resumed = once(client, Events.ShardResume);
    const session = emu.gatewaySessions[0]!;
    const resumesBefore = emu.resumeCount;
    emu.requestReconnect();
    await until(() => !session.connected, 1000, 'the client to drop the socket');
    let got = '';
    handler = async (i) => {
      if (i.isChatInputCommand()) {
        got = i.options.getString('question') ?? '';
        await i.reply({ content: 'after resume' });
      }
    };
    const it = emu.interact(emu.chatInput('ask', { question: 'missed?' }));
    await resumed;
    await it.callback(2000);
    expect(got).toBe('missed?');
    expect(emu.resumeCount).toBeGreaterThan(resumesBefore);
    expect(emu.identifyCount).toBe(1); // resumed, never re-identified
    const resumeFrame = emu.gatewayFrames.findLast((f) => f.op === 6)!;
    expect(resumeFrame.d).toMatchObject({ session_id: session.id });
  });
});
