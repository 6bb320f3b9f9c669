/**
 * `npm run cli -- serve`: runs the bot until SIGINT or SIGTERM, then shuts it down cleanly (running answers
 * finish, the gateway is closed, the database is closed by the caller).
 */
import type { App } from '../app.ts';
import { ConfigError, type Config } from '../config.ts';
import { createBot, type BotOptions } from './bot.ts';
import { createLogger, errorFields, type Logger } from '../log.ts';
import { discordHighlightsPoster } from './highlights-post.ts';
import { deliverPending } from '../subscriptions/delivery.ts';
import { acquireInstanceLock } from '../store/instance-lock.ts';
import { discordSubscriptionSender } from './subscription-sender.ts';
import { startSchedules, type Schedules } from '../schedule/schedules.ts';

export interface ServeOptions extends Omit<BotOptions, 'app' | 'logger'> {
  logger?: Logger;
  signals?: NodeJS.Signals[];
}

/** The settings `serve` cannot run without, named in one message. */
export function checkBotConfig(config: Config): void {
  const d = config.discord;
  const missing = [
    !d.token && 'DISCORD_TOKEN (the bot token)',
    !d.applicationId && 'DISCORD_APPLICATION_ID (the application id)',
  ].filter(Boolean);
  if (missing.length) {
    throw new ConfigError(
      `serve needs ${missing.join(' and ')}. Find them in the Discord developer portal (your application: "Bot" and "General Information"), ` +
        'set them in the environment, register the commands once with `npm run deploy-commands`, then start the bot again.',
    );
  }
}

export async function serve(app: App, opts: ServeOptions = {}): Promise<void> {
  checkBotConfig(app.config);
  // One bot per data dir (instance-lock.ts); refused before anything connects.
  const lock = acquireInstanceLock(app.config.dataDir);
  const logger = opts.logger ?? createLogger({ secrets: [app.config.discord.token] });
  const bot = createBot({ ...opts, app, logger });
  let schedules: Schedules | undefined;
  const onRejection = (err: unknown) => logger.error('unhandled_rejection', errorFields(err));
  process.on('unhandledRejection', onRejection);
  const signals = opts.signals ?? ['SIGINT', 'SIGTERM'];
  let received: NodeJS.Signals | undefined;
  let onSignal: (sig: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (sig) => {
      if (received) {
        logger.warn('forced_exit', { signal: sig });
        process.exit(130); // a second signal while shutting down: the person means it
      }
      received = sig;
      resolve(sig);
    };
  });
  for (const s of signals) process.on(s, onSignal);
  try {
    // A signal during login is acted on once login settles: destroying a client mid-IDENTIFY can leave it reconnecting.
    await bot.start();
    // Fetching, highlights and subscriptions start once the bot is ready: the first fetch catches up on missed
    // days, then posts what is due; commands are answered meanwhile.
    schedules = startSchedules({
      app,
      poster: discordHighlightsPoster(bot.client),
      log: logger,
      // Each digest day, once its list is complete and ingested: every subscriber's matches, one message each.
      deliver: async ({ recover }) => {
        const { subscriptions, deliveries, store: papers } = app;
        const matcher = await app.topicMatcher();
        const sender = discordSubscriptionSender(bot.client);
        await deliverPending({ subscriptions, deliveries, papers, matcher, sender, log: logger }, { recover });
      },
    });
    const sig = await stopped;
    logger.info('shutdown', { signal: sig });
  } finally {
    await schedules?.stop();
    await bot.stop();
    lock.release();
    for (const s of signals) process.off(s, onSignal);
    process.off('unhandledRejection', onRejection);
  }
}
