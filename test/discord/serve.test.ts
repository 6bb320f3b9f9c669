/**
 * The bot as people run it: `npm run deploy-commands` and `npm run cli -- serve` in child processes, configured
 * only through the environment (DISCORD_API_URL pointing at the emulator), stopped with SIGTERM.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordEmulator, type Json } from './emulator.ts';
import { baseEnv, buildCorpus, haveModel, repoRoot, SKIP_REASON, TOPIC_DAYS } from './harness.ts';
import { newEntry, TOPICS, type SynthPaper } from '../helpers/synthetic-days.ts';
import { HfEmulator } from '../helpers/hf-emulator.ts';

/** Two made-up papers that appear in today's list on the emulated HF API. */
const FRESH: SynthPaper[] = [
  {
    id: '2611.00001',
    title: 'Fresh Results on Sparse Attention for Long Documents',
    abstract:
      'We study sparse attention patterns for documents of a million tokens and show that a learned routing of queries to blocks keeps accuracy while cutting memory by four times. Experiments cover retrieval, summarization and question answering.',
  },
  {
    id: '2611.00002',
    title: 'A Benchmark of Household Robot Chores',
    abstract:
      'We collect two hundred household chores performed by mobile robots in real homes, from loading dishwashers to folding towels, and release videos, trajectories and a scoring protocol. Current policies finish fewer than a third of the chores.',
  },
];
import { commands } from '../../commands/index.ts';

const NAMES = commands.map((c) => c.data.name);

/** Shaped like a real bot token, so the shape-based redaction is exercised too. */
const TOKEN = 'MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789';

interface Child {
  stdout: string;
  stderr: string;
  lines(): Json[];
  exited: Promise<number | null>;
  kill(sig: NodeJS.Signals): void;
  waitFor(pred: (line: Json) => boolean, timeoutMs: number): Promise<Json>;
}

function run(args: string[], env: Record<string, string>): Child {
  // `node --import tsx` (one process, so signals reach the bot itself), exactly what `npm run cli` runs.
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child: Child = {
    stdout: '',
    stderr: '',
    lines: () =>
      child.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Json),
    exited: once(proc, 'exit').then(([code]) => code as number | null),
    kill: (sig) => proc.kill(sig),
    async waitFor(pred, timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = child.lines().find(pred);
        if (hit) return hit;
        if (Date.now() > end || proc.exitCode !== null)
          throw new Error(`no matching log line; stderr:\n${child.stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
  proc.stdout.on('data', (d: Buffer) => (child.stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (child.stderr += d.toString()));
  return child;
}

describe.skipIf(!haveModel)(
  `serve and deploy-commands as processes${haveModel ? '' : ` [skipped: ${SKIP_REASON}]`}`,
  () => {
    let corpus: Awaited<ReturnType<typeof buildCorpus>>;
    let emu: DiscordEmulator;
    let hf: HfEmulator;
    let env: Record<string, string>;

    beforeAll(async () => {
      corpus = await buildCorpus();
      emu = await DiscordEmulator.start({ token: TOKEN, callbackDeadlineMs: 3000 });
      // The HF API as serve's first fetch sees it: today's list has two new papers.
      hf = await HfEmulator.start({
        papers: new Map([
          [
            new Date().toISOString().slice(0, 10),
            [
              newEntry(FRESH[0]!, new Date().toISOString().slice(0, 10)),
              newEntry(FRESH[1]!, new Date().toISOString().slice(0, 10)),
            ],
          ],
        ]),
      });
      env = baseEnv({
        HF_ENDPOINT: hf.endpoint,
        DISCORD_TOKEN: TOKEN,
        DISCORD_APPLICATION_ID: emu.applicationId,
        DISCORD_GUILD_ID: emu.defaults.guildId,
        DISCORD_API_URL: emu.apiBase,
        DATA_DIR: corpus.dataDir,
      });
    }, 60_000);

    afterAll(async () => {
      await emu?.close();
      await hf?.close();
      await corpus?.cleanup();
    });

    it('deploy-commands registers in the guild; serve starts from the environment, answers, logs JSON lines without the token, and stops cleanly on SIGTERM', async () => {
      // Both processes start side by side (their start-up is most of the time); interactions wait for both.
      const deploy = run(['scripts/deploy-commands.ts'], env);
      const child = run(['src/cli.ts', 'serve'], env);
      try {
        expect(await deploy.exited).toBe(0);
        expect(deploy.stdout.trim()).toBe(
          `registered ${NAMES.length} commands (${NAMES.map((n) => `/${n}`).join(', ')}) in guild ${emu.defaults.guildId}`,
        );
        expect(emu.commands(emu.defaults.guildId).map((c) => c.name)).toEqual(NAMES);
        expect(emu.commands()).toEqual([]);
        const put = emu.requestsMatching({ method: 'PUT' })[0]!;
        expect(put.path).toBe(`/applications/${emu.applicationId}/guilds/${emu.defaults.guildId}/commands`);
        expect(put.headers.authorization).toBe(`Bot ${TOKEN}`);

        const ready = await child.waitFor((l) => l.event === 'ready', 30_000);
        // On start, serve runs the fetch job once: the recent days are fetched and today's new papers indexed.
        const fetched = await child.waitFor((l) => l.event === 'fetch.done', 30_000);
        expect(fetched).toMatchObject({ level: 'info', added: 2, failed: 0 });
        expect(new Set(hf.requests.filter((r) => r.path === '/api/daily_papers').map((r) => r.query.date)).size).toBe(
          8,
        );
        expect(ready).toMatchObject({ level: 'info', api: emu.apiBase, guilds: 1, application: emu.applicationId });
        // No registration on start: that is deploy-commands' job.
        expect(emu.requestsMatching({ method: 'PUT' })).toHaveLength(1);

        // A second serve on the same data dir refuses, with one clear line, before it connects to anything.
        const gatewayCalls = emu.requestsMatching({ method: 'GET', path: '/gateway/bot' }).length;
        expect(gatewayCalls).toBeGreaterThan(0); // the first serve's: the count below is a real one
        const second = run(['src/cli.ts', 'serve'], env);
        expect(await second.exited).toBe(1);
        expect(second.stderr.trim()).toMatch(
          /^error: Another serve is running on .* \(pid \d+ on .*\)\. Stop it first/,
        );
        expect(second.stderr).not.toMatch(/\n\s+at /); // no stack trace
        expect(emu.requestsMatching({ method: 'GET', path: '/gateway/bot' })).toHaveLength(gatewayCalls);

        const paper = emu.interact(emu.chatInput('paper', { id_or_title: TOPICS.code.id }));
        const cb = await paper.callback(5000);
        expect(cb.body.data.embeds[0]).toMatchObject({
          title: TOPICS.code.title,
          fields: expect.arrayContaining([{ name: 'Digest day', value: TOPIC_DAYS.code, inline: true }]),
        });

        const ask = emu.interact(
          emu.chatInput('ask', { question: 'which papers predict weather with graph networks?' }),
        );
        expect((await ask.callback(3000)).body.type).toBe(5);
        const edit = await ask.editOriginal(15_000);
        expect(edit.body.embeds[0].description).toContain(`](https://huggingface.co/papers/${TOPICS.weather.id})`);
        expect(edit.body.allowed_mentions).toMatchObject({ parse: [] });

        // A login token must never reach the logs, nor a REST request log (it's in the Authorization header only).
        await child.waitFor((l) => l.event === 'interaction' && l.command === 'ask', 5000);
        child.kill('SIGTERM');
        expect(await Promise.race([child.exited, new Promise((r) => setTimeout(() => r('hung'), 15_000))])).toBe(0);
        expect(child.lines().filter((l) => l.level !== 'info')).toEqual([]); // no warnings: commands found in the guild
        const events = child.lines().map((l) => l.event);
        expect(events).toEqual(expect.arrayContaining(['warm', 'ready', 'interaction', 'shutdown', 'stopped']));
        expect(child.lines().find((l) => l.event === 'shutdown')).toMatchObject({ signal: 'SIGTERM' });
        expect(child.stderr).not.toContain(TOKEN);
        // Nor any file the bot keeps (database, lock, backups, vectors).
        for (const f of readdirSync(corpus.dataDir, { recursive: true }) as string[]) {
          const file = path.join(corpus.dataDir, f);
          if (statSync(file).isFile()) expect(readFileSync(file).includes(TOKEN), f).toBe(false);
        }
        expect(child.stderr).not.toContain(TOKEN.split('.')[2]);
        expect(emu.unknownRoutes).toEqual([]);
        expect(emu.internalErrors).toEqual([]);
        // The gateway was closed by the bot (a clean close ends the session).
        expect(emu.gatewaySessions).toHaveLength(0);
      } finally {
        child.kill('SIGKILL');
      }
    }, 60_000);

    it('npm start runs the bot, and a SIGTERM sent to npm (a process manager, docker stop) reaches its graceful shutdown', async () => {
      const proc = spawn('npm', ['start', '--silent'], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = once(proc, 'exit');
      try {
        const end = Date.now() + 30_000;
        while (!stderr.includes('"event":"ready"') && Date.now() < end && proc.exitCode === null)
          await new Promise((r) => setTimeout(r, 20));
        expect(stderr).toContain('"event":"ready"');
        proc.kill('SIGTERM'); // to npm itself, as `docker stop` signals PID 1
        const [code] = (await Promise.race([exited, new Promise((r) => setTimeout(() => r(['hung']), 15_000))])) as [
          unknown,
        ];
        expect(stderr).toMatch(/"event":"shutdown","signal":"SIGTERM"/);
        expect(stderr).toContain('"event":"stopped"');
        expect(code).toBe(0);
      } finally {
        proc.kill('SIGKILL');
      }
    }, 60_000);
  },
);
