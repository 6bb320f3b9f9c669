/**
 * What a slash-command module (commands/*.ts) provides, and what its handlers get to work with. Handlers stay
 * thin: they read options, call the app, and hand the result to present.ts.
 */
import { UserFacingError } from '../errors.ts';
import type {
  AutocompleteInteraction,
  ButtonInteraction,
  ChatInputCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { LimitFunction } from 'p-limit';
import type { RecentAnswers } from '../answer/follow-up.ts';
import type { Asker } from '../answer/types.ts';
import type { Paper } from '../types.ts';
import type { App } from '../app.ts';
import type { Cooldown } from './cooldown.ts';
import type { Logger } from '../log.ts';
import type { PageTimeouts } from './paginate.ts';

export interface BotContext {
  app: App;
  logger: Logger;
  /** The registered commands, in order, for /help and /about. */
  commands: readonly { name: string; description: string }[];
  /** The answerer (built once, on first use). */
  asker(): Promise<Asker>;
  /** Caps concurrent answers; beyond the cap, questions wait (already deferred) in order. */
  answerLimit: LimitFunction;
  /** Per-user /ask cooldown. */
  askCooldown: Cooldown;
  /** Each person's last answer per channel (its papers), for follow-ups such as "the second one". */
  recentAnswers: RecentAnswers<Paper[]>;
  /** Disables pagination buttons after a while. */
  pages: PageTimeouts;
  /** The current time (for `today` in date options). */
  now(): Date;
  /** Resolves when no interaction awaits its acknowledgement: heavy work calls it first (see acks.ts). */
  acksFirst(): Promise<void>;
}

export interface BotCommand {
  /** The definition registered with Discord (SlashCommandBuilder#toJSON()). */
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, ctx: BotContext): Promise<void>;
  /** Buttons whose custom_id starts with `<command name>:`. */
  button?(interaction: ButtonInteraction, ctx: BotContext): Promise<void>;
}

/** A problem with what the user asked for (a bad date, an unknown paper): shown to them as is, privately. */
export class UserError extends UserFacingError {
  override name = 'UserError';
}
