/**
 * The common ways a start fails, as a person sees them: one message saying what is wrong and what to do (a
 * UserFacingError, printed without a stack), for a wrong token and an unreachable Discord; the token is never in
 * what is logged or shown.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createBot } from '../../src/discord/bot.ts';
import { UserFacingError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { closedPort } from '../helpers/net.ts';
import { DiscordEmulator } from './emulator.ts';
import { baseEnv, haveModel, SKIP_REASON } from './harness.ts';

const WRONG = 'MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.wrongwrongwrongwrongwrongwrongwrong12';

describe.skipIf(!haveModel)(`start-up failures${haveModel ? '' : ` [skipped: ${SKIP_REASON}]`}`, () => {
  let emu: DiscordEmulator;
  let dir: string;
  beforeAll(async () => {
    emu = await DiscordEmulator.start();
    dir = await mkdtemp(path.join(tmpdir(), 'startup-'));
  });
  afterAll(async () => {
    await emu?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>) {
    const app = new App(loadConfig(baseEnv(env), { dataDir: dir }));
    const lines: string[] = [];
    const bot = createBot({ app, logger: createLogger({ write: (l) => lines.push(l), secrets: [env.DISCORD_TOKEN] }) });
    try {
      return {
        error: await bot.start().then(
          () => undefined,
          (e: unknown) => e,
        ),
        lines,
      };
    } finally {
      await bot.stop(); // waits for the warm-up before the database closes
      app.close();
    }
  }

  it('a wrong token: what to do, no stack, no token', async () => {
    const { error, lines } = await start({ DISCORD_TOKEN: WRONG, DISCORD_API_URL: emu.apiBase });
    expect(error).toBeInstanceOf(UserFacingError);
    expect((error as Error).message).toMatch(/^Discord refused the bot token \(DISCORD_TOKEN\).*Reset Token/);
    expect(`${(error as Error).message}${lines.join('\n')}`).not.toContain(WRONG);
  });

  it('an unreachable Discord: where it tried and what to check', async () => {
    const port = await closedPort();
    const { error } = await start({ DISCORD_TOKEN: WRONG, DISCORD_API_URL: `http://127.0.0.1:${port}/api` });
    expect(error).toBeInstanceOf(UserFacingError);
    expect((error as Error).message).toMatch(
      new RegExp(`^Could not reach Discord at http://127\\.0\\.0\\.1:${port}/api \\(ECONNREFUSED\\).*DISCORD_API_URL`),
    );
  });
});
