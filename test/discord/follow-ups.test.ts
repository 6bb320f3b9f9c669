/**
 * Follow-up questions in Discord, through the real discord.js client and the emulator: "which of these have
 * code?" and "tell me more about the second one" refer to the asker's last answer in that channel; another person,
 * or the same person in another channel, has no such answer and is told to name the topic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../helpers/synthetic-days.ts';
import { buildCorpus, haveModel, SKIP_REASON, startHarness, type Harness } from './harness.ts';

let corpus: { dataDir: string; cleanup: () => Promise<void> };
let h: Harness;

describe.skipIf(!haveModel)(`follow-ups to the last answer${haveModel ? '' : ` [skipped: ${SKIP_REASON}]`}`, () => {
  beforeAll(async () => {
    corpus = await buildCorpus();
    h = await startHarness({ dataDir: corpus.dataDir, env: { ASK_COOLDOWN_SECONDS: '0' } });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await corpus?.cleanup();
  });

  async function ask(question: string, user: ReturnType<Harness['emu']['addUser']>, channelId?: string) {
    const it = h.emu.interact(h.emu.chatInput('ask', { question }, { user, ...(channelId ? { channelId } : {}) }));
    const edit = await it.editOriginal(10_000);
    return edit.body.embeds[0] as { title: string; description: string; fields?: { name: string; value: string }[] };
  }

  it('answers "which of these have code?" and "the second one" from the asker\'s last answer in the channel', async () => {
    const user = h.emu.addUser({ username: 'follower' });
    const first = await ask('how can a small helper network make text generation faster?', user);
    expect(first.description).toContain(`https://huggingface.co/papers/${TOPICS.draft.id}`);
    const sources = first.fields!.find((f) => f.name === 'Sources')!.value.split('\n');

    const code = await ask('which of these have code?', user);
    expect(code.description).toMatch(/(?:of the \d+|All \d+) papers of your last answer link to code/);
    expect(code.description).toContain('github.com/example/draft-verify');

    const more = await ask('tell me more about the first one', user);
    expect(more.description).toContain('[[1]](');
    const firstTitle = /\*\*\[1\]\*\* \[([^\]]+)\]/.exec(sources[0]!)![1]!;
    expect(more.fields!.find((f) => f.name === 'Sources')!.value).toContain(firstTitle);
  });

  it('without an earlier answer, says it needs the topic named instead of answering from papers that say "second"', async () => {
    const stranger = h.emu.addUser({ username: 'stranger' });
    const e = await ask('tell me more about the second one', stranger);
    expect(e.title).toMatch(/^Nothing related in the digest: /);
    expect(e.description).toMatch(/no earlier answer of yours/);
    expect(e.fields ?? []).toEqual([]);

    // The same person in another channel has no earlier answer there either.
    const user = h.emu.addUser({ username: 'two-channels' });
    await ask('how can a small helper network make text generation faster?', user);
    const other = h.emu.addChannel(h.emu.defaults.guildId, { name: 'other' });
    const elsewhere = await ask('which of these have code?', user, other.id);
    expect(elsewhere.description).toMatch(/no earlier answer of yours/);
  });
});
