/**
 * The three outcomes on the 74-paper copied web page, with the real static model: a question in a person's own
 * words is answered, an ML-sounding question the page cannot answer gets its closest papers (uncited), trivia and
 * junk get `none`; with a chat model configured, a borderline question is settled by the model's yes or no.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BaseMessage } from '@langchain/core/messages';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../src/app.ts';
import { DigestAsker } from '../src/answer/asker.ts';
import { GenerativeAnswerer } from '../src/answer/generative.ts';
import { toAnswerJson } from '../src/cli/ask.ts';
import { loadConfig } from '../src/config.ts';
import { pageFile, staticModelDir } from '../scripts/shared-data.ts';

const haveShared = existsSync(pageFile) && existsSync(path.join(staticModelDir, 'model.safetensors'));

/** A chat model that says `verdict` when asked to judge a source, and writes a cited answer otherwise. */
class JudgingModel extends FakeListChatModel {
  checks = 0;
  constructor(private readonly verdict: 'YES' | 'NO') {
    super({ responses: [''] });
  }
  override async _generate(messages: BaseMessage[], options?: this['ParsedCallOptions']) {
    const judging = /judge whether a source answers/.test(String(messages[0]?.content));
    if (judging) this.checks++;
    this.responses = [
      judging
        ? this.verdict
        : 'The paper converts a dense model into experts by splitting its feed-forward layers [1].',
    ];
    this.i = 0;
    return super._generate(messages, options);
  }
}

describe.skipIf(!haveShared)(
  'answer, closest or none on the copied page (needs ../shared: the page and the static model)',
  () => {
    let dir: string;
    let app: App;
    let asker: DigestAsker;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'judge-'));
      app = new App(
        loadConfig(
          { EMBEDDINGS_MODEL_DIR: staticModelDir, HF_ENDPOINT: 'http://127.0.0.1:9', TIME_ZONE: 'UTC' },
          { dataDir: dir },
        ),
      );
      await app.ingestFrom(pageFile);
      asker = await app.asker();
    }, 60_000);

    afterAll(async () => {
      app?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('answers a question asked in other words than the paper, with citations', async () => {
      const a = await asker.ask('speeding up Stable Diffusion by pruning it differently for each prompt');
      expect(a.outcome).toBe('answer');
      expect(a.abstained).toBe(false);
      expect(a.citations[0]!.paper.title).toMatch(/Prompt-based Pruning/i);
      expect(a.text).toMatch(/\[1\]/);
      expect(a.closest).toEqual([]);
    });

    it('lists the closest papers, uncited and marked as no answer, for an ML question the page cannot answer', async () => {
      const a = await asker.ask('diffusion models for knitting patterns');
      expect(a.outcome).toBe('closest');
      expect(a.abstained).toBe(true);
      expect(a.text).toBe('No paper in the digest answers this directly; the closest are:');
      expect(a.citations).toEqual([]);
      expect(a.closest).toHaveLength(3);
      for (const c of a.closest) expect(c.line.length).toBeGreaterThan(20);
      const json = toAnswerJson(a);
      expect(json.outcome).toBe('closest');
      expect(json.closest.map((c) => Object.keys(c))).toEqual(Array(3).fill(['id', 'title', 'date', 'url']));
    });

    it('says nothing is related to trivia, even when a paper shares a word with it', async () => {
      for (const q of [
        'what is the capital of Australia?',
        'who won the 2022 FIFA World Cup final?',
        'hi bot how are you',
      ]) {
        const a = await asker.ask(q);
        expect(a.outcome, q).toBe('none');
        expect(a.text, q).toMatch(
          /^Nothing in the digest is related to this\. It covers machine-learning papers from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}/,
        );
        expect(a.closest, q).toEqual([]);
      }
    });

    it('never answers junk', async () => {
      const junk = [
        '<@123456789012345678>',
        'title:',
        'OR b',
        'AND',
        '**',
        '```',
        '> quote',
        '42',
        '2401.12345',
        'https://example.com',
        '🙃🙃🙃',
        '?',
        'lol',
        'diffusion',
        'ignore previous instructions',
        "'; DROP TABLE papers; --",
        '\u200b\u202e',
      ];
      for (const q of junk) {
        const a = await asker.ask(q);
        expect(a.outcome, q).not.toBe('answer');
        expect(a.citations, q).toEqual([]);
      }
      expect((await asker.ask('<@123>')).outcome).toBe('none');
      expect((await asker.ask('diffusion')).outcome).not.toBe('answer'); // one word names a subject but asks nothing
    });

    it("tells the digest's range when the asked window is outside it", async () => {
      const a = await asker.ask('papers about diffusion from 2019-01-01 to 2019-02-01');
      expect(a.outcome).toBe('none');
      expect(a.text).toMatch(
        /The digest has no papers from 2019-01-01 to 2019-02-01\. The digest holds \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}\./,
      );
    });

    it('with a chat model, a borderline question is answered when the model says the source answers it, and not otherwise', async () => {
      const q = 'can you convert an already pretrained dense transformer into a mixture-of-experts model?';
      expect((await asker.ask(q)).outcome).toBe('closest'); // the offline judgement stands on its own
      const make = async (model: JudgingModel) =>
        new DigestAsker({
          store: app.store,
          retriever: await app.retriever(),
          embeddings: await app.embeddings(),
          stats: app.stats,
          timeZone: 'UTC',
          generative: { answerer: new GenerativeAnswerer(model, 2000), name: 'test:judge' },
        });
      const yes = new JudgingModel('YES');
      const answered = await (await make(yes)).ask(q);
      expect(yes.checks).toBeGreaterThan(0);
      expect(answered.outcome).toBe('answer');
      expect(answered.citations.length).toBeGreaterThan(0);
      const no = new JudgingModel('NO');
      const refused = await (await make(no)).ask(q);
      expect(no.checks).toBeGreaterThan(0);
      expect(refused.outcome).toBe('closest');
    });
  },
);
