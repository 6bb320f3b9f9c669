/**
 * The bot end to end: the real discord.js client, built by createBot exactly as `serve` builds it, talking to
 * the Discord emulator on 127.0.0.1 (DISCORD_API_URL points at it), over a small synthetic digest. Every
 * command, pagination clicks, autocomplete, the cooldown, the answer queue, a 429, an error path; after every
 * test: no unknown routes, no emulator errors, nothing that could ping, no token in the logs.
 */
import { MessageFlags, type TextChannel } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Answer, Asker } from '../../src/answer/types.ts';
import { commands } from '../../commands/index.ts';
import { FRIENDLY_ERROR } from '../../src/discord/router.ts';
import { answerMessages } from '../../src/discord/present.ts';
import { atomSpans, embedLength, LIMITS } from '../../src/discord/split.ts';
import { TOPICS } from '../helpers/synthetic-days.ts';
import { responses, type Json } from './emulator.ts';
import {
  buildCorpus,
  HOSTILE,
  haveModel,
  LATEST_DAY,
  messageBodies,
  SKIP_REASON,
  sleep,
  startHarness,
  TOPIC_DAYS,
  type Harness,
} from './harness.ts';

/** Every registered command (the issue's six, plus any later module listed in commands/index.ts). */
const COMMANDS = commands.map((c) => c.data.name);

let corpus: { dataDir: string; cleanup: () => Promise<void> };
let h: Harness;
/** handler_error log lines a test provokes on purpose. */
let expectedErrors = 0;

async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A fresh guild member (each /ask test uses its own, because of the per-user cooldown). */
function newUser(name: string) {
  return h.emu.addUser({ username: name });
}

const deferMs = (it: { state: { createdAt: number } }, req: { at: number }) => req.at - it.state.createdAt;

describe.skipIf(!haveModel)(
  `Discord bot (real discord.js client against the emulator)${haveModel ? '' : ` [skipped: ${SKIP_REASON}]`}`,
  () => {
    beforeAll(async () => {
      corpus = await buildCorpus();
      h = await startHarness({
        dataDir: corpus.dataDir,
        env: { ASK_COOLDOWN_SECONDS: '30', MAX_CONCURRENT_ANSWERS: '2' },
      });
    }, 60_000);

    afterAll(async () => {
      await h?.close();
      await corpus?.cleanup();
    });

    afterEach(() => {
      expect(h.emu.unknownRoutes).toEqual([]);
      expect(h.emu.internalErrors).toEqual([]);
      // Nothing the bot sent may ping: every message body parses no mentions, and no stored message mentions anyone.
      for (const { req, body } of messageBodies(h.emu)) {
        expect(body?.allowed_mentions, `${req.method} ${req.path}`).toMatchObject({ parse: [] });
      }
      for (const list of h.emu.messages.values()) {
        for (const m of list) {
          expect(m.mention_everyone).toBe(false);
          expect(m.mentions).toEqual([]);
          expect(m.mention_roles).toEqual([]);
        }
      }
      expect(h.logs.filter((l) => l.event === 'handler_error')).toHaveLength(expectedErrors);
      expect(h.rawLogs.join('\n')).not.toContain(h.emu.token);
    });

    describe('registration and /about', () => {
      it('deploy-commands registered every command globally, with autocomplete where titles are typed', () => {
        const cmds = h.emu.commands();
        expect(cmds.map((c) => c.name)).toEqual(COMMANDS);
        expect(COMMANDS).toEqual(expect.arrayContaining(['ask', 'search', 'paper', 'digest', 'similar', 'about']));
        expect(h.emu.commands(h.emu.defaults.guildId)).toEqual([]);
        const opt = (cmd: string, name: string) =>
          cmds.find((c) => c.name === cmd)!.options.find((o: Json) => o.name === name);
        expect(opt('paper', 'id_or_title').autocomplete).toBe(true);
        expect(opt('similar', 'paper').autocomplete).toBe(true);
        expect(opt('ask', 'question').required).toBe(true);
        expect(opt('ask', 'since').required).toBeFalsy();
        // Registered once by the script, not again when the bot started (it only checks, with one GET).
        expect(h.emu.requestsMatching({ method: 'PUT', path: '/applications/:app/commands' })).toHaveLength(1);
        expect(h.emu.requestsMatching({ method: 'GET', path: '/applications/:app/commands' })).toHaveLength(1);
        expect(h.logs.filter((l) => l.level === 'warn')).toEqual([]);
      });

      it('warns at start when the commands were never registered', async () => {
        const t = await startHarness({ dataDir: corpus.dataDir, deploy: false });
        try {
          expect(t.logs).toContainEqual(
            expect.objectContaining({ level: 'warn', event: 'commands_not_registered', missing: COMMANDS }),
          );
          expect(t.emu.unknownRoutes).toEqual([]);
        } finally {
          await t.close();
        }
      });

      it('/about tells what the bot knows, privately', async () => {
        const it = h.emu.interact(h.emu.chatInput('about'));
        const cb = await it.callback();
        expect(cb.body.type).toBe(4);
        expect(cb.body.data.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
        const fields = Object.fromEntries((cb.body.data.embeds[0].fields as Json[]).map((f) => [f.name, f.value]));
        const stats = h.app.store.stats();
        expect(fields).toMatchObject({
          Papers: String(stats.papers),
          'Digest days': String(stats.days),
          'Date range': `${stats.from} to ${LATEST_DAY}`,
          'Embedding model': expect.stringContaining('potion-base-4M'),
          Answerer: expect.stringContaining('extractive'),
        });
        // It names every registered command.
        for (const name of COMMANDS) expect(cb.body.data.embeds[0].description).toContain(`\`/${name}\``);
      });

      it('/help lists every registered command with what it does, one line each, privately', async () => {
        const it = h.emu.interact(h.emu.chatInput('help'));
        const cb = await it.callback();
        expect(cb.body.data.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
        const lines = (cb.body.data.embeds[0].description as string).split('\n');
        expect(lines.map((l) => /^`\/([a-z-]+)`: /.exec(l)?.[1])).toEqual(COMMANDS);
        for (const c of h.emu.commands()) expect(lines).toContain(`\`/${c.name}\`: ${c.description}`);
      });
    });

    describe('/ask', () => {
      it('defers at once, then edits in an answer whose citations link to the cited papers', async () => {
        const user = newUser('asker1');
        const it = h.emu.interact(
          h.emu.chatInput('ask', { question: 'how can a small helper network make text generation faster?' }, { user }),
        );
        const cb = await it.callback();
        expect(cb.body).toEqual({ type: 5, data: { flags: 0 } }); // public deferral: "digest-bot is thinking..."
        expect(deferMs(it, cb)).toBeLessThan(2000); // Discord allows 3 s; the emulator enforces it too
        const edit = await it.editOriginal(10_000);
        const embed = edit.body.embeds[0];
        const draftUrl = `https://huggingface.co/papers/${TOPICS.draft.id}`;
        expect(embed.title).toContain('text generation faster');
        expect(embed.description).toContain(`[[1]](${draftUrl})`);
        const sources = embed.fields.find((f: Json) => f.name === 'Sources');
        expect(sources.value).toContain(`**[1]** [Draft and Verify`);
        expect(sources.value).toContain(`](${draftUrl})`);
        expect(sources.value).toContain('[code](https://github.com/example/draft-verify)');
        expect(embed.footer.text).toMatch(/^Searched \d+ papers · answered by extractive$/);
        // The thinking message became the answer, visible in the channel.
        expect(it.state.original!.flags! & MessageFlags.Loading).toBe(0);
        expect(it.state.original!.embeds[0]!.description).toBe(embed.description);
      });

      it('says so when the digest has nothing on the question, listing the closest papers as not answering', async () => {
        const it = h.emu.interact(
          h.emu.chatInput(
            'ask',
            { question: 'what is the best recipe for sourdough bread with rye flour?' },
            { user: newUser('asker2') },
          ),
        );
        const edit = await it.editOriginal(10_000);
        const embed = edit.body.embeds[0];
        expect(embed.title).toMatch(/^(?:No direct answer|Nothing related in the digest): /);
        expect(embed.description).toMatch(
          /^(?:No paper in the digest answers this directly|Nothing in the digest is related)/,
        );
        expect(embed.description).not.toMatch(/\[\[\d+\]\]/);
        expect((embed.fields ?? []).map((f: Json) => f.name)).not.toContain('Sources');
      });

      it('passes since/until to the answerer and shows the range', async () => {
        const it = h.emu.interact(
          h.emu.chatInput(
            'ask',
            {
              question: 'how can a small helper network make text generation faster?',
              since: '2025-03-10',
              until: LATEST_DAY,
            },
            { user: newUser('asker3') },
          ),
        );
        const edit = await it.editOriginal(10_000);
        const embed = edit.body.embeds[0];
        expect(embed.footer.text).toContain(`2025-03-10 to ${LATEST_DAY}`);
        // The draft paper (2025-03-03) is outside the range, so it is not cited.
        expect(JSON.stringify(edit.body)).not.toContain(TOPICS.draft.id);
      });

      it('a bad date is a clear private error, without a deferral', async () => {
        const it = h.emu.interact(
          h.emu.chatInput('ask', { question: 'protein folding?', since: 'last tuesday' }, { user: newUser('asker4') }),
        );
        const cb = await it.callback();
        expect(cb.body.type).toBe(4);
        expect(cb.body.data.flags).toBe(MessageFlags.Ephemeral);
        expect(cb.body.data.content).toMatch(/`since` must be a date like 2025-03-14/);
        const reversed = h.emu.interact(
          h.emu.chatInput(
            'ask',
            { question: 'protein folding?', since: '2025-03-10', until: '2025-03-01' },
            { user: newUser('asker5') },
          ),
        );
        expect((await reversed.callback()).body.data.content).toMatch(/is after `until`/);
      });

      it('has a per-user cooldown, answered with a clear private message', async () => {
        const user = newUser('eager');
        const first = h.emu.interact(h.emu.chatInput('ask', { question: 'robot grasping in kitchens?' }, { user }));
        await first.editOriginal(10_000);
        const second = h.emu.interact(h.emu.chatInput('ask', { question: 'and weather forecasting?' }, { user }));
        const cb = await second.callback();
        expect(cb.body.type).toBe(4);
        expect(cb.body.data.flags).toBe(MessageFlags.Ephemeral);
        expect(cb.body.data.content).toMatch(/^You can ask again in \d+ s \(one question every 30 s per person\)\.$/);
        // Someone else is not held back.
        const other = h.emu.interact(
          h.emu.chatInput('ask', { question: 'and weather forecasting?' }, { user: newUser('patient') }),
        );
        expect((await other.callback()).body.type).toBe(5);
        await other.editOriginal(10_000);
      });

      it('caps concurrent answers; the rest wait in a queue behind their deferral', async () => {
        const real = await h.app.asker();
        let running = 0;
        let maxRunning = 0;
        let started = 0;
        let open!: () => void;
        const gate = new Promise<void>((r) => (open = r));
        // Instrument the real answerer (the answers are still its own): hold every question at a gate.
        const gated: Asker = {
          async ask(q, o) {
            started += 1;
            running += 1;
            maxRunning = Math.max(maxRunning, running);
            try {
              await gate;
              return await real.ask(q, o);
            } finally {
              running -= 1;
            }
          },
        };
        const original = h.bot.context.asker;
        h.bot.context.asker = async () => gated;
        try {
          const its = ['one', 'two', 'three'].map((n) =>
            h.emu.interact(
              h.emu.chatInput(
                'ask',
                { question: `papers about protein structure prediction, ${n}?` },
                { user: newUser(`queued-${n}`) },
              ),
            ),
          );
          for (const it of its) expect((await it.callback()).body.type).toBe(5); // all three deferred at once
          await until(() => started === 2, 3000, 'two answers to start');
          await sleep(50);
          expect(started).toBe(2); // MAX_CONCURRENT_ANSWERS = 2
          expect(h.bot.context.answerLimit.pendingCount).toBe(1);
          expect(its.every((it) => it.state.original!.flags! & MessageFlags.Loading)).toBe(true); // still "thinking"
          open();
          const edits = await Promise.all(its.map((it) => it.editOriginal(10_000)));
          expect(edits.map((e) => e.status)).toEqual([200, 200, 200]);
          expect(maxRunning).toBe(2);
          for (const e of edits)
            expect(e.body.embeds[0].description).toContain(`](https://huggingface.co/papers/${TOPICS.protein.id})`);
        } finally {
          h.bot.context.asker = original;
        }
      });

      it('a 429 from Discord on the edit is retried after Retry-After, and the answer lands', async () => {
        const it = h.emu.interact(
          h.emu.chatInput(
            'ask',
            { question: 'speech recognition for languages with little data?' },
            { user: newUser('ratelimited') },
          ),
        );
        const rule = h.emu.intercept({
          method: 'PATCH',
          path: `/webhooks/${h.emu.applicationId}/${it.token}/messages/@original`,
          respond: responses.rateLimited(0.1),
        });
        await h.emu.waitForRequest(
          { method: 'PATCH', path: `/webhooks/:app/${it.token}/messages/@original`, status: 200 },
          10_000,
        );
        const patches = h.emu.requestsMatching({
          method: 'PATCH',
          path: `/webhooks/:app/${it.token}/messages/@original`,
        });
        expect(patches.map((r) => r.status)).toEqual([429, 200]);
        expect(patches[1]!.at - patches[0]!.at).toBeGreaterThanOrEqual(90);
        expect(rule.hits).toBe(1);
        expect(it.state.original!.embeds[0]!.description).toContain(TOPICS.speech.id);
      });

      it('long answers are split within Discord limits, never inside a citation, and Discord accepts every message', async () => {
        const paper = h.app.store.get(TOPICS.draft.id)!;
        const citations = Array.from({ length: 30 }, (_, k) => ({
          n: k + 1,
          paper,
          url: `https://huggingface.co/papers/${paper.id}?n=${k + 1}`,
        }));
        const sentence = (k: number) =>
          `Sentence ${k} explains one more finding about drafting tokens with a small network [${(k % 30) + 1}].`;
        const answer: Answer = {
          question: 'a question with a very long answer',
          outcome: 'answer',
          abstained: false,
          text: Array.from({ length: 400 }, (_, k) => sentence(k)).join(' '),
          citations,
          retrieved: [],
          closest: [],
          answerer: 'extractive',
          searched: 79,
        };
        const messages = answerMessages(answer);
        expect(messages.length).toBeGreaterThan(1);
        const seen = new Set<number>();
        for (const embeds of messages) {
          expect(embeds.length).toBeLessThanOrEqual(LIMITS.embedsPerMessage);
          expect(embeds.reduce((n, e) => n + embedLength(e), 0)).toBeLessThanOrEqual(LIMITS.embedsTotal);
          for (const e of embeds) {
            expect(e.description?.length ?? 0).toBeLessThanOrEqual(LIMITS.description);
            // Every citation in a part is a whole link; no part starts or ends inside one.
            for (const m of (e.description ?? '').matchAll(
              /\[\[(\d+)\]\]\(https:\/\/huggingface\.co\/papers\/[\d.]+\?n=(\d+)\)/g,
            )) {
              expect(m[1]).toBe(m[2]);
              seen.add(Number(m[1]));
            }
            expect(e.description ?? '').not.toMatch(/^\]|\[\[\d*$|\]\([^)]*$/);
          }
        }
        expect(seen.size).toBe(30);
        // Discord (the emulator validates embed limits like Discord does) accepts each message as sent.
        const channel = h.bot.client.channels.cache.get(h.emu.defaults.channelId) as TextChannel;
        for (const embeds of messages) await channel.send({ embeds, allowedMentions: { parse: [] } });
        const sent = h.emu.requestsMatching({ method: 'POST', path: `/channels/${h.emu.defaults.channelId}/messages` });
        expect(sent.slice(-messages.length).map((r) => r.status)).toEqual(messages.map(() => 200));
        // And the pieces put back together hold every sentence in order.
        const joined = messages
          .flat()
          .map((e) => e.description ?? '')
          .join(' ');
        expect(joined.indexOf('Sentence 399')).toBeGreaterThan(joined.indexOf('Sentence 398'));
        expect(atomSpans(joined).length).toBeGreaterThanOrEqual(400);
      });
    });

    describe('/search', () => {
      it('lists ranked papers with Prev/Next buttons whose custom_id carries the state; only the asker can page', async () => {
        const user = newUser('searcher');
        const it = h.emu.interact(h.emu.chatInput('search', { query: 'robot grasping cups on shelves' }, { user }));
        expect((await it.callback()).body.type).toBe(5);
        const edit = await it.editOriginal(10_000);
        const embed = edit.body.embeds[0];
        expect(embed.url).toBe('https://huggingface.co/papers?q=robot%20grasping%20cups%20on%20shelves');
        expect(embed.description.split('\n\n')).toHaveLength(5);
        expect(embed.description).toMatch(
          new RegExp(
            `^\\*\\*1\\.\\*\\* \\[Picking Up Anything.*\\]\\(https://huggingface\\.co/papers/${TOPICS.grasp.id}\\)`,
          ),
        );
        expect(embed.footer.text).toMatch(/^Page 1\/(\d+) · (\d+) results$/);
        const buttons = edit.body.components[0].components as Json[];
        expect(buttons.map((b) => [b.custom_id, Boolean(b.disabled)])).toEqual([
          [`search:prev:0:${user.id}::`, true],
          [`search:next:1:${user.id}::`, false],
        ]);

        const msgId = it.state.original!.id;
        const click = h.emu.interact(h.emu.button(`search:next:1:${user.id}::`, msgId, { user }));
        const cb = await click.callback();
        expect(cb.body.type).toBe(7); // update the message in place
        expect(cb.body.data.embeds[0].footer.text).toMatch(/^Page 2\//);
        expect(cb.body.data.embeds[0].description).toMatch(/^\*\*6\.\*\* /);
        expect(cb.body.data.components[0].components[0]).toMatchObject({
          custom_id: `search:prev:0:${user.id}::`,
          disabled: false,
        });
        expect(h.emu.getMessage(msgId)!.embeds[0]!.footer!.text).toMatch(/^Page 2\//);

        // Someone else clicking gets a private notice; the message is untouched.
        const intruder = newUser('intruder');
        const other = h.emu.interact(h.emu.button(`search:prev:0:${user.id}::`, msgId, { user: intruder }));
        const ocb = await other.callback();
        expect(ocb.body.type).toBe(4);
        expect(ocb.body.data.flags).toBe(MessageFlags.Ephemeral);
        expect(ocb.body.data.content).toMatch(/^Only the person who ran this search/);
        expect(h.emu.getMessage(msgId)!.embeds[0]!.footer!.text).toMatch(/^Page 2\//);

        // Back to page 1.
        const back = h.emu.interact(h.emu.button(`search:prev:0:${user.id}::`, msgId, { user }));
        expect((await back.callback()).body.data.embeds[0].footer.text).toMatch(/^Page 1\//);
      });

      it('keeps the date range across pages', async () => {
        const user = newUser('ranged');
        const it = h.emu.interact(
          h.emu.chatInput('search', { query: 'study', since: '2025-02-03', until: '2025-02-04' }, { user }),
        );
        const edit = await it.editOriginal(10_000);
        expect(edit.body.embeds[0].footer.text).toContain('2025-02-03 to 2025-02-04');
        const next = `search:next:1:${user.id}:2025-02-03:2025-02-04`;
        expect(edit.body.components[0].components[1].custom_id).toBe(next);
        const click = h.emu.interact(h.emu.button(next, it.state.original!.id, { user }));
        const page2 = (await click.callback()).body.data.embeds[0];
        expect(page2.footer.text).toContain('2025-02-03 to 2025-02-04');
        for (const m of (page2.description as string).matchAll(/\n(\d{4}-\d{2}-\d{2}) · /g))
          expect(['2025-02-03', '2025-02-04']).toContain(m[1]);
      });
    });

    describe('/paper', () => {
      it('autocompletes titles with the paper id as the value', async () => {
        const it = h.emu.interact(h.emu.autocomplete('paper', 'id_or_title', 'fold'));
        const cb = await it.callback();
        expect(cb.body.type).toBe(8);
        const choices = cb.body.data.choices as Json[];
        const protein = choices.find((c) => c.value === TOPICS.protein.id)!;
        expect(protein.name).toMatch(new RegExp(`^Folding Chains: .*… \\(${TOPIC_DAYS.protein}\\)$`)); // cut to 100, the day kept
        expect(protein.name.length).toBeLessThanOrEqual(100);
        const empty = h.emu.interact(h.emu.autocomplete('paper', 'id_or_title', ''));
        const latest = (await empty.callback()).body.data.choices as Json[];
        expect(latest.length).toBeGreaterThan(0);
        expect(latest.length).toBeLessThanOrEqual(25);
        for (const c of latest) expect(c.name).toContain(`(${LATEST_DAY})`);
      });

      it('shows one paper: title, date, authors, upvotes, links, summary', async () => {
        const it = h.emu.interact(h.emu.chatInput('paper', { id_or_title: TOPICS.draft.id }));
        const cb = await it.callback();
        expect(cb.body.type).toBe(4);
        const e = cb.body.data.embeds[0];
        expect(e.title).toBe(TOPICS.draft.title);
        expect(e.url).toBe(`https://huggingface.co/papers/${TOPICS.draft.id}`);
        expect(e.description).toBe('A small proposal network drafts tokens that a large model verifies in one pass.');
        const fields = Object.fromEntries((e.fields as Json[]).map((f) => [f.name, f.value]));
        expect(fields).toMatchObject({
          'Digest day': TOPIC_DAYS.draft,
          Upvotes: '10',
          Authors: 'Ada Example, Bo Sample',
        });
        expect(fields.Links).toBe(
          `[Hugging Face](https://huggingface.co/papers/${TOPICS.draft.id}) · [arXiv](https://arxiv.org/abs/${TOPICS.draft.id}) · [GitHub](https://github.com/example/draft-verify)`,
        );
        // Without HF's summary: the first sentences of the abstract.
        const plain = h.emu.interact(
          h.emu.chatInput('paper', { id_or_title: `https://arxiv.org/abs/${TOPICS.weather.id}v2` }),
        );
        const pe = (await plain.callback()).body.data.embeds[0];
        expect(pe.title).toBe(TOPICS.weather.title);
        expect(
          pe.description.startsWith(
            'Numerical weather prediction solves the equations of the atmosphere on supercomputers.',
          ),
        ).toBe(true);
        expect(pe.description.length).toBeLessThanOrEqual(600);
        // A title fragment typed without picking a suggestion.
        const byTitle = h.emu.interact(h.emu.chatInput('paper', { id_or_title: 'Composing Piano' }));
        expect((await byTitle.callback()).body.data.embeds[0].title).toBe(TOPICS.music.title);
      });

      it('escapes hostile abstract text: no pings, no markdown, no tags, no masked links', async () => {
        const it = h.emu.interact(h.emu.chatInput('paper', { id_or_title: HOSTILE.id }));
        const e = (await it.callback()).body.data.embeds[0];
        const shown = `${e.title}\n${e.description}`;
        expect(shown).not.toMatch(/@(everyone|here)/); // defused with a zero-width space
        expect(shown).toContain('@\u200beveryone');
        expect(shown).not.toMatch(/(?<!\\)</); // every < escaped: no <@id>, no <think>
        expect(shown).not.toMatch(/(?<!\\)\*\*/);
        expect(e.title).toBe('Pinging @\u200beveryone With \\*Markdown\\* (and \\<think> Tags) in Abstracts');
        // Its project link is `javascript:`: never shown; bidi overrides and NUL never echoed.
        const payload = JSON.stringify((await it.callback()).body);
        expect(payload).not.toMatch(/javascript:/i);
        expect(payload).not.toMatch(/\\u202e|\u202e|\\u0000/i);
        expect(payload).toContain('https://github.com/example/sanitize');
        // The abstract itself, through /search (first sentences).
        const s = h.emu.interact(
          h.emu.chatInput('search', { query: 'sanitization of abstracts' }, { user: newUser('s2') }),
        );
        const d: string = (await s.editOriginal(10_000)).body.embeds[0].description;
        expect(d).toContain(
          '[Pinging @\u200beveryone With \\*Markdown\\* (and \\<think> Tags) in Abstracts](https://huggingface.co/papers/2503.00199)',
        );
      });

      it('an unknown paper is a private error', async () => {
        const it = h.emu.interact(h.emu.chatInput('paper', { id_or_title: 'no such paper about zebras' }));
        const cb = await it.callback();
        expect(cb.body).toMatchObject({
          type: 4,
          data: {
            flags: MessageFlags.Ephemeral,
            content: expect.stringMatching(/^No paper in the digest matches "no such paper about zebras"/),
          },
        });
      });
    });

    describe('/digest', () => {
      it("shows the latest day's papers by upvotes, paginated", async () => {
        const user = newUser('reader');
        const it = h.emu.interact(h.emu.chatInput('digest', {}, { user }));
        const cb = await it.callback();
        expect(cb.body.type).toBe(4);
        const e = cb.body.data.embeds[0];
        expect(e.title).toBe(`Daily Papers, ${LATEST_DAY}`);
        expect(e.url).toBe(`https://huggingface.co/papers/date/${LATEST_DAY}`);
        const day = h.app.store.papersBetween({ since: LATEST_DAY, until: LATEST_DAY });
        expect(e.footer.text).toBe(`Page 1/${Math.ceil(day.length / 8)} · ${day.length} papers · ranked by upvotes`);
        const upvotes = [...(e.description as string).matchAll(/ · ▲ (\d+)/g)].map((m) => Number(m[1]));
        expect(upvotes).toHaveLength(8);
        expect(upvotes).toEqual([...upvotes].sort((a, b) => b - a));
        const next = cb.body.data.components[0].components[1];
        expect(next.custom_id).toBe(`digest:next:1:${user.id}:${LATEST_DAY}`);
        const click = h.emu.interact(h.emu.button(next.custom_id, it.state.original!.id, { user }));
        const page2 = (await click.callback()).body.data;
        expect(page2.embeds[0].description).toMatch(/^\*\*9\.\*\* /);
        expect(page2.embeds[0].footer.text).toMatch(/^Page 2\//);
      });

      it('takes a date; a day without a digest is a private error naming the previous one', async () => {
        const it = h.emu.interact(h.emu.chatInput('digest', { date: TOPIC_DAYS.weather }));
        const e = (await it.callback()).body.data.embeds[0];
        expect(e.title).toBe(`Daily Papers, ${TOPIC_DAYS.weather}`);
        expect(e.description).toContain(TOPICS.weather.id);
        const weekend = h.emu.interact(h.emu.chatInput('digest', { date: '2025-03-08' }));
        const cb = (await weekend.callback()).body;
        expect(cb.data.flags).toBe(MessageFlags.Ephemeral);
        expect(cb.data.content).toBe(
          'No digest for 2025-03-08 (weekends have none). The latest one before it is 2025-03-07: try `/digest date:2025-03-07`.',
        );
        const bad = h.emu.interact(h.emu.chatInput('digest', { date: '2025-02-30' }));
        expect((await bad.callback()).body.data.content).toMatch(/`date` must be a date like/);
      });
    });

    describe('/similar', () => {
      it('lists the papers nearest to a paper, with autocomplete and pages', async () => {
        const ac = h.emu.interact(h.emu.autocomplete('similar', 'paper', 'Draft and'));
        expect((await ac.callback()).body.data.choices[0]).toMatchObject({
          name: expect.stringMatching(/^Draft and Verify: .* \(2025-03-03\)$/),
          value: TOPICS.draft.id,
        });
        const user = newUser('explorer');
        const it = h.emu.interact(h.emu.chatInput('similar', { paper: TOPICS.draft.id }, { user }));
        const edit = await it.editOriginal(10_000);
        const e = edit.body.embeds[0];
        expect(e.title).toBe(`Similar to: ${TOPICS.draft.title}`);
        expect(e.description).not.toContain(`papers/${TOPICS.draft.id})`); // not itself
        expect(e.description.split('\n\n')).toHaveLength(5);
        expect(e.description).toMatch(/similarity \d\.\d\d/);
        const next = edit.body.components[0].components[1].custom_id;
        expect(next).toBe(`similar:next:1:${user.id}:${TOPICS.draft.id}`);
        const page2 = (await h.emu.interact(h.emu.button(next, it.state.original!.id, { user })).callback()).body.data
          .embeds[0];
        expect(page2.description).toMatch(/^\*\*6\.\*\* /);
      });
    });

    describe('failures', () => {
      it('a handler error becomes a friendly private reply and one structured log line; the bot keeps running', async () => {
        const user = newUser('unlucky');
        const it = h.emu.interact(h.emu.chatInput('search', { query: 'weather forecasting' }, { user }));
        // Discord fails every edit of this interaction (the client retries 5xx three times, then gives up).
        h.emu.intercept({
          method: 'PATCH',
          path: `/webhooks/${h.emu.applicationId}/${it.token}/messages/@original`,
          respond: responses.serverError(500),
          times: 10,
        });
        expectedErrors += 1;
        const notice = await it.followup(10_000);
        expect(notice.body).toMatchObject({ content: FRIENDLY_ERROR, flags: MessageFlags.Ephemeral });
        // The public "thinking" message was removed first, so the notice is private.
        expect(
          h.emu.requestsMatching({ method: 'DELETE', path: `/webhooks/:app/${it.token}/messages/@original` }),
        ).toHaveLength(1);
        expect(it.state.followups[0]!.flags! & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
        await until(() => h.logs.some((l) => l.event === 'handler_error'), 2000, 'the error log line');
        const line = h.logs.find((l) => l.event === 'handler_error')!;
        expect(line).toMatchObject({
          level: 'error',
          kind: 'command',
          command: 'search',
          user: user.id,
          interaction: it.id,
          status: 500,
        });
        expect(line.url).toContain('/webhooks/');
        expect(line.url).not.toContain(it.token); // interaction tokens are secrets too
        // Still serving.
        const after = h.emu.interact(h.emu.chatInput('about'));
        expect((await after.callback()).body.type).toBe(4);
      });
    });

    describe('pagination timeout', () => {
      it('disables the buttons after the timeout', async () => {
        // A second bot (own emulator) on the same digest, with a short timeout.
        const t = await startHarness({ dataDir: corpus.dataDir, bot: { paginationTimeoutMs: 300 } });
        try {
          const it = t.emu.interact(t.emu.chatInput('digest', {}));
          const cb = await it.callback();
          expect(cb.body.data.components[0].components.map((b: Json) => Boolean(b.disabled))).toEqual([true, false]);
          const edit = await it.editOriginal(3000);
          expect(edit.at - cb.at).toBeGreaterThanOrEqual(280);
          expect(edit.body.components[0].components.map((b: Json) => b.disabled)).toEqual([true, true]);
          const msg = t.emu.getMessage(it.state.original!.id)!;
          expect(() => t.emu.button((msg.components![0] as Json).components[1].custom_id, msg.id)).toThrow(/disabled/);
          expect(t.bot.context.pages.size).toBe(0);
          expect(t.emu.unknownRoutes).toEqual([]);
        } finally {
          await t.close();
        }
      });
    });
  },
);
