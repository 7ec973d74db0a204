// The diagnosis section of warden.yaml: which diagnosers run side by side, whose answer is acted
// on, the redaction patterns, and each LLM diagnoser's provider, key, model and budgets
// (docs/diagnosis.md, "LLM diagnosers").
import { resolve } from 'node:path';
import { z } from 'zod';
import { REQUIRES } from '../diagnosis/combine.js';
import type { DiagnosisSpec } from '../domain/types.js';
import { parseDuration } from '../lib/duration.js';
import { count, duration, name, path, regex, show } from './fields.js';

const llmSchema = z.strictObject({
  provider: z.enum(['anthropic', 'openai']).meta({ description: 'anthropic: the Messages API; openai: any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp) with baseURL.' }),
  model: z.string().min(1).meta({ description: 'The model name the provider knows, e.g. claude-sonnet-4-5 or llama3.1:8b.' }),
  baseURL: z.url({ protocol: /^https?$/, error: (iss) => `expected an http:// or https:// base URL, e.g. http://127.0.0.1:11434/v1 for Ollama; got ${show(iss.input)}` }).optional()
    .meta({ description: "The API's base URL; default the provider's hosted API." }),
  apiKeyFile: path.optional().meta({ description: 'File holding the API key (mode 0600); relative to the config file.' }),
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional().meta({ description: 'Environment variable holding the API key, e.g. ANTHROPIC_API_KEY. Neither: no key (a local server).' }),
  stream: z.boolean().default(false).meta({ description: 'Ask for a streamed response (server-sent events).' }),
  timeout: duration({ positive: true }).default('30s').meta({ description: 'One call gives up after this long; the rules decide.' }),
  maxTokens: count.default(1024).meta({ description: 'Most tokens one answer may use.' }),
  budget: z.strictObject({
    callsPerDay: count.default(200), tokensPerDay: count.default(500_000),
    callsPerTicket: count.default(3).meta({ description: 'Cap on calls for one ticket, retries included.' }), tokensPerTicket: count.default(50_000),
  }).prefault({}).meta({ description: 'Spent budgets stop calls (the rules decide); counted from the stored calls over the last 24 h.' }),
});

export const diagnosisSchema = z
  .strictObject({
    diagnosers: z.array(z.string().min(1)).min(1).default(['rules']).meta({ description: 'Diagnosers run side by side: rules and names from llm, e.g. [rules, claude]. The rules always run.' }),
    require: z.enum(REQUIRES).default('rules').meta({ description: "Whose answer is acted on: rules (the LLMs advise), any (a valid LLM answer decides), agree (act only when they agree)." }),
    redact: z.array(regex).default([]).meta({ description: 'More secret patterns, redacted before anything leaves the host (bearer tokens, AWS keys, private keys and passwords in URLs always are).' }),
    llm: z.record(name('llm diagnoser'), llmSchema).default({}).meta({ description: 'LLM diagnosers by name.' }),
  })
  .superRefine((d, ctx) => {
    d.diagnosers.forEach((n, i) => {
      if (n !== 'rules' && !(n in d.llm)) ctx.addIssue({ code: 'custom', path: ['diagnosers', i], message: `diagnoser ${show(n)} is neither rules nor a name under diagnosis.llm (${Object.keys(d.llm).join(', ') || 'none defined'}); define it there or remove it` });
    });
  })
  .prefault({})
  .meta({ description: 'Who diagnoses: rules, and optionally LLMs under budgets (docs/diagnosis.md).' });

export function compileDiagnosis(d: z.output<typeof diagnosisSchema>, base: string): DiagnosisSpec {
  return {
    diagnosers: [...d.diagnosers], require: d.require, redact: [...d.redact],
    llm: Object.fromEntries(Object.entries(d.llm).map(([n, l]) => [n, {
      provider: l.provider, model: l.model, baseURL: l.baseURL ?? null, apiKeyFile: l.apiKeyFile === undefined ? null : resolve(base, l.apiKeyFile),
      apiKeyEnv: l.apiKeyEnv ?? null, stream: l.stream, timeoutMs: parseDuration(l.timeout), maxTokens: l.maxTokens, budget: { ...l.budget },
    }])),
  };
}
