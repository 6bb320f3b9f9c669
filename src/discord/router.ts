/**
 * Routes interactions to command modules and contains their failures: a user mistake (UserError) becomes a
 * private notice, anything else a friendly private error plus one structured log line; nothing escapes to
 * crash the bot.
 */
import type { ButtonInteraction, ChatInputCommandInteraction, Interaction } from 'discord.js';
import type { BotCommand, BotContext } from './command.ts';
import { UserFacingError } from '../errors.ts';
import { UserError } from './command.ts';
import { escapeText } from './escape.ts';
import { errorFields } from '../log.ts';
import { notify } from './reply.ts';

export const FRIENDLY_ERROR =
  'Sorry, something went wrong while handling that. The error was logged; please try again in a moment.';

function kindOf(i: Interaction): string {
  if (i.isChatInputCommand()) return 'command';
  if (i.isAutocomplete()) return 'autocomplete';
  if (i.isButton()) return 'button';
  return `type${i.type}`;
}

export interface Router {
  handle(interaction: Interaction): Promise<void>;
  readonly commands: ReadonlyMap<string, BotCommand>;
  /** Handlers still running (stop() waits for them). */
  readonly inFlight: number;
  idle(): Promise<void>;
}

export interface RouterHooks {
  /** Runs after every slash command, answered or failed (a notice waiting for the user, say); its failures are logged. */
  afterCommand?(interaction: ChatInputCommandInteraction): Promise<void>;
}

export function createRouter(list: BotCommand[], ctx: BotContext, hooks: RouterHooks = {}): Router {
  const commands = new Map(list.map((c) => [c.data.name, c]));
  const running = new Set<Promise<void>>();

  async function dispatch(i: Interaction): Promise<void> {
    if (i.isChatInputCommand()) {
      const cmd = commands.get(i.commandName);
      if (!cmd) throw new Error(`unknown command /${i.commandName}`);
      await cmd.execute(i, ctx);
      return;
    }
    if (i.isAutocomplete()) {
      const cmd = commands.get(i.commandName);
      if (!cmd?.autocomplete) {
        await i.respond([]);
        return;
      }
      await cmd.autocomplete(i, ctx);
      return;
    }
    if (i.isButton()) {
      const name = i.customId.split(':')[0] ?? '';
      const cmd = commands.get(name);
      if (!cmd?.button) throw new UserError('This button no longer does anything.');
      await cmd.button(i, ctx);
    }
    // other interaction kinds are not used by this bot
  }

  async function fail(i: Interaction, err: unknown, command: string | undefined): Promise<void> {
    const base = { interaction: i.id, kind: kindOf(i), command, user: i.user.id, guild: i.guildId ?? null };
    const forUser = err instanceof UserFacingError;
    if (forUser) ctx.logger.info('user_error', { ...base, message: err.message });
    else ctx.logger.error('handler_error', { ...base, ...errorFields(err) });
    // A UserError is written for Discord (markdown meant); other user-facing messages may quote what was typed.
    const text = err instanceof UserError ? err.message : forUser ? escapeText(err.message) : FRIENDLY_ERROR;
    try {
      if (i.isAutocomplete()) {
        if (!i.responded) await i.respond([]);
      } else if (i.isChatInputCommand() || i.isButton()) {
        await notify(i as ChatInputCommandInteraction | ButtonInteraction, text);
      }
    } catch (replyErr) {
      ctx.logger.error('error_reply_failed', { ...base, ...errorFields(replyErr) });
    }
  }

  async function handle(i: Interaction): Promise<void> {
    const started = performance.now();
    const command =
      i.isChatInputCommand() || i.isAutocomplete()
        ? i.commandName
        : i.isButton()
          ? i.customId.split(':')[0]
          : undefined;
    try {
      await dispatch(i);
      if (!i.isAutocomplete()) {
        ctx.logger.info('interaction', {
          interaction: i.id,
          kind: kindOf(i),
          command,
          user: i.user.id,
          ms: Math.round(performance.now() - started),
        });
      }
    } catch (err) {
      await fail(i, err, command);
    }
    if (hooks.afterCommand && i.isChatInputCommand()) {
      try {
        await hooks.afterCommand(i);
      } catch (err) {
        ctx.logger.error('after_command_failed', { interaction: i.id, command, user: i.user.id, ...errorFields(err) });
      }
    }
  }

  return {
    commands,
    get inFlight() {
      return running.size;
    },
    handle(i) {
      const p = handle(i).finally(() => running.delete(p));
      running.add(p);
      return p;
    },
    async idle() {
      while (running.size) await Promise.allSettled([...running]);
    },
  };
}
