/**
 * Quality over the real corpus and the real static model, as `npm run eval` measures it, one ingest for all: a
 * guard against regressions. The floors sit just under the figures measured when the judge and the matcher were
 * last calibrated (README); targets that are not met are not pretended to be.
 * - Answers on scripts/eval/ask-set.ts: wrong or unwarranted answers, answerable questions left at `none`, junk,
 *   and length: a long unanswerable question must not be answered because it is long.
 * - Subscription matching on the labelled topics of scripts/eval/topics.json.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { evaluateTopics } from '../scripts/eval/topics.ts';
import { askAll, citationFailures, figures } from '../scripts/eval/answers.ts';
import { loadAskCases, shouldAnswer, type AskCase } from '../scripts/eval/ask-set.ts';
import { apiDir, staticModelDir } from '../scripts/shared-data.ts';

const haveShared = existsSync(apiDir) && existsSync(path.join(staticModelDir, 'model.safetensors'));

describe.skipIf(!haveShared)(
  'quality on the real corpus (needs ../shared: the digest days and the static model)',
  () => {
    let dir: string;
    let app: App;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'topic-eval-'));
      app = new App(
        loadConfig(
          { EMBEDDINGS_MODEL_DIR: staticModelDir, HF_ENDPOINT: 'http://127.0.0.1:9', TIME_ZONE: 'UTC' },
          { dataDir: dir },
        ),
      );
      await app.ingestFrom(apiDir); // the whole corpus: profiles learn from it
    }, 120_000);

    afterAll(async () => {
      app?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('answers: few wrong or unwarranted answers, answerable questions rarely at none, every citation retrieved', async () => {
      const results = await askAll(app, loadAskCases());
      expect(citationFailures(results)).toEqual([]);
      for (const split of ['dev', 'test'] as const) {
        const rs = results.filter((r) => r.c.split === split);
        const ans = figures(rs.filter((r) => shouldAnswer(r.c.group)));
        const not = figures(rs.filter((r) => !shouldAnswer(r.c.group)));
        const story = `${split}: ${JSON.stringify({ ans, not })}`;
        expect((ans.wrong + not.wrong) / rs.length, story).toBeLessThanOrEqual(0.05); // the target
        expect(ans.none / ans.n, story).toBeLessThanOrEqual(0.05); // the target
        // Measured: dev 54%, test 44% answered (the target, 75%, is not met: README, "Answers").
        expect(ans.answer / ans.n, story).toBeGreaterThanOrEqual(split === 'dev' ? 0.5 : 0.4);
      }
      // Each outcome where it belongs: the unanswerable ML questions mostly get their closest papers, trivia mostly
      // nothing (measured: 82% closest, 66% none).
      const group = (g: string) => figures(results.filter((r) => r.c.group === g));
      expect(group('unanswerable').closest / group('unanswerable').n).toBeGreaterThanOrEqual(0.7);
      expect(group('off-domain').none / group('off-domain').n).toBeGreaterThanOrEqual(0.55);
      // Junk (mentions, markdown, operators, single words, code, injections) is never answered.
      const junk = results.filter((r) => r.c.group === 'junk' && r.a.outcome === 'answer').map((r) => r.c.q);
      expect(junk).toEqual([]);
    }, 120_000);

    it('answers: a long unanswerable question is not answered because it is long', async () => {
      const unanswerable = loadAskCases().filter((c) => c.group === 'unanswerable');
      const long = unanswerable.filter((c) => c.kind === 'long');
      expect(long.length).toBeGreaterThanOrEqual(60);
      // Generic ML vocabulary that makes a question long without making it answerable.
      const pads = [
        ' I am looking for recent work on this using large language models, with benchmarks, datasets and efficient training or fine-tuning methods.',
        ' Ideally something with a strong model, a public benchmark, an ablation study and code, since we want an efficient and scalable approach for our evaluation pipeline.',
      ];
      const padded: AskCase[] = unanswerable
        .filter((c) => c.kind !== 'long')
        .flatMap((c) => pads.map((p) => ({ ...c, q: c.q.replace(/[?.!]*$/, '?') + p })));
      const answered = (rs: Awaited<ReturnType<typeof askAll>>) =>
        rs.filter((r) => r.a.outcome === 'answer').map((r) => r.c.q);
      expect(answered(await askAll(app, long))).toEqual([]); // measured: 0 of 70
      expect(answered(await askAll(app, padded)).length).toBeLessThanOrEqual(2); // measured: 0 of 110
    }, 120_000);

    it('keeps dev and held-out precision and recall at their measured levels', async () => {
      const { threshold, splits } = await evaluateTopics(app);
      expect(threshold).toBe(0.85);
      // Measured: dev 0.796 / 0.738, test 0.682 / 0.569.
      expect(splits.dev.precision).toBeGreaterThanOrEqual(0.78);
      expect(splits.dev.recall).toBeGreaterThanOrEqual(0.72);
      expect(splits.test.precision).toBeGreaterThanOrEqual(0.66);
      expect(splits.test.recall).toBeGreaterThanOrEqual(0.55);
      expect(splits.dev.tp + splits.dev.fn).toBe(164); // every labelled pair was scored
      expect(splits.test.tp + splits.test.fn).toBe(102);
    }, 60_000);
  },
);
