/**
 * A loopback stand-in for hosted LLM APIs (node:http on 127.0.0.1, random port), good enough for the real LangChain
 * clients to talk to it:
 *  - OpenAI chat completions, `POST {baseUrl}/chat/completions` (`baseUrl` = `http://127.0.0.1:PORT/v1`), JSON or SSE
 *    (`stream: true`, with the usage chunk when `stream_options.include_usage`). For `ChatOpenAI` with
 *    `configuration: { baseURL: emu.baseUrl }`.
 *  - Anthropic Messages, `POST {anthropicUrl}/v1/messages` (`anthropicUrl` = `http://127.0.0.1:PORT`), JSON or SSE
 *    (`message_start` … `message_stop`). For `ChatAnthropic` with `anthropicApiUrl: emu.anthropicUrl`.
 *  - Ollama, `POST {ollamaUrl}/api/chat` (`ollamaUrl` = `http://127.0.0.1:PORT`), NDJSON stream (the default, and what
 *    `ChatOllama` always asks for) or one JSON object with `stream: false`; plus `GET /api/tags`, `/api/version` and
 *    `POST /api/pull` so `checkOrPullModel` does not crash.
 *
 * What each chat request gets is decided by, in order: the next queued reply (`queue(...)`), else the reply function
 * (`reply(fn)`), else {@link DEFAULT_REPLY}. A reply is a string (the assistant's text) or an object: see
 * {@link LlmReply}. Failures come in the protocol's own error shape (OpenAI `{error:{message,type,code}}`, Anthropic
 * `{type:'error',error:{type,message}}`, Ollama `{error}`).
 *
 * Every request is recorded in `requests` (parsed body, headers, the chat messages normalised to `{role, content}`),
 * so tests can assert on the prompt.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type LlmProtocol = 'openai' | 'anthropic' | 'ollama';

/** A chat message as the emulator saw it: text parts joined, Anthropic's top-level `system` as a `system` message. */
export interface LlmMessage {
  role: string;
  content: string;
}

/** A parsed JSON request body (typed loosely on purpose, so tests can poke at any field). */
export type JsonBody = Record<string, any>;

/** What the reply function (and `requests`) see of one chat request. */
export interface LlmRequest {
  protocol: LlmProtocol;
  path: string;
  model: string;
  messages: LlmMessage[];
  /** Whether the client asked for a streamed answer (SSE / NDJSON). */
  stream: boolean;
  body: JsonBody;
  headers: IncomingHttpHeaders;
  /** 0-based position among the chat requests received so far. */
  index: number;
}

export interface LlmToolCall {
  /** Default `call_emu_N` (OpenAI) / `toolu_emu_N` (Anthropic). */
  id?: string;
  name: string;
  args: Record<string, unknown>;
}

/**
 * One answer:
 *  - a string: a normal completion with that text;
 *  - `{ text?, toolCalls?, status?, headers?, delayMs?, chunkDelayMs? }`: a normal completion (status 200 unless given),
 *    optionally with tool calls, answered after `delayMs` (headers included: this is what trips client timeouts);
 *    streamed answers wait `chunkDelayMs` between chunks;
 *  - `{ status: 4xx|5xx, message?, retryAfter?, headers?, delayMs? }`: an error in the protocol's JSON shape
 *    (`retryAfter` sets `Retry-After`);
 *  - `{ status?, body, headers?, delayMs? }`: `body` sent as is (a string verbatim with `content-type:
 *    application/json` unless overridden, anything else as JSON);
 *  - `{ malformed: true }`: 200 with a JSON body (or stream) cut off mid-way;
 *  - `{ hang: true }`: the request is never answered (until `close()`, which drops the connection);
 *  - `{ reset: true }`: the connection is destroyed without an answer (a network error for the client).
 */
export type LlmReply =
  | string
  | LlmResponseReply
  | { hang: true }
  | { malformed: true; delayMs?: number }
  | { reset: true; delayMs?: number };

/** A reply that gets an HTTP answer: a completion, an error, or a verbatim body (see {@link LlmReply}). */
export interface LlmResponseReply {
  status?: number;
  text?: string;
  toolCalls?: LlmToolCall[];
  /** Error message (status >= 400 without `body`). */
  message?: string;
  retryAfter?: number | string;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  chunkDelayMs?: number;
}

export type LlmReplyFn = (req: LlmRequest) => LlmReply | Promise<LlmReply>;

/** What `requests` holds for every HTTP request (chat or not). */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Parsed JSON body; the raw text when it is not JSON; `undefined` when empty. */
  body: unknown;
  headers: IncomingHttpHeaders;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** Set for chat requests. */
  protocol?: LlmProtocol;
  model?: string;
  messages?: LlmMessage[];
  stream?: boolean;
  /** The status sent, or `'hang'` / `'reset'`; `undefined` while pending (e.g. delayed). */
  outcome?: number | 'hang' | 'reset' | 'malformed';
}

export const DEFAULT_REPLY = 'Hello from the LLM emulator.';

export class LlmEmulator {
  /** OpenAI-style base URL, `http://127.0.0.1:PORT/v1` (for `configuration.baseURL`). */
  baseUrl = '';
  /** `http://127.0.0.1:PORT` (for `ChatAnthropic`'s `anthropicApiUrl` / `clientOptions.baseURL`; the SDK adds `/v1/messages`). */
  anthropicUrl = '';
  /** `http://127.0.0.1:PORT` (for `ChatOllama`'s `baseUrl`; the client adds `/api/chat`). */
  ollamaUrl = '';
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];

  private readonly server: Server;
  private replyFn: LlmReplyFn | undefined;
  private readonly queued: (LlmReply | LlmReplyFn)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private chatCount = 0;
  private idCount = 0;
  private closed = false;

  private constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ error: { message: `LLM emulator failure: ${String(err)}`, type: 'emulator_error' } }),
          );
        } else res.destroy();
      });
    });
  }

  static async start(): Promise<LlmEmulator> {
    const emu = new LlmEmulator();
    await new Promise<void>((resolve, reject) => {
      emu.server.once('error', reject);
      emu.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = emu.server.address() as AddressInfo;
    const origin = `http://127.0.0.1:${port}`;
    emu.baseUrl = `${origin}/v1`;
    emu.anthropicUrl = origin;
    emu.ollamaUrl = origin;
    return emu;
  }

  /** Sets the function answering chat requests that find the queue empty (`undefined` restores the default). */
  reply(fn: LlmReplyFn | undefined): this {
    this.replyFn = fn;
    return this;
  }

  /** Queues answers: each chat request consumes the next one (a reply or a reply function). */
  queue(...replies: (LlmReply | LlmReplyFn)[]): this {
    this.queued.push(...replies);
    return this;
  }

  /** Queued answers not consumed yet. */
  get pending(): number {
    return this.queued.length;
  }

  /** The chat requests only (optionally of one protocol). */
  chatRequests(protocol?: LlmProtocol): RecordedRequest[] {
    return this.requests.filter((r) => r.protocol !== undefined && (protocol === undefined || r.protocol === protocol));
  }

  /** Forgets recorded requests, queued replies and the reply function. */
  reset(): void {
    this.requests.length = 0;
    this.queued.length = 0;
    this.replyFn = undefined;
    this.chatCount = 0;
  }

  /** Stops the server, drops every open connection (hung and delayed requests included). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---------------------------------------------------------------------------------------------------------------

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private nextId(prefix: string): string {
    this.idCount++;
    return `${prefix}${this.idCount}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    let body: unknown;
    let badJson = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }
    const method = req.method ?? 'GET';
    const rec: RecordedRequest = { method, path: url.pathname, body, headers: req.headers, at: Date.now() };
    this.requests.push(rec);

    const p = url.pathname.replace(/\/+$/, '');
    const protocol: LlmProtocol | undefined =
      method !== 'POST'
        ? undefined
        : p.endsWith('/chat/completions')
          ? 'openai'
          : p.endsWith('/messages')
            ? 'anthropic'
            : p.endsWith('/api/chat')
              ? 'ollama'
              : undefined;

    if (!protocol) return this.misc(method, p, rec, res);

    if (badJson || typeof body !== 'object' || body === null || Array.isArray(body)) {
      return this.send(res, rec, 400, errorBody(protocol, 400, 'Could not parse the JSON body of your request.'));
    }
    const json = body as JsonBody;
    const model = typeof json.model === 'string' ? json.model : '';
    const stream = protocol === 'ollama' ? json.stream !== false : json.stream === true;
    const messages = normaliseMessages(protocol, json);
    Object.assign(rec, { protocol, model, messages, stream });
    const chatReq: LlmRequest = {
      protocol,
      path: url.pathname,
      model,
      messages,
      stream,
      body: json,
      headers: req.headers,
      index: this.chatCount++,
    };

    const next = this.queued.length > 0 ? this.queued.shift() : (this.replyFn ?? DEFAULT_REPLY);
    const reply = typeof next === 'function' ? await next(chatReq) : (next ?? DEFAULT_REPLY);
    await this.answer(chatReq, rec, reply, res);
  }

  private async answer(req: LlmRequest, rec: RecordedRequest, reply: LlmReply, res: ServerResponse): Promise<void> {
    if (typeof reply === 'string') return this.completion(req, rec, res, { text: reply });
    if ('hang' in reply) {
      rec.outcome = 'hang';
      return; // never answered; close() drops the connection
    }
    if ('reset' in reply) {
      await this.sleep(reply.delayMs ?? 0);
      rec.outcome = 'reset';
      res.destroy();
      return;
    }
    if ('malformed' in reply) {
      await this.sleep(reply.delayMs ?? 0);
      return this.malformed(req, rec, res);
    }
    await this.sleep(reply.delayMs ?? 0);
    const headers: Record<string, string> = {};
    if (reply.retryAfter !== undefined) headers['retry-after'] = String(reply.retryAfter);
    Object.assign(headers, lowerKeys(reply.headers ?? {}));
    if (reply.body !== undefined) {
      const isText = typeof reply.body === 'string';
      const text = isText ? (reply.body as string) : JSON.stringify(reply.body);
      return this.send(res, rec, reply.status ?? 200, text, { 'content-type': 'application/json', ...headers });
    }
    const status = reply.status ?? 200;
    if (status >= 400) return this.send(res, rec, status, errorBody(req.protocol, status, reply.message), headers);
    return this.completion(req, rec, res, reply, status, headers);
  }

  private send(
    res: ServerResponse,
    rec: RecordedRequest,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): void {
    if (res.destroyed || res.writableEnded) return;
    rec.outcome = status;
    const buf = Buffer.from(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers, 'content-length': String(buf.length) });
    res.end(buf);
  }

  private async completion(
    req: LlmRequest,
    rec: RecordedRequest,
    res: ServerResponse,
    reply: LlmResponseReply,
    status = 200,
    headers: Record<string, string> = {},
  ): Promise<void> {
    const text = reply.text ?? '';
    const toolCalls = reply.toolCalls ?? [];
    const usage = {
      input: estimateTokens(req.messages.map((m) => m.content).join('\n')),
      output: estimateTokens(text),
    };
    if (!req.stream) {
      const body =
        req.protocol === 'openai'
          ? this.openaiCompletion(req, text, toolCalls, usage)
          : req.protocol === 'anthropic'
            ? this.anthropicMessage(req, text, toolCalls, usage)
            : this.ollamaFinal(req, text, toolCalls, usage);
      return this.send(res, rec, status, JSON.stringify(body), headers);
    }
    const chunks =
      req.protocol === 'openai'
        ? this.openaiStream(req, text, toolCalls, usage)
        : req.protocol === 'anthropic'
          ? this.anthropicStream(req, text, toolCalls, usage)
          : this.ollamaStream(req, text, toolCalls, usage);
    if (res.destroyed) return;
    rec.outcome = status;
    res.writeHead(status, {
      'content-type': req.protocol === 'ollama' ? 'application/x-ndjson' : 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...headers,
    });
    for (const chunk of chunks) {
      if (res.destroyed) return;
      res.write(chunk);
      if (reply.chunkDelayMs) await this.sleep(reply.chunkDelayMs);
    }
    if (!res.destroyed) res.end();
  }

  private malformed(req: LlmRequest, rec: RecordedRequest, res: ServerResponse): void {
    if (res.destroyed) return;
    rec.outcome = 'malformed';
    if (!req.stream) {
      const body = `{"id":"broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"cut off`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
      return;
    }
    if (req.protocol === 'ollama') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"model":"x","message":{"role":"assistant","content":"cut o\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    const event = req.protocol === 'anthropic' ? 'event: message_start\n' : '';
    res.end(`${event}data: {"id":"broken","choices":[{"index":0,"delta":{"content":"cut o\n\n`);
  }

  private misc(method: string, p: string, rec: RecordedRequest, res: ServerResponse): void {
    if (method === 'GET' && p.endsWith('/models')) {
      return this.send(res, rec, 200, JSON.stringify({ object: 'list', data: [] }));
    }
    if (method === 'GET' && p === '/api/tags') return this.send(res, rec, 200, JSON.stringify({ models: [] }));
    if (method === 'GET' && p === '/api/version')
      return this.send(res, rec, 200, JSON.stringify({ version: '0.0.0-emulator' }));
    if (method === 'POST' && p === '/api/pull') {
      return this.send(res, rec, 200, `${JSON.stringify({ status: 'success' })}\n`, {
        'content-type': 'application/x-ndjson',
      });
    }
    if (method === 'GET' && (p === '' || p === '/'))
      return this.send(res, rec, 200, 'Ollama is running', { 'content-type': 'text/plain' });
    return this.send(
      res,
      rec,
      404,
      JSON.stringify({
        error: { message: `Unknown endpoint ${method} ${p}`, type: 'invalid_request_error', code: 'not_found' },
      }),
    );
  }

  // --- OpenAI ------------------------------------------------------------------------------------------------------

  private openaiCompletion(req: LlmRequest, text: string, toolCalls: LlmToolCall[], usage: Usage): JsonBody {
    return {
      id: this.nextId('chatcmpl-emu-'),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: req.model,
      system_fingerprint: null,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: toolCalls.length > 0 && !text ? null : text,
            refusal: null,
            ...(toolCalls.length > 0
              ? {
                  tool_calls: toolCalls.map((tc) => ({
                    id: tc.id ?? this.nextId('call_emu_'),
                    type: 'function',
                    function: { name: tc.name, arguments: JSON.stringify(tc.args) },
                  })),
                }
              : {}),
          },
          logprobs: null,
          finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
        },
      ],
      usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
    };
  }

  private openaiStream(req: LlmRequest, text: string, toolCalls: LlmToolCall[], usage: Usage): string[] {
    const id = this.nextId('chatcmpl-emu-');
    const created = Math.floor(Date.now() / 1000);
    const chunk = (choices: unknown[], extra: JsonBody = {}): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: req.model, system_fingerprint: null, choices, ...extra })}\n\n`;
    const delta = (d: JsonBody, finish: string | null = null): unknown => ({
      index: 0,
      delta: d,
      logprobs: null,
      finish_reason: finish,
    });
    const out = [chunk([delta({ role: 'assistant', content: '', refusal: null })])];
    for (const piece of splitText(text)) out.push(chunk([delta({ content: piece })]));
    toolCalls.forEach((tc, i) => {
      const callId = tc.id ?? this.nextId('call_emu_');
      out.push(
        chunk([
          delta({
            tool_calls: [{ index: i, id: callId, type: 'function', function: { name: tc.name, arguments: '' } }],
          }),
        ]),
      );
      out.push(chunk([delta({ tool_calls: [{ index: i, function: { arguments: JSON.stringify(tc.args) } }] })]));
    });
    out.push(chunk([delta({}, toolCalls.length > 0 ? 'tool_calls' : 'stop')]));
    if (req.body.stream_options?.include_usage === true) {
      out.push(
        chunk([], {
          usage: {
            prompt_tokens: usage.input,
            completion_tokens: usage.output,
            total_tokens: usage.input + usage.output,
          },
        }),
      );
    }
    out.push('data: [DONE]\n\n');
    return out;
  }

  // --- Anthropic ---------------------------------------------------------------------------------------------------

  private anthropicBlocks(text: string, toolCalls: LlmToolCall[]): JsonBody[] {
    const blocks: JsonBody[] = [];
    if (text || toolCalls.length === 0) blocks.push({ type: 'text', text });
    for (const tc of toolCalls)
      blocks.push({ type: 'tool_use', id: tc.id ?? this.nextId('toolu_emu_'), name: tc.name, input: tc.args });
    return blocks;
  }

  private anthropicMessage(req: LlmRequest, text: string, toolCalls: LlmToolCall[], usage: Usage): JsonBody {
    return {
      id: this.nextId('msg_emu_'),
      type: 'message',
      role: 'assistant',
      model: req.model,
      content: this.anthropicBlocks(text, toolCalls),
      stop_reason: toolCalls.length > 0 ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: usage.input, output_tokens: usage.output },
    };
  }

  private anthropicStream(req: LlmRequest, text: string, toolCalls: LlmToolCall[], usage: Usage): string[] {
    const ev = (type: string, data: JsonBody): string =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const out = [
      ev('message_start', {
        message: {
          id: this.nextId('msg_emu_'),
          type: 'message',
          role: 'assistant',
          model: req.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: usage.input, output_tokens: 1 },
        },
      }),
    ];
    this.anthropicBlocks(text, toolCalls).forEach((block, index) => {
      if (block.type === 'text') {
        out.push(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }));
        if (index === 0) out.push(ev('ping', {}));
        for (const piece of splitText(text))
          out.push(ev('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }));
      } else {
        out.push(
          ev('content_block_start', {
            index,
            content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
          }),
        );
        out.push(
          ev('content_block_delta', {
            index,
            delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
          }),
        );
      }
      out.push(ev('content_block_stop', { index }));
    });
    out.push(
      ev('message_delta', {
        delta: { stop_reason: toolCalls.length > 0 ? 'tool_use' : 'end_turn', stop_sequence: null },
        usage: { output_tokens: usage.output },
      }),
    );
    out.push(ev('message_stop', {}));
    return out;
  }

  // --- Ollama ------------------------------------------------------------------------------------------------------

  private ollamaToolCalls(toolCalls: LlmToolCall[]): JsonBody {
    return toolCalls.length > 0
      ? { tool_calls: toolCalls.map((tc) => ({ function: { name: tc.name, arguments: tc.args } })) }
      : {};
  }

  private ollamaFinal(req: LlmRequest, text: string, toolCalls: LlmToolCall[], usage: Usage): JsonBody {
    return {
      model: req.model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: text, ...this.ollamaToolCalls(toolCalls) },
      done: true,
      done_reason: 'stop',
      total_duration: 1_000_000,
      load_duration: 100_000,
      prompt_eval_count: usage.input,
      prompt_eval_duration: 100_000,
      eval_count: usage.output,
      eval_duration: 500_000,
    };
  }

  private ollamaStream(req: LlmRequest, text: string, toolCalls: LlmToolCall[], usage: Usage): string[] {
    const line = (v: JsonBody): string => `${JSON.stringify(v)}\n`;
    const out = splitText(text).map((piece) =>
      line({
        model: req.model,
        created_at: new Date().toISOString(),
        message: { role: 'assistant', content: piece },
        done: false,
      }),
    );
    if (toolCalls.length > 0) {
      out.push(
        line({
          model: req.model,
          created_at: new Date().toISOString(),
          message: { role: 'assistant', content: '', ...this.ollamaToolCalls(toolCalls) },
          done: false,
        }),
      );
    }
    out.push(line(this.ollamaFinal(req, '', [], usage)));
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface Usage {
  input: number;
  output: number;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

function estimateTokens(s: string): number {
  return Math.max(1, Math.ceil(s.length / 4));
}

/** Splits text into word-ish pieces whose concatenation is the text ('' gives no pieces). */
function splitText(text: string): string[] {
  return text ? text.split(/(?<=\s)/) : [];
}

/** The text of a content value: a string, or the text parts of a block array (tool results included). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => {
      if (typeof part === 'string') return part;
      if (typeof part !== 'object' || part === null) return '';
      const p = part as JsonBody;
      if (typeof p.text === 'string') return p.text;
      if (p.type === 'tool_result') return contentText(p.content);
      return '';
    })
    .join('');
}

function normaliseMessages(protocol: LlmProtocol, body: JsonBody): LlmMessage[] {
  const out: LlmMessage[] = [];
  if (protocol === 'anthropic' && body.system !== undefined)
    out.push({ role: 'system', content: contentText(body.system) });
  const list: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  for (const m of list) {
    if (typeof m !== 'object' || m === null) continue;
    const msg = m as JsonBody;
    out.push({ role: String(msg.role ?? ''), content: contentText(msg.content) });
  }
  return out;
}

const OPENAI_ERRORS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  404: {
    type: 'invalid_request_error',
    code: 'model_not_found',
    message: 'The model does not exist or you do not have access to it.',
  },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
  500: {
    type: 'server_error',
    code: null,
    message: 'The server had an error while processing your request. Sorry about that!',
  },
  503: { type: 'server_error', code: null, message: 'The engine is currently overloaded, please try again later.' },
};

const ANTHROPIC_ERRORS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** The protocol's error JSON for a status. */
function errorBody(protocol: LlmProtocol, status: number, message?: string): string {
  if (protocol === 'openai') {
    const known = OPENAI_ERRORS[status] ?? {
      type: status >= 500 ? 'server_error' : 'invalid_request_error',
      code: null,
      message: `Error ${status}.`,
    };
    return JSON.stringify({
      error: { message: message ?? known.message, type: known.type, param: null, code: known.code },
    });
  }
  if (protocol === 'anthropic') {
    const type = ANTHROPIC_ERRORS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return JSON.stringify({ type: 'error', error: { type, message: message ?? `${type} (${status})` } });
  }
  return JSON.stringify({ error: message ?? `error ${status}` });
}
