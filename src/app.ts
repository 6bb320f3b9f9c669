import { UserFacingError } from './errors.ts';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import { loadEmbeddings } from './embeddings/load.ts';
import type { DigestEmbeddings } from './embeddings/types.ts';
import { Ingester, type IngestProgress, type IngestSummary } from './ingest/ingester.ts';
import { readLocalSource } from './sources/local.ts';
import { VectorIndex } from './index/vector-index.ts';
import { Retriever } from './retrieval/retriever.ts';
import type { FusionOptions } from './retrieval/fusion.ts';
import { openDatabase, type Db } from './store/database.ts';
import { PaperStore } from './store/paper-store.ts';
import { HighlightsStore } from './store/highlights-store.ts';
import { GuildSettingsStore } from './store/guild-settings-store.ts';
import { FetchRunStore } from './store/fetch-run-store.ts';
import { DeliveryLedger } from './store/delivery-ledger.ts';
import { HfDailyPapersApi } from './sources/hf-api.ts';
import { DigestAsker } from './answer/asker.ts';
import { GenerativeAnswerer } from './answer/generative.ts';
import { createChatModel } from './answer/llm.ts';
import { describeRetry, type RetryInfo } from './http.ts';
import { SubscriptionStore } from './store/subscription-store.ts';
import { TopicMatcher } from './subscriptions/matcher.ts';
import { CorpusStats } from './retrieval/corpus-stats.ts';
import type { Paper } from './types.ts';

/** The index was built by another embedding model than the configured one. */
export class ModelMismatchError extends UserFacingError {
  override name = 'ModelMismatchError';
}

const MODEL_KEY = 'embedding_model';
const DIM_KEY = 'embedding_dimension';

/**
 * The composition root: everything the CLI, the bot and the scripts use is built here from one `Config`.
 * Expensive parts (the model, the vector file) load on first use, so `stats` stays instant.
 */
export class App {
  readonly db: Db;
  readonly store: PaperStore;
  /** The highlights post ledger and notices for server admins. */
  readonly highlights: HighlightsStore;
  /** Per-server settings: highlights, and the channel subscription messages may go to. */
  readonly guildSettings: GuildSettingsStore;
  /** The daily fetch job's runs. */
  readonly fetchRuns: FetchRunStore;
  /** What each subscriber was sent: the delivery ledger and the papers told. */
  readonly deliveries: DeliveryLedger;
  private embeddingsP?: Promise<DigestEmbeddings>;
  private vectorsP?: Promise<VectorIndex>;
  private askerP?: Promise<DigestAsker>;
  /** Topic subscriptions, subscribers and their delivery preferences. */
  readonly subscriptions: SubscriptionStore;
  private matcherP?: Promise<TopicMatcher>;
  /** Word statistics of the index, shared by the answerer and the topic matcher; see `corpusChanged`. */
  readonly stats: CorpusStats;

  constructor(readonly config: Config) {
    // A vector index with chunks means papers were ingested here: the database must be there too.
    const indexFile = path.join(config.dataDir, 'vectors', 'index.json');
    const expectExisting = existsSync(indexFile) && statSync(indexFile).size > 200;
    this.db = openDatabase(path.join(config.dataDir, 'digest.db'), { expectExisting });
    this.store = new PaperStore(this.db);
    this.subscriptions = new SubscriptionStore(this.db);
    this.highlights = new HighlightsStore(this.db);
    this.guildSettings = new GuildSettingsStore(this.db);
    this.fetchRuns = new FetchRunStore(this.db);
    this.deliveries = new DeliveryLedger(this.db);
    this.stats = new CorpusStats(this.store);
  }

  /** Papers were added or changed: forget every statistic and cache derived from the corpus, once for all. */
  async corpusChanged(): Promise<void> {
    this.stats.reset();
    if (this.askerP) (await this.askerP).refresh();
    if (this.matcherP) (await this.matcherP).reset();
  }

  embeddings(): Promise<DigestEmbeddings> {
    this.embeddingsP ??= loadEmbeddings({
      ...this.config.embeddings,
      cacheDir: path.join(this.config.dataDir, 'models'),
      hfEndpoint: this.config.hf.endpoint,
    });
    return this.embeddingsP;
  }

  /**
   * The subscription topic matcher (one per app: it caches topic embeddings; `reset()` it after an ingest). It
   * embeds topics and titles itself; the vector index gives it the papers' vectors for topic profiles.
   */
  topicMatcher(): Promise<TopicMatcher> {
    this.matcherP ??= (async () => {
      const [emb, vectors, model] = await Promise.all([
        this.embeddings(),
        this.vectors(),
        createChatModel(this.config.llm),
      ]);
      // With a chat model, papers just under the threshold are checked by it (at most 40 per digest day).
      const gen = model ? new GenerativeAnswerer(model, this.config.llm.timeoutMs) : undefined;
      const confirm = gen
        ? { check: (topic: string, paper: Paper) => gen.isAbout(topic, paper), band: 0.15, max: 40 }
        : undefined;
      return new TopicMatcher(this.store, emb, { vectors, stats: this.stats, ...(confirm ? { confirm } : {}) });
    })();
    return this.matcherP;
  }

  vectors(): Promise<VectorIndex> {
    this.vectorsP ??= VectorIndex.open(path.join(this.config.dataDir, 'vectors'));
    return this.vectorsP;
  }

  /** The model that built the index, as recorded in it. */
  indexModel(): { model: string; dimension: number } | undefined {
    const model = this.store.getMeta(MODEL_KEY);
    return model ? { model, dimension: Number(this.store.getMeta(DIM_KEY)) } : undefined;
  }

  /** The embeddings, after checking they are the ones that built the index (recording them on first use). */
  async checkedEmbeddings(): Promise<DigestEmbeddings> {
    const emb = await this.embeddings();
    const built = this.indexModel();
    const vectors = await this.vectors();
    if (built && vectors.size > 0 && (built.model !== emb.modelId || built.dimension !== emb.dimension)) {
      throw new ModelMismatchError(
        `The index was built with ${built.model} (${built.dimension} dimensions), but the configured model is ` +
          `${emb.modelId} (${emb.dimension}). Vectors of two models cannot be compared. Re-index with ` +
          '`npm run cli -- reindex` (re-embeds the stored papers; nothing is downloaded), or set EMBEDDINGS_PROVIDER, ' +
          'EMBEDDINGS_MODEL and EMBEDDINGS_MODEL_DIR back to what built it.',
      );
    }
    if (!built || built.model !== emb.modelId) this.recordModel(emb);
    return emb;
  }

  private recordModel(emb: DigestEmbeddings): void {
    this.store.setMeta(MODEL_KEY, emb.modelId);
    this.store.setMeta(DIM_KEY, String(emb.dimension));
  }

  async retriever(fusion?: FusionOptions): Promise<Retriever> {
    const emb = await this.checkedEmbeddings();
    return new Retriever(this.store, await this.vectors(), emb, fusion);
  }

  /** The question answerer: extractive, or the configured chat model with the extractive one as fallback. */
  asker(): Promise<DigestAsker> {
    this.askerP ??= (async () => {
      const model = await createChatModel(this.config.llm);
      const retriever = await this.retriever();
      return new DigestAsker({
        store: this.store,
        retriever,
        embeddings: await this.embeddings(),
        stats: this.stats,
        timeZone: this.config.timeZone,
        ...(model
          ? {
              generative: {
                answerer: new GenerativeAnswerer(model, this.config.llm.timeoutMs),
                name: `${this.config.llm.provider}:${this.config.llm.model}`,
              },
            }
          : {}),
      });
    })();
    return this.askerP;
  }

  /** The ingester; a run that adds or changes papers resets the corpus statistics once, at its end. */
  async ingester(progress?: IngestProgress): Promise<Ingester> {
    const emb = await this.checkedEmbeddings();
    return new Ingester(this.store, await this.vectors(), emb, progress, () => this.corpusChanged());
  }

  /** Ingest a local path (a folder of API day files, one API response, or a copied Daily Papers page). */
  async ingestFrom(
    from: string,
    opts: { pageDate?: string; progress?: IngestProgress } = {},
  ): Promise<{ summary: IngestSummary; failures: string[] }> {
    const failures: string[] = [];
    const ingester = await this.ingester(opts.progress); // the model first: a missing one fails before reading
    const run = ingester.start();
    const batches = await readLocalSource(path.resolve(from), {
      ...(opts.pageDate ? { pageDate: opts.pageDate } : {}),
      onSkipped: (m) => failures.push(m),
    });
    for (const batch of batches) run.add(batch);
    return { summary: await run.finish(), failures };
  }

  /** Drop every vector and embed the stored papers again with the configured model. */
  async reindex(progress?: IngestProgress): Promise<{ embedded: number }> {
    const emb = await this.embeddings();
    const vectors = await this.vectors();
    await vectors.delete([...vectors.entries()].map(([id]) => id));
    await vectors.commit();
    this.recordModel(emb);
    const { embedded } = await new Ingester(this.store, vectors, emb, progress).reconcile();
    return { embedded };
  }

  /** The HF API client; `onRetry` hears of each retry, `onTruncated` of a day cut short at the page bound. */
  hfApi(on: { onRetry?: (message: string) => void; onTruncated?: (message: string) => void } = {}): HfDailyPapersApi {
    return new HfDailyPapersApi({
      endpoint: this.config.hf.endpoint,
      timeoutMs: this.config.hf.timeoutMs,
      retries: this.config.hf.retries,
      ...(on.onRetry ? { onRetry: (info: RetryInfo) => on.onRetry!(describeRetry(info, 'The HF API')) } : {}),
      ...(on.onTruncated
        ? {
            onTruncated: (date: string, n: number) =>
              on.onTruncated!(
                `The HF API kept sending new entries for ${date}: stopped after ${n}; the rest of that day is not fetched.`,
              ),
          }
        : {}),
    });
  }

  close(): void {
    this.db.close();
  }
}
