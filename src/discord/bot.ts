/**
 * The bot: a discord.js client wired to the command modules through the router. Built from the app (its
 * configuration supplies the token, the REST base and the limits), so production and tests run the same code;
 * tests only add client options (e.g. a higher client-side request rate).
 *
 *   const bot = createBot({ app });
 *   await bot.start();   // logs in, resolves once the gateway is ready
 *   ...
 *   await bot.stop();    // finishes running handlers (bounded), then disconnects
 */
import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  RESTEvents,
  type ChatInputCommandInteraction,
  type ClientOptions,
  type Interaction,
} from 'discord.js';
import pLimit from 'p-limit';
import { redactUrl } from '../http.ts';
import type { App } from '../app.ts';
import { ConfigError } from '../config.ts';
import { UserFacingError } from '../errors.ts';
import { commands as allCommands } from '../../commands/index.ts';
import { AckTracker, callbackInteractionId } from './acks.ts';
import type { BotCommand, BotContext } from './command.ts';
import { Cooldown } from './cooldown.ts';
import { RecentAnswers } from '../answer/follow-up.ts';
import type { Paper } from '../types.ts';
import { truncate } from './escape.ts';
import { createLogger, errorFields, type Logger } from '../log.ts';
import { PageTimeouts } from './paginate.ts';
import { NO_MENTIONS } from './reply.ts';
import { createRouter, type Router } from './router.ts';

export interface BotOptions {
  app: App;
  /** Extra client options (merged over the defaults; `rest` is merged key by key over `{ api: DISCORD_API_URL }`). */
  clientOptions?: Partial<ClientOptions>;
  logger?: Logger;
  /** The command modules (default: all of commands/). */
  commands?: BotCommand[];
  /** Pagination buttons are disabled this long after their last use (default 10 minutes; tokens live 15). */
  paginationTimeoutMs?: number;
  /** How long stop() waits for running handlers (default 10 s). */
  shutdownGraceMs?: number;
  /** The clock for date options (`today`). */
  now?: () => Date;
}

export interface Bot {
  readonly client: Client;
  readonly context: BotContext;
  readonly router: Router;
  /** Logs in and resolves once the client is ready to receive interactions. */
  start(): Promise<void>;
  /** Stops taking interactions, lets running ones finish (bounded), disconnects. Idempotent. */
  stop(): Promise<void>;
}

export const DEFAULT_PAGINATION_TIMEOUT_MS = 10 * 60_000;

export function createBot(opts: BotOptions): Bot {
  const { app } = opts;
  const cfg = app.config.discord;
  const logger = opts.logger ?? createLogger({ secrets: [cfg.token] });
  const { rest: restOverrides, ...clientOverrides } = opts.clientOptions ?? {};
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    allowedMentions: NO_MENTIONS,
    ...clientOverrides,
    rest: { api: cfg.apiUrl, ...restOverrides },
  });

  const acks = new AckTracker();
  const context: BotContext = {
    app,
    logger,
    commands: (opts.commands ?? allCommands).map((c) => ({ name: c.data.name, description: c.data.description })),
    asker: () => app.asker(),
    answerLimit: pLimit(cfg.maxConcurrentAnswers),
    askCooldown: new Cooldown(cfg.askCooldownSeconds),
    recentAnswers: new RecentAnswers<Paper[]>(),
    pages: new PageTimeouts(opts.paginationTimeoutMs ?? DEFAULT_PAGINATION_TIMEOUT_MS, logger),
    now: opts.now ?? (() => new Date()),
    acksFirst: () => acks.quiet(),
  };

  /**
   * After every command: a notice waiting for this user (their DMs were closed when their topic matches were sent,
   * say) is shown privately, once. Running a command also means they are back: the next digest tries DMs again.
   */
  async function tellUser(i: ChatInputCommandInteraction): Promise<void> {
    const subs = app.subscriptions;
    const s = subs.subscriber(i.user.id); // one read; most users have nothing waiting
    if (!s || (!s.notice && !s.dmClosedAt)) return;
    const notice = subs.checkIn(i.user.id);
    if (!notice) return;
    const payload = {
      content: truncate(notice, 1900),
      flags: MessageFlags.Ephemeral as const,
      allowedMentions: NO_MENTIONS,
    };
    try {
      if (i.replied || i.deferred) await i.followUp(payload);
      else await i.reply(payload);
    } catch (err) {
      subs.addNotice(i.user.id, notice); // not seen: told next time
      throw err;
    }
  }

  const router = createRouter(opts.commands ?? allCommands, context, { afterCommand: tellUser });

  let accepting = false;
  let started = false;
  let stopped: Promise<void> | undefined;

  client.on(Events.InteractionCreate, (i: Interaction) => {
    if (!accepting) return;
    acks.received(i.id);
    void router.handle(i).finally(() => acks.settled(i.id));
  });
  client.rest.on(RESTEvents.Response, (req) => {
    const id = callbackInteractionId(req.path);
    if (id) acks.settled(id);
  });
  client.on(Events.Error, (err) => logger.error('client_error', errorFields(err)));
  client.on(Events.Warn, (message) => logger.warn('client_warning', { message }));
  client.on(Events.ShardDisconnect, (ev, shard) => logger.warn('gateway_disconnect', { shard, code: ev.code }));
  client.on(Events.ShardResume, (shard, replayed) => logger.info('gateway_resumed', { shard, replayed }));
  client.rest.on(RESTEvents.RateLimited, (info) =>
    logger.warn('rate_limited', {
      route: info.route,
      method: info.method,
      global: info.global,
      retryAfterMs: info.retryAfter,
    }),
  );

  let warming: Promise<void> = Promise.resolve();
  /** Load the model, the vectors and the answerer before the first question needs them. */
  async function warmUp(): Promise<void> {
    const t0 = performance.now();
    try {
      await app.retriever();
      await context.asker();
      logger.info('warm', { ms: Math.round(performance.now() - t0) });
      // A partial index answers with BM25 alone where vectors are missing: the operator should know.
      const vectors = await app.vectors();
      const chunks = app.store.stats().chunks;
      if (vectors.size < chunks || vectors.damaged.length) {
        logger.warn('index_partial', {
          chunks,
          vectors: vectors.size,
          damaged: vectors.damaged.length,
          hint: 'run `npm run cli -- doctor --repair` (or the next ingest) to embed the missing chunks',
        });
      }
    } catch (err) {
      logger.warn('warm_up_failed', {
        ...errorFields(err),
        hint: 'commands that need the index will report errors until it works',
      });
    }
  }

  /** Warns (does not fail) when the commands were never registered: registration is deploy-commands' job. */
  async function checkRegistered(): Promise<void> {
    try {
      const global = await client.application!.commands.fetch();
      const guild = cfg.guildId ? await client.application!.commands.fetch({ guildId: cfg.guildId }) : undefined;
      const registered = new Set([...global.values(), ...(guild?.values() ?? [])].map((c) => c.name));
      const missing = [...router.commands.keys()].filter((n) => !registered.has(n));
      if (missing.length) {
        logger.warn('commands_not_registered', {
          missing,
          hint: 'run `npm run deploy-commands` (with DISCORD_GUILD_ID for one guild, at once)',
        });
      }
    } catch (err) {
      logger.warn('commands_check_failed', errorFields(err));
    }
  }

  return {
    client,
    context,
    router,
    async start() {
      if (!cfg.token) throw new ConfigError('DISCORD_TOKEN is not set: the bot cannot log in to Discord.');
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      accepting = true;
      const login = client.login(cfg.token);
      started = true;
      warming = warmUp();
      try {
        await Promise.all([login, ready, warming]);
      } catch (err) {
        throw startupError(err, cfg.apiUrl);
      }
      if (cfg.applicationId && client.application && client.application.id !== cfg.applicationId) {
        logger.warn('application_mismatch', { configured: cfg.applicationId, actual: client.application.id });
      }
      logger.info('ready', {
        user: client.user?.tag,
        application: client.application?.id,
        guilds: client.guilds.cache.size,
        api: redactUrl(cfg.apiUrl).replace(/\/$/, ''), // a REST proxy URL may carry credentials
        commands: [...router.commands.keys()],
      });
      await checkRegistered();
    },
    stop() {
      stopped ??= (async () => {
        accepting = false;
        context.pages.clear();
        const grace = opts.shutdownGraceMs ?? 10_000;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), grace)));
        const outcome = await Promise.race([router.idle().then(() => 'idle' as const), timeout]);
        clearTimeout(timer);
        if (outcome === 'timeout') logger.warn('shutdown_abandoned', { running: router.inFlight });
        context.answerLimit.clearQueue();
        await warming; // the warm-up reads the database: let it finish before the app closes it
        if (started) await client.destroy();
        logger.info('stopped', {});
      })();
      return stopped;
    },
  };
}

/** Discord refused to let the bot start, for a reason a person can fix; the message says how. */
export class DiscordStartError extends UserFacingError {
  override name = 'DiscordStartError';
}

/** The common start-up failures in words, with what to do; anything else is passed on as it is. */
export function startupError(err: unknown, apiUrl: string): unknown {
  const e = err as { code?: unknown; message?: string; cause?: { code?: string }; status?: number };
  const text = `${e?.message ?? ''} ${e?.cause?.code ?? ''}`;
  if (e?.code === 'TokenInvalid' || /\b4004\b|Authentication failed|401: Unauthorized/i.test(text)) {
    return new DiscordStartError(
      'Discord refused the bot token (DISCORD_TOKEN): it is wrong, revoked or was reset. In the Discord Developer ' +
        'Portal, open your application, Bot, Reset Token, and put the new token in DISCORD_TOKEN.',
    );
  }
  if (e?.code === 'DisallowedIntents' || /\b4014\b|disallowed intent/i.test(text)) {
    return new DiscordStartError(
      'Discord refused the gateway intents the bot asks for. In the Developer Portal, Bot, Privileged Gateway ' +
        'Intents, enable the ones the bot needs (it asks only for Guilds), or check the application.',
    );
  }
  const net = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH)\b/.exec(text)?.[1];
  if (net || /fetch failed|Connect Timeout|socket hang up/i.test(text)) {
    return new DiscordStartError(
      `Could not reach Discord at ${redactUrl(apiUrl).replace(/\/$/, '')} (${net ?? e?.message ?? 'network error'}). ` +
        'Check the network connection, or DISCORD_API_URL if you use a REST proxy; the bot can start once it is reachable.',
    );
  }
  return err;
}
