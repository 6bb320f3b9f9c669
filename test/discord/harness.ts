/**
 * Test harness for the bot: a small synthetic digest (made-up papers, none copied from real ones) ingested
 * once per test file with the static model from ../shared, the Discord emulator on 127.0.0.1, and the bot
 * built exactly as `serve` builds it (createBot from an App whose config points DISCORD_API_URL at the
 * emulator). Commands are registered with the real deploy-commands code first, so the emulator builds
 * interactions against the registered definitions and validates them like Discord.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createBot, type Bot, type BotOptions } from '../../src/discord/bot.ts';
import { createLogger } from '../../src/log.ts';
import { deployCommands } from '../../scripts/deploy-commands.ts';
import {
  generateCorpus,
  newEntry,
  TOPIC_DAYS,
  TOPICS,
  writeDays,
  type SynthPaper,
  type TopicKey,
} from '../helpers/synthetic-days.ts';
import { DiscordEmulator, type DiscordEmulatorOptions, type Json, type RecordedRequest } from './emulator.ts';

import { staticDir as staticModelDir } from '../helpers/shared.ts';

export { haveModel, repoRoot, SKIP_REASON } from '../helpers/shared.ts';
export { staticModelDir };

export const LATEST_DAY = '2025-03-11';
export { TOPIC_DAYS };

/** A made-up paper whose text tries everything that must not work in Discord. */
export const HOSTILE: SynthPaper = {
  id: '2503.00199',
  title: 'Pinging @everyone With *Markdown* (and <think> Tags) in Abstracts',
  abstract:
    'Hello @everyone and @here, this abstract about abstract sanitization tries <@123456789012345678> and <@&223456789012345678> ' +
    'mentions, a [masked link](https://evil.example/x) and **bold** __underline__ ||spoiler|| text. <think>secret reasoning ' +
    'that must never show</think> \u202eWe study how sanitization\u0000 of abstracts keeps chat servers safe from injected markup. ' +
    'Sanitization keeps formatting inert.',
  upvotes: 1,
  aiSummary: 'Sanitization of abstracts @everyone <think>hidden</think> keeps **markup** inert.',
  githubRepo: 'https://github.com/example/sanitize',
  projectPage: 'javascript:alert(document.domain)',
};

/** The digest for tests: the eight topic papers, the hostile one, and 60 generated papers on 2025-02 days. */
export function testDays(): Map<string, Record<string, unknown>[]> {
  const days = generateCorpus({ since: '2025-02-03', days: 3, perDay: 20, seed: 11 });
  for (const key of Object.keys(TOPICS) as TopicKey[]) {
    const day = TOPIC_DAYS[key];
    const p: SynthPaper = { ...TOPICS[key], upvotes: 10 + Object.keys(TOPICS).indexOf(key) };
    if (key === 'draft')
      Object.assign(p, {
        githubRepo: 'https://github.com/example/draft-verify',
        aiSummary: 'A small proposal network drafts tokens that a large model verifies in one pass.',
      });
    days.set(day, [...(days.get(day) ?? []), newEntry(p, day)]);
  }
  // Ten more papers on the latest day, so its digest has two pages.
  const extra = generateCorpus({ since: LATEST_DAY, days: 1, perDay: 10, seed: 5, first: 500 }).get(LATEST_DAY)!;
  days.set(LATEST_DAY, [...(days.get(LATEST_DAY) ?? []), ...extra, newEntry(HOSTILE, LATEST_DAY)]);
  return days;
}

/** Builds the test digest in a temp dir (once per file); returns the data dir. */
export async function buildCorpus(): Promise<{ dataDir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'discord-bot-test-'));
  const daysDir = path.join(root, 'days');
  const dataDir = path.join(root, 'data');
  await writeDays(daysDir, testDays());
  const app = new App(loadConfig(baseEnv(), { dataDir }));
  try {
    await app.ingestFrom(daysDir);
  } finally {
    app.close();
  }
  return { dataDir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** The environment every test app gets: local model, and a closed port for the HF API (nothing may go out). */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { EMBEDDINGS_MODEL_DIR: staticModelDir, HF_ENDPOINT: 'http://127.0.0.1:9', ...extra };
}

export interface Harness {
  emu: DiscordEmulator;
  app: App;
  bot: Bot;
  /** Structured log lines the bot wrote (parsed). */
  logs: Json[];
  rawLogs: string[];
  close(): Promise<void>;
}

export async function startHarness(o: {
  dataDir: string;
  env?: Record<string, string>;
  emulator?: DiscordEmulatorOptions;
  bot?: Omit<BotOptions, 'app' | 'logger'>;
  /** Register the commands first, as `npm run deploy-commands` does (default true). */
  deploy?: boolean;
}): Promise<Harness> {
  // Discord's own deadline: an interaction not acknowledged within 3 s is gone (10062).
  const emu = await DiscordEmulator.start({ callbackDeadlineMs: 3000, heartbeatIntervalMs: 500, ...o.emulator });
  const env = baseEnv({
    DISCORD_TOKEN: emu.token,
    DISCORD_APPLICATION_ID: emu.applicationId,
    DISCORD_API_URL: emu.apiBase,
    ...o.env,
  });
  const app = new App(loadConfig(env, { dataDir: o.dataDir }));
  if (o.deploy !== false) await deployCommands(app.config, { rest: { globalRequestsPerSecond: 1e6 } });
  const rawLogs: string[] = [];
  const logs: Json[] = [];
  const logger = createLogger({
    level: 'debug',
    secrets: [app.config.discord.token],
    write: (line) => {
      rawLogs.push(line);
      logs.push(JSON.parse(line) as Json);
    },
  });
  const bot = createBot({
    app,
    logger,
    ...o.bot,
    // The only test-specific client option: lift discord.js's client-side 50 requests/s cap (G1).
    clientOptions: {
      ...o.bot?.clientOptions,
      rest: { globalRequestsPerSecond: 1e6, timeout: 5000, ...o.bot?.clientOptions?.rest },
    },
  });
  await bot.start();
  return {
    emu,
    app,
    bot,
    logs,
    rawLogs,
    async close() {
      await bot.stop();
      await emu.close();
      app.close();
    },
  };
}

/** Requests that carry a message body the bot sent (replies, edits, follow-ups, updates). */
export function messageBodies(emu: DiscordEmulator): { req: RecordedRequest; body: Json }[] {
  const out: { req: RecordedRequest; body: Json }[] = [];
  for (const r of emu.requests) {
    if (r.path.endsWith('/callback') && r.body?.data && [4, 7].includes(r.body.type))
      out.push({ req: r, body: r.body.data });
    else if (r.path.startsWith('/webhooks/') && (r.method === 'PATCH' || r.method === 'POST'))
      out.push({ req: r, body: r.body });
    else if (r.path.startsWith('/channels/') && r.method === 'POST' && r.path.endsWith('/messages'))
      out.push({ req: r, body: r.body });
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
