import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';

/**
 * The configured chat model, or undefined for the extractive answerer. Provider packages are imported only
 * when chosen. Client-side retries are kept to one: a failure falls back to the extractive answer quickly.
 */
export async function createChatModel(llm: Config['llm']): Promise<BaseChatModel | undefined> {
  const common = { model: llm.model!, temperature: 0, maxRetries: 1 };
  switch (llm.provider) {
    case 'extractive':
      return undefined;
    case 'openai': {
      // Local OpenAI-compatible servers (Ollama /v1, vLLM, llama.cpp, LM Studio) accept any key.
      if (!llm.apiKey && !llm.baseUrl) {
        throw new ConfigError(
          'LLM_PROVIDER=openai needs LLM_API_KEY (or LLM_BASE_URL for a local OpenAI-compatible server).',
        );
      }
      const { ChatOpenAI } = await import('@langchain/openai');
      return new ChatOpenAI({
        ...common,
        apiKey: llm.apiKey ?? 'not-needed',
        timeout: llm.timeoutMs,
        ...(llm.baseUrl ? { configuration: { baseURL: llm.baseUrl } } : {}),
      });
    }
    case 'anthropic': {
      if (!llm.apiKey) throw new ConfigError('LLM_PROVIDER=anthropic needs LLM_API_KEY.');
      const { ChatAnthropic } = await import('@langchain/anthropic');
      return new ChatAnthropic({
        ...common,
        apiKey: llm.apiKey,
        ...(llm.baseUrl ? { anthropicApiUrl: llm.baseUrl } : {}),
        clientOptions: { timeout: llm.timeoutMs },
      });
    }
    case 'ollama': {
      const { ChatOllama } = await import('@langchain/ollama');
      return new ChatOllama({ ...common, ...(llm.baseUrl ? { baseUrl: llm.baseUrl } : {}) });
    }
  }
}
