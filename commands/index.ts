/** Every slash command of the bot, in the order they are registered. */
import type { BotCommand } from '../src/discord/command.ts';
import * as about from './about.ts';
import * as ask from './ask.ts';
import * as digest from './digest.ts';
import * as help from './help.ts';
import * as highlights from './highlights.ts';
import * as paper from './paper.ts';
import * as search from './search.ts';
import * as similar from './similar.ts';
import * as subscribe from './subscribe.ts';
import * as subscriptions from './subscriptions.ts';
import * as unsubscribe from './unsubscribe.ts';

export const commands: BotCommand[] = [
  ask,
  search,
  paper,
  digest,
  similar,
  about,
  subscribe,
  unsubscribe,
  subscriptions,
  highlights,
  help,
];
