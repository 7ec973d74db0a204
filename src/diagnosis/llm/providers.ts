// One call to a provider, through its official SDK, in its own structured-output form: a forced
// tool call (Anthropic Messages API) or a JSON-schema response format (OpenAI-compatible servers:
// OpenAI, Ollama, vLLM, llama.cpp). The SDKs' own retries are off: the diagnoser decides what is
// retried, so every attempt is counted against the budget and stored.
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { WardenError } from '../../lib/errors.js';
import type { Prompt } from './prompt.js';

export type ProviderName = 'anthropic' | 'openai';

export interface ProviderSpec {
  provider: ProviderName;
  model: string;
  baseURL: string | null;
  apiKey: string;
  stream: boolean;
  maxTokens: number;
}

export interface Reply {
  /** The structured output, parsed; null when the model gave none or it was not JSON. */
  output: unknown;
  /** What came back, as text (stored with the prompt). */
  raw: string;
  /** Set when the model declined to answer. */
  refusal: string | null;
  usage: { input: number; output: number };
}

export type Provider = (prompt: Prompt, schema: Record<string, unknown>, signal: AbortSignal) => Promise<Reply>;

/** The provider answered 429: try again no sooner than retryAfterMs (null: it did not say). */
export class RateLimitedError extends WardenError {
  constructor(readonly retryAfterMs: number | null, detail: string) {
    super('LLM_RATE_LIMITED', `rate limited by the provider${retryAfterMs === null ? '' : `; retry after ${Math.ceil(retryAfterMs / 1000)} s`}: ${detail}`, { retryable: true });
  }
}

export const TOOL = 'submit_diagnosis';

export function provider(spec: ProviderSpec): Provider {
  return spec.provider === 'anthropic' ? anthropic(spec) : openai(spec);
}

// The SDKs are loaded when a provider is first asked: a Warden without an LLM never opens their
// hundreds of module files (which a low descriptor limit at start could not afford).
const loadAnthropic = async (): Promise<typeof Anthropic> => (await import('@anthropic-ai/sdk')).default;
const loadOpenAI = async (): Promise<typeof OpenAI> => (await import('openai')).default;

function anthropic(spec: ProviderSpec): Provider {
  let made: Promise<Anthropic> | null = null;
  const connect = (): Promise<Anthropic> => (made ??= loadAnthropic().then((A) => new A({ apiKey: spec.apiKey, maxRetries: 0, ...(spec.baseURL ? { baseURL: spec.baseURL } : {}) })));
  return async (prompt, schema, signal) => {
    const client = await connect();
    const params = {
      model: spec.model, max_tokens: spec.maxTokens, system: prompt.system,
      messages: [{ role: 'user' as const, content: prompt.user }],
      tools: [{ name: TOOL, description: 'Submit the diagnosis.', input_schema: { type: 'object' as const, ...schema } }],
      tool_choice: { type: 'tool' as const, name: TOOL },
    };
    const msg: Anthropic.Message = await rateLimited<Anthropic.Message>(() => (spec.stream ? client.messages.stream(params, { signal }).finalMessage() : client.messages.create(params, { signal })));
    const tool = msg.content.find((b) => b.type === 'tool_use' && b.name === TOOL);
    const text = msg.content.filter((b) => b.type === 'text').map((b) => (b.type === 'text' ? b.text : '')).join('');
    return {
      output: tool && tool.type === 'tool_use' ? tool.input : null,
      raw: JSON.stringify(msg.content),
      refusal: msg.stop_reason === 'refusal' ? text || 'the model refused' : null,
      usage: { input: msg.usage.input_tokens, output: msg.usage.output_tokens },
    };
  };
}

function openai(spec: ProviderSpec): Provider {
  let made: Promise<OpenAI> | null = null;
  const connect = (): Promise<OpenAI> => (made ??= loadOpenAI().then((O) => new O({ apiKey: spec.apiKey, maxRetries: 0, ...(spec.baseURL ? { baseURL: spec.baseURL } : {}) })));
  return async (prompt, schema, signal) => {
    const client = await connect();
    const body = {
      model: spec.model, max_tokens: spec.maxTokens,
      messages: [{ role: 'system' as const, content: prompt.system }, { role: 'user' as const, content: prompt.user }],
      response_format: { type: 'json_schema' as const, json_schema: { name: TOOL, schema, strict: false } },
    };
    let content = '';
    let refusal: string | null = null;
    let usage = { input: 0, output: 0 };
    if (spec.stream) {
      const stream = await rateLimited(() => client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, { signal }));
      for await (const chunk of stream) {
        const d = chunk.choices[0]?.delta;
        if (d?.content) content += d.content;
        if (d?.refusal) refusal = (refusal ?? '') + d.refusal;
        if (chunk.usage) usage = { input: chunk.usage.prompt_tokens, output: chunk.usage.completion_tokens };
      }
    } else {
      const r = await rateLimited(() => client.chat.completions.create(body, { signal }));
      const m = r.choices[0]?.message;
      content = m?.content ?? '';
      refusal = m?.refusal ?? null;
      if (r.usage) usage = { input: r.usage.prompt_tokens, output: r.usage.completion_tokens };
    }
    return { output: parseJson(content), raw: refusal ?? content, refusal, usage };
  };
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return null;
  }
}

/** Turns either SDK's 429 into RateLimitedError with the wait the provider asked for. */
async function rateLimited<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    // Both SDKs' API errors carry the HTTP status and headers (checked by shape: the classes live
    // in modules loaded lazily).
    const api = e as { status?: unknown; headers?: Headers | Record<string, string | null | undefined>; message?: string };
    if (e instanceof Error && api.status === 429) throw new RateLimitedError(retryAfterMs(api.headers), e.message);
    throw e;
  }
}

/** retry-after-ms, else retry-after in seconds or as an HTTP date; null when absent or unreadable. */
export function retryAfterMs(headers: Headers | Record<string, string | null | undefined> | undefined, now = Date.now()): number | null {
  const get = (k: string): string | null => (headers === undefined ? null : headers instanceof Headers ? headers.get(k) : headers[k] ?? null);
  const ms = Number(get('retry-after-ms'));
  if (get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const v = get('retry-after');
  if (v === null) return null;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
