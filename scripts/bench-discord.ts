/**
 * Discord load test: 200 `/ask` interactions from 50 users, dispatched at once through the Discord emulator on
 * 127.0.0.1 to the real bot (createBot, production client options), over the real corpus in ../shared. Reports
 * the time from INTERACTION_CREATE to the deferral (Discord drops interactions not acknowledged within 3 s) and
 * to the final edit, and checks every interaction got its answer.
 *
 *   npm run bench:discord                 standalone (ingests ../shared into a temp dir first, ~8 s)
 *   await benchDiscord({ dataDir, line }) from scripts/bench.ts, on the index it already built
 *
 * The per-user cooldown is set to 0 here (50 users asking 4 questions at once would otherwise mostly be told to
 * wait; the cooldown has its own test). MAX_CONCURRENT_ANSWERS keeps its configured value (default 4).
 * The emulator runs in the same process, so its own work counts against the bot's figures.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createBot } from '../src/discord/bot.ts';
import { createLogger } from '../src/log.ts';
import { DiscordEmulator, type InteractionHandle } from '../test/discord/emulator.ts';
import { deployCommands } from './deploy-commands.ts';
import { percentile } from './eval/metrics.ts';
import { apiDir, repoRoot, requireShared, staticModelDir } from './shared-data.ts';

export interface DiscordBenchOptions {
  /** An ingested data dir (default: ingest ../shared into a temp dir). */
  dataDir?: string;
  interactions?: number;
  users?: number;
  /** Prints one result line (default: `label value` on stdout). */
  line?: (label: string, value: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface DiscordBenchResult {
  interactions: number;
  users: number;
  /** INTERACTION_CREATE dispatched -> deferral callback received by Discord. */
  deferral: Latency;
  /** INTERACTION_CREATE dispatched -> the answer edited in (PATCH @original answered 200). */
  finalEdit: Latency;
  /** Interactions whose reply ended as an answer embed. */
  answered: number;
  abstained: number;
  wallMs: number;
  /** 10062 (deferred too late), 5xx, unknown routes, handler errors. */
  problems: string[];
  maxConcurrentAnswers: number;
}

const stats = (xs: number[]): Latency => ({
  p50: percentile(xs, 50),
  p95: percentile(xs, 95),
  p99: percentile(xs, 99),
  max: Math.max(...xs),
});
const fmt = (l: Latency) =>
  `p50 ${l.p50.toFixed(0)} ms, p95 ${l.p95.toFixed(0)} ms, p99 ${l.p99.toFixed(0)} ms, max ${l.max.toFixed(0)} ms`;

/** Real questions: the eval sets, cycled. */
function questions(n: number): string[] {
  const qs: string[] = [];
  for (const f of ['answer-questions.json', 'corpus-questions.json']) {
    for (const q of JSON.parse(readFileSync(path.join(repoRoot, 'scripts/eval', f), 'utf8')) as { q: string }[])
      qs.push(q.q);
  }
  return Array.from({ length: n }, (_, i) => qs[i % qs.length]!.slice(0, 500));
}

export async function benchDiscord(opts: DiscordBenchOptions = {}): Promise<DiscordBenchResult> {
  const line = opts.line ?? ((label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`));
  const n = opts.interactions ?? 200;
  const userCount = opts.users ?? 50;
  const baseEnv = {
    ...(opts.env ?? process.env),
    EMBEDDINGS_MODEL_DIR: opts.env?.EMBEDDINGS_MODEL_DIR ?? process.env.EMBEDDINGS_MODEL_DIR ?? staticModelDir,
  };
  let tmp: string | undefined;
  let dataDir = opts.dataDir;
  if (!dataDir) {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'digest-bench-discord-'));
    dataDir = tmp;
    const app = new App(loadConfig(baseEnv, { dataDir }));
    try {
      await app.ingestFrom(apiDir);
    } finally {
      app.close();
    }
  }

  const emu = await DiscordEmulator.start({ callbackDeadlineMs: 3000, heartbeatIntervalMs: 5000 });
  const app = new App(
    loadConfig(
      {
        ...baseEnv,
        DISCORD_TOKEN: emu.token,
        DISCORD_APPLICATION_ID: emu.applicationId,
        DISCORD_API_URL: emu.apiBase,
        ASK_COOLDOWN_SECONDS: '0',
      },
      { dataDir },
    ),
  );
  const problems: string[] = [];
  // Only warnings and errors (a 429, a failed reply) are kept, as problems.
  const logger = createLogger({ level: 'warn', secrets: [emu.token], write: (l) => problems.push(l) });
  const bot = createBot({ app, logger }); // production client options: discord.js' own 50 requests/s cap included
  try {
    await deployCommands(app.config);
    await bot.start();
    const users = Array.from({ length: userCount }, (_, i) => emu.addUser({ username: `bench${i}` }));
    const qs = questions(n);

    // Warm-up: a few questions one at a time (JIT, caches), not counted.
    for (const q of qs.slice(0, 5))
      await emu.interact(emu.chatInput('ask', { question: q }, { user: users[0]! })).editOriginal(30_000);

    const started = performance.now();
    const handles: InteractionHandle[] = [];
    for (let i = 0; i < n; i++)
      handles.push(emu.interact(emu.chatInput('ask', { question: qs[i]! }, { user: users[i % userCount]! })));
    const results = await Promise.all(
      handles.map(async (h) => {
        const cb = await h.callback(10_000);
        const edit = await emu.waitForRequest(
          { method: 'PATCH', path: `/webhooks/:app/${h.token}/messages/@original`, status: 200 },
          120_000,
        );
        return { h, deferral: cb.at - h.state.createdAt, cbStatus: cb.status, final: edit.at - h.state.createdAt };
      }),
    );
    const wallMs = performance.now() - started;

    let answered = 0;
    let abstained = 0;
    for (const r of results) {
      if (r.cbStatus !== 204) problems.push(`deferral answered ${r.cbStatus} for ${r.h.id}`);
      const msg = r.h.state.original;
      const embed = msg?.embeds[0];
      const loading = (msg?.flags ?? 0) & (1 << 7);
      if (embed?.description && !loading) {
        answered += 1;
        if (/^(?:No direct answer|Nothing related in the digest): /.test(embed.title ?? '')) abstained += 1;
      } else problems.push(`no answer for interaction ${r.h.id}`);
    }
    for (const u of emu.unknownRoutes) problems.push(`unknown route ${u}`);
    for (const e of emu.internalErrors) problems.push(`emulator error ${String(e)}`);

    const result: DiscordBenchResult = {
      interactions: n,
      users: userCount,
      deferral: stats(results.map((r) => r.deferral)),
      finalEdit: stats(results.map((r) => r.final)),
      answered,
      abstained,
      wallMs,
      problems,
      maxConcurrentAnswers: app.config.discord.maxConcurrentAnswers,
    };
    line(
      `discord: ${n} /ask from ${userCount} users at once`,
      `${answered}/${n} answered (${abstained} abstentions), ${(wallMs / 1000).toFixed(1)} s wall, ${result.maxConcurrentAnswers} answers at a time`,
    );
    line('discord: time to deferral (limit 3 s)', fmt(result.deferral));
    line('discord: time to final edit', fmt(result.finalEdit));
    if (problems.length) line('discord: problems', `${problems.length}: ${problems.slice(0, 3).join(' | ')}`);
    return result;
  } finally {
    await bot.stop();
    await emu.close();
    app.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('bench-discord.ts')) {
  requireShared('npm run bench:discord');
  console.log(`bench: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}\n`);
  const r = await benchDiscord();
  process.exitCode = r.answered === r.interactions && r.deferral.max < 3000 && !r.problems.length ? 0 : 1;
}
