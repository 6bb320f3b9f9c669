/**
 * The LLM emulator against the real LangChain clients (ChatOpenAI, ChatAnthropic, ChatOllama), over loopback HTTP.
 */
import { ChatAnthropic } from '@langchain/anthropic';
import { type AIMessageChunk, HumanMessage, SystemMessage } from '@langchain/core/messages';
import { ChatOllama } from '@langchain/ollama';
import { ChatOpenAI } from '@langchain/openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_REPLY, LlmEmulator } from './helpers/llm-emulator.ts';

let emu: LlmEmulator;

beforeEach(async () => {
  emu = await LlmEmulator.start();
});

afterEach(async () => {
  await emu.close();
});

function openai(opts: { timeout?: number; maxRetries?: number; streaming?: boolean } = {}): ChatOpenAI {
  return new ChatOpenAI({
    model: 'gpt-4o-mini',
    apiKey: 'test',
    configuration: { baseURL: emu.baseUrl },
    timeout: opts.timeout ?? 2_000,
    maxRetries: opts.maxRetries ?? 0,
    ...(opts.streaming !== undefined ? { streaming: opts.streaming } : {}),
  });
}

function anthropic(opts: { timeout?: number; maxRetries?: number } = {}): ChatAnthropic {
  return new ChatAnthropic({
    model: 'claude-3-5-haiku-latest',
    apiKey: 'test',
    anthropicApiUrl: emu.anthropicUrl,
    clientOptions: { timeout: opts.timeout ?? 2_000 },
    maxRetries: opts.maxRetries ?? 0,
  });
}

function ollama(opts: { maxRetries?: number } = {}): ChatOllama {
  return new ChatOllama({ model: 'llama3.1', baseUrl: emu.ollamaUrl, maxRetries: opts.maxRetries ?? 0 });
}

const PROMPT = [new SystemMessage('You answer questions about papers.'), new HumanMessage('What is new today?')];

describe('ChatOpenAI', () => {
  it('returns the reply text and the emulator sees the system and user messages', async () => {
    emu.reply((req) => `You asked: ${req.messages.at(-1)?.content}`);
    const res = await openai().invoke(PROMPT);
    expect(res.content).toBe('You asked: What is new today?');
    expect(res.usage_metadata?.total_tokens).toBeGreaterThan(0);

    expect(emu.requests).toHaveLength(1);
    const [req] = emu.requests;
    expect(req?.path).toBe('/v1/chat/completions');
    expect(req?.protocol).toBe('openai');
    expect(req?.model).toBe('gpt-4o-mini');
    expect(req?.stream).toBe(false); // invoke() does not stream by default
    expect(req?.messages).toEqual([
      { role: 'system', content: 'You answer questions about papers.' },
      { role: 'user', content: 'What is new today?' },
    ]);
    expect(req?.headers.authorization).toBe('Bearer test');
  });

  it('falls back to the default reply', async () => {
    const res = await openai().invoke('hi');
    expect(res.content).toBe(DEFAULT_REPLY);
  });

  it('retries a 500 and then succeeds with maxRetries 1', async () => {
    emu.queue({ status: 500 }, 'second time lucky');
    const res = await openai({ maxRetries: 1 }).invoke('hi');
    expect(res.content).toBe('second time lucky');
    expect(emu.requests.map((r) => r.outcome)).toEqual([500, 200]);
  });

  it('surfaces a 503 with the OpenAI error message when retries are off', async () => {
    emu.queue({ status: 503, message: 'engine overloaded' });
    await expect(openai().invoke('hi')).rejects.toThrow(/503.*engine overloaded|engine overloaded/);
  });

  it('does not retry a 429 without Retry-After (LangChain treats it as a capacity error)', async () => {
    emu.queue({ status: 429 }, 'never reached');
    await expect(openai({ maxRetries: 1 }).invoke('hi')).rejects.toMatchObject({ status: 429 });
    expect(emu.requests).toHaveLength(1);
    expect(emu.pending).toBe(1);
  });

  it('rejects when the reply is delayed beyond `timeout`', async () => {
    emu.queue({ text: 'too late', delayMs: 1_500 });
    const t0 = Date.now();
    await expect(openai({ timeout: 200, maxRetries: 0 }).invoke('hi')).rejects.toThrow(/timed out/i);
    expect(Date.now() - t0).toBeLessThan(1_200);
  });

  it('rejects on a hung request at the timeout, and close() ends it', async () => {
    emu.queue({ hang: true });
    await expect(openai({ timeout: 200 }).invoke('hi')).rejects.toThrow(/timed out/i);
    expect(emu.requests[0]?.outcome).toBe('hang');
  });

  it('rejects a malformed JSON body', async () => {
    emu.queue({ malformed: true });
    await expect(openai().invoke('hi')).rejects.toThrow();
  });

  it('streams over SSE (with the usage chunk)', async () => {
    emu.reply(() => 'one two three');
    let text = '';
    let chunks = 0;
    let last: AIMessageChunk | undefined;
    for await (const chunk of await openai().stream('hi')) {
      chunks++;
      if (typeof chunk.content === 'string') text += chunk.content;
      last = last ? last.concat(chunk) : chunk;
    }
    expect(text).toBe('one two three');
    expect(chunks).toBeGreaterThan(2);
    expect(last?.usage_metadata?.output_tokens).toBeGreaterThan(0);
    expect(emu.requests[0]?.stream).toBe(true);
    expect((emu.requests[0]!.body as { stream_options?: unknown }).stream_options).toEqual({ include_usage: true });
  });

  it('returns tool calls', async () => {
    emu.queue({ toolCalls: [{ name: 'search_papers', args: { query: 'diffusion' } }] });
    const tool = {
      type: 'function' as const,
      function: {
        name: 'search_papers',
        description: 'Search',
        parameters: { type: 'object', properties: { query: { type: 'string' } } },
      },
    };
    const res = await openai().bindTools([tool]).invoke('find diffusion papers');
    expect(res.tool_calls).toMatchObject([{ name: 'search_papers', args: { query: 'diffusion' } }]);
    expect((emu.requests[0]!.body as { tools?: unknown[] }).tools).toHaveLength(1);
  });
});

describe('ChatAnthropic', () => {
  it('returns the reply text; the system prompt arrives as the top-level `system`', async () => {
    emu.reply(() => 'Claude says hi');
    const res = await anthropic().invoke(PROMPT);
    expect(res.content).toBe('Claude says hi');
    const [req] = emu.requests;
    expect(req?.path).toBe('/v1/messages');
    expect(req?.protocol).toBe('anthropic');
    expect(req?.stream).toBe(false);
    expect(req?.messages).toEqual([
      { role: 'system', content: 'You answer questions about papers.' },
      { role: 'user', content: 'What is new today?' },
    ]);
    expect(req?.headers['x-api-key']).toBe('test');
  });

  it('streams over SSE', async () => {
    emu.reply(() => 'streamed from claude');
    let text = '';
    for await (const chunk of await anthropic().stream('hi'))
      if (typeof chunk.content === 'string') text += chunk.content;
    expect(text).toBe('streamed from claude');
    expect(emu.requests[0]?.stream).toBe(true);
  });

  it('surfaces an Anthropic-style error', async () => {
    emu.queue({ status: 500, message: 'boom' });
    await expect(anthropic().invoke('hi')).rejects.toMatchObject({ status: 500 });
  });
});

describe('ChatOllama', () => {
  it('returns the reply text (it always asks for an NDJSON stream)', async () => {
    emu.reply((req) => `llama heard ${req.messages.length} messages`);
    const res = await ollama().invoke(PROMPT);
    expect(res.content).toBe('llama heard 2 messages');
    const [req] = emu.requests;
    expect(req?.path).toBe('/api/chat');
    expect(req?.stream).toBe(true);
    expect(req?.messages).toEqual([
      { role: 'system', content: 'You answer questions about papers.' },
      { role: 'user', content: 'What is new today?' },
    ]);
  });

  it('does not retry errors, whatever maxRetries says', async () => {
    emu.queue({ status: 500, message: 'model crashed' }, 'never reached');
    await expect(ollama({ maxRetries: 2 }).invoke('hi')).rejects.toThrow(/model crashed/);
    expect(emu.requests).toHaveLength(1);
  });
});
