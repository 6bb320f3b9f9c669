/**
 * Nothing lost, nothing twice, through crashes: `serve` runs as its own process against the Discord and HF
 * emulators and is killed with SIGKILL at random moments while it delivers subscription DMs and posts highlights,
 * again and again; then it runs once more until everything is done. Every (user, day) message and every (guild,
 * day) highlights post exists exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { addDays } from '../../src/dates.ts';
import { highlightsMarker } from '../../src/discord/highlights-post.ts';
import { subscriptionMarker } from '../../src/discord/subscription-sender.ts';
import { HfEmulator } from '../helpers/hf-emulator.ts';
import { newEntry, TOPICS, type SynthPaper } from '../helpers/synthetic-days.ts';
import { DiscordEmulator } from './emulator.ts';
import { baseEnv, haveModel, repoRoot, SKIP_REASON } from './harness.ts';

const TOKEN = 'MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789';
const USERS = 120;
const GUILDS = 4;
const KILLS = 12;
/** Keyword topics, one phrase of each made-up paper's title: every day has one paper per topic. */
const TOPIC_PHRASES: Record<keyof typeof TOPICS, string> = {
  draft: 'proposal network',
  protein: 'protein structure',
  grasp: 'robotic grasps',
  weather: 'weather forecasting',
  music: 'piano music',
  tumor: 'brain tumors',
  speech: 'speech recognition',
  code: '',
};

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<unknown>;
}

function serve(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, stderr: () => err, exited: once(child, 'exit') };
}

/** Resolves when `pred` holds for the child's log so far, or after `timeoutMs` (false) or its exit (false). */
async function until(p: Proc, pred: (log: string) => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && p.child.exitCode === null) {
    if (pred(p.stderr())) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return pred(p.stderr());
}

const count = (log: string, event: string) => log.split(`"event":"${event}"`).length - 1;

describe.skipIf(!haveModel)(
  `serve killed with SIGKILL during delivery${haveModel ? '' : ` [skipped: ${SKIP_REASON}]`}`,
  () => {
    let dir: string;
    let emu: DiscordEmulator;
    let hf: HfEmulator;
    const today = new Date().toISOString().slice(0, 10);
    // Complete days (their lists close at 02:30 UTC the next morning) whose highlights are due by now.
    const days = [addDays(today, -4), addDays(today, -3), addDays(today, -2)];
    const users: string[] = [];
    const guilds: string[] = [];
    const channels: string[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'crash-'));
      emu = await DiscordEmulator.start({ token: TOKEN, callbackDeadlineMs: 3000 });
      guilds.push(emu.defaults.guildId, ...Array.from({ length: GUILDS - 1 }, () => emu.addGuild().id));
      for (const g of guilds) channels.push(emu.guildChannels(g).find((c) => c.type === 0)!.id as string);
      for (let i = 0; i < USERS; i++) users.push(emu.addUser({ username: `reader${i}` }).id);
      const keys = (Object.keys(TOPIC_PHRASES) as (keyof typeof TOPICS)[]).filter((k) => TOPIC_PHRASES[k]);
      let n = 0;
      hf = await HfEmulator.start({
        papers: new Map(
          days.map((day) => [
            day,
            keys.map((k) =>
              newEntry({ ...(TOPICS[k] as SynthPaper), id: `2612.${String(10000 + n++)}`, upvotes: n }, day),
            ),
          ]),
        ),
      });
      // The bot's state before its first start: highlights set up long ago in every server, and subscriptions.
      const app = new App(loadConfig(baseEnv(), { dataDir: dir }));
      const longAgo = new Date(Date.parse(`${addDays(today, -10)}T00:00:00Z`));
      guilds.forEach((guildId, i) => {
        app.guildSettings.setSettings(
          { guildId, channelId: channels[i]!, postTime: '00:00', timeZone: 'UTC', count: 3 },
          longAgo,
        );
      });
      users.forEach((u, i) => app.subscriptions.subscribe(u, `kw:"${TOPIC_PHRASES[keys[i % keys.length]!]}"`));
      app.close();
    }, 60_000);

    afterAll(async () => {
      await emu?.close();
      await hf?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it(`delivers every (user, day) message and posts every (guild, day) exactly once through ${KILLS} kills`, async () => {
      const env = baseEnv({
        HF_ENDPOINT: hf.endpoint,
        HF_API_RETRIES: '0',
        DISCORD_TOKEN: TOKEN,
        DISCORD_APPLICATION_ID: emu.applicationId,
        DISCORD_API_URL: emu.apiBase,
        DATA_DIR: dir,
      });
      let midDelivery = 0;
      for (let k = 0; k < KILLS; k++) {
        const p = serve(env);
        // Kill at a random moment: soon after the bot is ready, or after some messages or posts went out.
        const after = ['ready', 'subscriptions.sent', 'highlights.sent'][k % 3]!;
        const nth = after === 'ready' ? 1 : 1 + Math.floor(Math.random() * 8);
        await until(p, (log) => count(log, after) >= nth, 8_000);
        await new Promise((r) => setTimeout(r, Math.random() * (after === 'ready' ? 600 : 100)));
        const log = p.stderr();
        if (
          count(log, 'subscriptions.sent') + count(log, 'highlights.sent') > 0 &&
          count(log, 'subscriptions.done') < days.length
        )
          midDelivery++;
        p.child.kill('SIGKILL');
        await p.exited;
      }
      // The kills hit work in progress (not only an idle bot).
      expect(midDelivery).toBeGreaterThanOrEqual(5);

      // Once more, until every day is delivered and every post made; then stopped as a process manager would.
      const last = serve(env);
      const state = new App(loadConfig(baseEnv(), { dataDir: dir }));
      try {
        const posted = () =>
          guilds.reduce((n, g) => n + state.highlights.posts(g).filter((x) => x.status === 'sent').length, 0);
        const done = () => state.deliveries.pendingDays().length === 0 && posted() === guilds.length * days.length;
        const end = Date.now() + 60_000;
        while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        expect(done(), last.stderr().slice(-3000)).toBe(true);
      } finally {
        state.close();
        last.child.kill('SIGTERM');
        await last.exited;
      }

      // Exactly once: each user one message per day, each server one post per day.
      for (const u of users) {
        for (const day of days) {
          const mine = emu
            .dmMessages(u)
            .filter((m) => m.embeds.some((e) => e.footer?.text.startsWith(subscriptionMarker(day))));
          expect(mine, `${u} ${day}`).toHaveLength(1);
        }
      }
      for (const c of channels) {
        for (const day of days) {
          const posts = emu
            .getMessages(c)
            .filter((m) => m.embeds.some((e) => e.footer?.text.startsWith(highlightsMarker(day))));
          expect(posts, `${c} ${day}`).toHaveLength(1);
        }
      }
    }, 300_000);
  },
);
