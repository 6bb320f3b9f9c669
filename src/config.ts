import { existsSync } from 'node:fs';
import { isTimeZone } from './dates.ts';
import { UserFacingError } from './errors.ts';
import path from 'node:path';
import { z } from 'zod';

/** A configuration value is missing or invalid; the message names the variable and what it accepts. */
export class ConfigError extends UserFacingError {
  override name = 'ConfigError';
}

const BGE_QUERY_INSTRUCTION = 'Represent this sentence for searching relevant passages: ';

const DEFAULT_MODELS = {
  static: 'minishlab/potion-base-8M',
  onnx: 'Xenova/bge-small-en-v1.5',
} as const;

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

const EnvSchema = z.object({
  DATA_DIR: z.string().min(1).default('./data'),
  HF_ENDPOINT: z.string().url().default('https://huggingface.co'),
  HF_API_TIMEOUT_MS: positiveInt(15_000),
  HF_API_RETRIES: z.coerce.number().int().min(0).max(10).default(4),
  EMBEDDINGS_PROVIDER: z.enum(['static', 'onnx']).default('static'),
  EMBEDDINGS_MODEL: z.string().min(1).optional(),
  EMBEDDINGS_MODEL_DIR: z.string().min(1).optional(),
  EMBEDDINGS_QUERY_INSTRUCTION: z.string().optional(),
  TIME_ZONE: z.string().default('UTC').refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris or UTC'),
  LLM_PROVIDER: z.enum(['extractive', 'openai', 'anthropic', 'ollama']).default('extractive'),
  LLM_MODEL: z.string().min(1).optional(),
  LLM_BASE_URL: z.string().url().optional(),
  LLM_API_KEY: z.string().min(1).optional(),
  LLM_TIMEOUT_MS: positiveInt(30_000),
  DISCORD_TOKEN: z.string().min(1).optional(),
  DISCORD_APPLICATION_ID: z
    .string()
    .regex(/^\d{17,20}$/, 'must be a Discord snowflake (17-20 digits)')
    .optional(),
  DISCORD_GUILD_ID: z
    .string()
    .regex(/^\d{17,20}$/, 'must be a Discord snowflake (17-20 digits)')
    .optional(),
  DISCORD_API_URL: z.string().url().default('https://discord.com/api'),
  ASK_COOLDOWN_SECONDS: z.coerce.number().min(0).max(3600).default(10),
  MAX_CONCURRENT_ANSWERS: positiveInt(4),
});

const DEFAULT_LLM_MODELS = { openai: 'gpt-4o-mini', anthropic: 'claude-3-5-haiku-latest', ollama: 'llama3.1' } as const;

export interface Config {
  dataDir: string;
  hf: { endpoint: string; timeoutMs: number; retries: number };
  embeddings: {
    provider: 'static' | 'onnx';
    model: string;
    modelDir?: string;
    queryInstruction: string;
  };
  /** IANA time zone in which date words ("today", "this week") are read. */
  timeZone: string;
  llm: {
    provider: 'extractive' | 'openai' | 'anthropic' | 'ollama';
    model?: string;
    baseUrl?: string;
    apiKey?: string;
    timeoutMs: number;
  };
  discord: {
    token?: string;
    applicationId?: string;
    guildId?: string;
    /** REST base, `https://discord.com/api` (the client appends `/v10`); a REST proxy or an emulator in tests. */
    apiUrl: string;
    askCooldownSeconds: number;
    maxConcurrentAnswers: number;
  };
}

/** Build the configuration from environment variables (and CLI overrides), validating every value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: { dataDir?: string } = {}): Config {
  // Empty variables count as unset (a `FOO=` line in a .env file should not mean "the empty string").
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(clean);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.join('.')}: ${i.message}${describe(clean[String(i.path[0])])}`,
    );
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const provider = e.EMBEDDINGS_PROVIDER;
  const model = e.EMBEDDINGS_MODEL ?? DEFAULT_MODELS[provider];
  const embeddings: Config['embeddings'] = {
    provider,
    model,
    queryInstruction: e.EMBEDDINGS_QUERY_INSTRUCTION ?? (/bge-.*-en/i.test(model) ? BGE_QUERY_INSTRUCTION : ''),
  };
  if (e.EMBEDDINGS_MODEL_DIR) embeddings.modelDir = path.resolve(e.EMBEDDINGS_MODEL_DIR);
  return {
    dataDir: path.resolve(overrides.dataDir ?? e.DATA_DIR),
    hf: { endpoint: e.HF_ENDPOINT.replace(/\/+$/, ''), timeoutMs: e.HF_API_TIMEOUT_MS, retries: e.HF_API_RETRIES },
    embeddings,
    timeZone: e.TIME_ZONE,
    llm: {
      provider: e.LLM_PROVIDER,
      ...(e.LLM_PROVIDER !== 'extractive' ? { model: e.LLM_MODEL ?? DEFAULT_LLM_MODELS[e.LLM_PROVIDER] } : {}),
      ...(e.LLM_BASE_URL ? { baseUrl: e.LLM_BASE_URL } : {}),
      ...(e.LLM_API_KEY ? { apiKey: e.LLM_API_KEY } : {}),
      timeoutMs: e.LLM_TIMEOUT_MS,
    },
    discord: {
      ...(e.DISCORD_TOKEN ? { token: e.DISCORD_TOKEN } : {}),
      ...(e.DISCORD_APPLICATION_ID ? { applicationId: e.DISCORD_APPLICATION_ID } : {}),
      ...(e.DISCORD_GUILD_ID ? { guildId: e.DISCORD_GUILD_ID } : {}),
      apiUrl: e.DISCORD_API_URL.replace(/\/+$/, ''),
      askCooldownSeconds: e.ASK_COOLDOWN_SECONDS,
      maxConcurrentAnswers: e.MAX_CONCURRENT_ANSWERS,
    },
  };
}

function describe(v: unknown): string {
  return typeof v === 'string' ? ` (got "${v.length > 40 ? `${v.slice(0, 40)}…` : v}")` : '';
}

/**
 * Reads `.env` from `dir` (the working directory) into the environment, if there is one; variables already set in
 * the real environment win. Node's own parser (`process.loadEnvFile`).
 */
export function loadDotEnv(dir: string = process.cwd()): string | undefined {
  const file = path.join(dir, '.env');
  if (!existsSync(file)) return undefined;
  try {
    process.loadEnvFile(file);
  } catch (err) {
    throw new ConfigError(
      `Could not read ${file}: ${(err as Error).message}. Fix it, or remove it to use the environment alone.`,
    );
  }
  return file;
}
