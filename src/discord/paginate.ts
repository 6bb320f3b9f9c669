/**
 * Prev/Next buttons whose custom_id carries the page state: `<command>:<prev|next>:<target page>:<owner id>:<args>`.
 * Any instance of the bot (also after a restart) can serve a click from the id alone. Only the owner (the person
 * who ran the command) may page; the buttons are disabled after a timeout.
 */
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
} from 'discord.js';
import type { Logger } from '../log.ts';
import { errorFields } from '../log.ts';
import { NO_MENTIONS } from './reply.ts';

export interface PageState {
  command: string;
  /** Zero-based page the button leads to. */
  page: number;
  owner: string;
  /** Command-specific state (a date, a paper id, a date range). */
  args: string[];
}

const MAX_CUSTOM_ID = 100;

function encode(command: string, dir: 'prev' | 'next', s: Omit<PageState, 'command'>): string {
  const id = [command, dir, String(s.page), s.owner, ...s.args.map((a) => encodeURIComponent(a))].join(':');
  if (id.length > MAX_CUSTOM_ID) throw new Error(`custom_id too long (${id.length} > ${MAX_CUSTOM_ID}): ${id}`);
  return id;
}

/** Reads a pagination custom_id; undefined when it is not one. */
export function parsePageId(customId: string): PageState | undefined {
  const [command, dir, page, owner, ...args] = customId.split(':');
  if (!command || (dir !== 'prev' && dir !== 'next') || !page || !/^\d+$/.test(page) || !owner) return undefined;
  try {
    return { command, page: Number(page), owner, args: args.map((a) => decodeURIComponent(a)) };
  } catch {
    return undefined;
  }
}

/** The Prev/Next row for page `page` of `pages` (none when everything fits on one page). */
export function pageButtons(
  command: string,
  state: { page: number; pages: number; owner: string; args: string[] },
  opts: { disabled?: boolean } = {},
): ActionRowBuilder<ButtonBuilder>[] {
  if (state.pages <= 1) return [];
  const { page, pages, owner, args } = state;
  return [
    new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder()
        .setCustomId(encode(command, 'prev', { page: Math.max(0, page - 1), owner, args }))
        .setLabel('◀ Prev')
        .setStyle(ButtonStyle.Secondary)
        .setDisabled(Boolean(opts.disabled) || page <= 0),
      new ButtonBuilder()
        .setCustomId(encode(command, 'next', { page: Math.min(pages - 1, page + 1), owner, args }))
        .setLabel('Next ▶')
        .setStyle(ButtonStyle.Secondary)
        .setDisabled(Boolean(opts.disabled) || page >= pages - 1),
    ),
  ];
}

/** Is this click from the person who owns the pages? */
export function isOwner(i: ButtonInteraction, s: PageState): boolean {
  return i.user.id === s.owner;
}

/**
 * Disables the buttons of a paginated message `timeoutMs` after its last use. Each click re-arms the timer with
 * the click's own interaction (whose token is fresh for 15 minutes), so the edit is always allowed.
 */
export class PageTimeouts {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  arm(
    messageId: string,
    interaction: ChatInputCommandInteraction | ButtonInteraction,
    disabledRows: ActionRowBuilder<ButtonBuilder>[],
  ): void {
    this.disarm(messageId);
    if (!disabledRows.length) return;
    const timer = setTimeout(() => {
      this.timers.delete(messageId);
      interaction.editReply({ components: disabledRows, allowedMentions: NO_MENTIONS }).then(
        () => this.logger.debug('pagination_expired', { message: messageId }),
        (err: unknown) => this.logger.warn('pagination_expire_failed', { message: messageId, ...errorFields(err) }),
      );
    }, this.timeoutMs);
    timer.unref();
    this.timers.set(messageId, timer);
  }

  disarm(messageId: string): void {
    const t = this.timers.get(messageId);
    if (t) clearTimeout(t);
    this.timers.delete(messageId);
  }

  /** Pending timers (tests, shutdown). */
  get size(): number {
    return this.timers.size;
  }

  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
