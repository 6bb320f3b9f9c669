/**
 * The daily highlights in Discord: the embed, and a `HighlightsPoster` that sends it to a channel with the real
 * client. The footer carries the digest day, which is how a post that a crash left unrecorded is found again.
 */
import { DiscordAPIError, type APIEmbed, type Client } from 'discord.js';
import type { Highlights } from '../highlights/build.ts';
import { PermanentPostError, type HighlightsPoster } from '../highlights/scheduler.ts';
import { escapeText, maskedLink, plainText, truncate } from './escape.ts';
import { COLORS } from './present.ts';
import { NO_MENTIONS } from './reply.ts';

const FOOTER = 'HF Daily Papers highlights';

/** The footer marker of a day's post. */
export function highlightsMarker(day: string): string {
  return `${FOOTER} · ${day}`;
}

export function highlightsEmbed(h: Highlights): APIEmbed {
  const lines = h.papers.map((p, i) => {
    const code = p.paper.githubUrl ? ` · ${maskedLink('code', p.paper.githubUrl)}` : '';
    return `**${i + 1}.** ${maskedLink(truncate(p.paper.title, 200), p.url)}\n${escapeText(truncate(p.summary, 350))}\n▲ ${p.paper.upvotes}${code}`;
  });
  const embed: APIEmbed = {
    title: `Daily Papers highlights: ${h.date}`,
    url: `https://huggingface.co/papers/date/${h.date}`,
    description: truncate(lines.join('\n\n'), 4000),
    color: COLORS.answer,
    footer: { text: plainText(`${highlightsMarker(h.date)} · top ${h.papers.length} of ${h.total} papers by upvotes`) },
  };
  if (h.themes.length) embed.fields = [{ name: 'Themes', value: escapeText(truncate(h.themes.join(' · '), 1000)) }];
  return embed;
}

/** Discord's answers that mean the channel will not take posts: unknown channel, missing access or permissions. */
function permanent(err: unknown): PermanentPostError | undefined {
  if (!(err instanceof DiscordAPIError)) return undefined;
  if (err.status === 404 || err.code === 10003)
    return new PermanentPostError('gone', `channel not found (${err.code})`);
  if (err.status === 403 || err.code === 50001 || err.code === 50013)
    return new PermanentPostError('forbidden', `missing access (${err.code})`);
  return undefined;
}

export function discordHighlightsPoster(client: Client): HighlightsPoster {
  async function channel(channelId: string) {
    const ch = await client.channels.fetch(channelId);
    if (!ch?.isSendable()) throw new PermanentPostError('forbidden', 'not a channel the bot can post in');
    return ch;
  }
  return {
    async send(channelId, h) {
      try {
        const ch = await channel(channelId);
        const msg = await ch.send({ embeds: [highlightsEmbed(h)], allowedMentions: NO_MENTIONS });
        return msg.id;
      } catch (err) {
        throw permanent(err) ?? err;
      }
    },
    async findPosted(channelId, day) {
      const ch = await channel(channelId);
      if (!('messages' in ch)) return undefined;
      const recent = await ch.messages.fetch({ limit: 50 });
      const marker = highlightsMarker(day);
      return recent.find(
        (m) => m.author.id === client.user?.id && m.embeds.some((e) => e.footer?.text?.startsWith(marker)),
      )?.id;
    },
  };
}
