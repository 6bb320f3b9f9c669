/**
 * Sending replies the same safe way everywhere: nothing ever pings (allowedMentions parses nothing, on top of
 * the client-wide default), private notices are ephemeral whatever state the interaction is in.
 */
import {
  MessageFlags,
  type APIEmbed,
  type ActionRowBuilder,
  type ButtonBuilder,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type MessageMentionOptions,
} from 'discord.js';

export const NO_MENTIONS: MessageMentionOptions = { parse: [], repliedUser: false };

type Repliable = ChatInputCommandInteraction | ButtonInteraction;

/**
 * A private notice (errors, cooldowns, "not yours"). After a public deferral the thinking message is deleted
 * first: a follow-up would otherwise replace it publicly, since Discord keeps the deferral's visibility.
 */
export async function notify(i: Repliable, content: string): Promise<void> {
  const payload = { content, flags: MessageFlags.Ephemeral as const, allowedMentions: NO_MENTIONS };
  if (!i.deferred && !i.replied) {
    await i.reply(payload);
    return;
  }
  if (i.deferred && !i.replied) {
    if (i.ephemeral) {
      await i.editReply({ content, embeds: [], components: [], allowedMentions: NO_MENTIONS });
      return;
    }
    try {
      await i.deleteReply();
    } catch {
      await i.editReply({ content, embeds: [], components: [], allowedMentions: NO_MENTIONS });
      return;
    }
  }
  await i.followUp(payload);
}

/** Sends messages of embeds: the first into the (deferred) reply, the rest as follow-ups. Returns the first message's id. */
export async function sendEmbeds(
  i: ChatInputCommandInteraction,
  messages: APIEmbed[][],
  components: ActionRowBuilder<ButtonBuilder>[] = [],
): Promise<string> {
  const [first = [], ...rest] = messages;
  const firstPayload = { embeds: first, components: rest.length ? [] : components, allowedMentions: NO_MENTIONS };
  let id: string;
  if (i.deferred || i.replied) id = (await i.editReply(firstPayload)).id;
  else {
    const res = await i.reply({ ...firstPayload, withResponse: true });
    id = res.resource?.message?.id ?? (await i.fetchReply()).id;
  }
  for (const [k, embeds] of rest.entries()) {
    await i.followUp({ embeds, components: k === rest.length - 1 ? components : [], allowedMentions: NO_MENTIONS });
  }
  return id;
}
