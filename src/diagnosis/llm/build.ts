// The diagnoser a configuration asks for: the rules alone, or the rules side by side with its LLM
// diagnosers (diagnosis.diagnosers), each with its key read now, at start, so a missing key is an
// error at start and not a silent "no answer" on the first incident.
import { readFileSync } from 'node:fs';
import type { LlmSpec, ResolvedConfig } from '../../domain/types.js';
import type { Clock } from '../../lib/clock.js';
import { WardenError } from '../../lib/errors.js';
import type { LlmCallTable } from '../../store/llm.js';
import { sideBySide } from '../combine.js';
import { rulesDiagnoser, type Diagnoser } from '../diagnoser.js';
import { llmDiagnoser } from './diagnoser.js';
import { provider } from './providers.js';
import { redactor } from './redact.js';

export class LlmKeyError extends WardenError {
  constructor(name: string, why: string) {
    super('LLM_KEY', `diagnosis.llm.${name}: ${why}`);
  }
}

export function configuredDiagnoser(config: ResolvedConfig, calls: LlmCallTable, clock: Clock, env: NodeJS.ProcessEnv = process.env): Diagnoser {
  const d = config.diagnosis;
  const names = (d?.diagnosers ?? []).filter((n) => n !== 'rules');
  if (!d || names.length === 0) return rulesDiagnoser;
  const redact = redactor(d.redact);
  const llms = names.map((name) => {
    const spec = d.llm[name]!;
    return llmDiagnoser({
      name, model: spec.model, clock, redact, calls, budget: spec.budget, timeoutMs: spec.timeoutMs,
      call: provider({ provider: spec.provider, model: spec.model, baseURL: spec.baseURL, apiKey: apiKey(name, spec, env), stream: spec.stream, maxTokens: spec.maxTokens }),
    });
  });
  return sideBySide({ ...rulesDiagnoser, diagnoseNow: rulesDiagnoser.diagnoseNow! }, llms, d.require);
}

function apiKey(name: string, spec: LlmSpec, env: NodeJS.ProcessEnv): string {
  if (spec.apiKeyFile !== null) {
    try {
      const key = readFileSync(spec.apiKeyFile, 'utf8').trim();
      if (key === '') throw new LlmKeyError(name, `apiKeyFile ${spec.apiKeyFile} is empty; put the key in it`);
      return key;
    } catch (e) {
      if (e instanceof LlmKeyError) throw e;
      throw new LlmKeyError(name, `cannot read apiKeyFile ${spec.apiKeyFile}: ${(e as Error).message}; create it (mode 0600) or use apiKeyEnv`);
    }
  }
  if (spec.apiKeyEnv !== null) {
    const key = env[spec.apiKeyEnv];
    if (!key) throw new LlmKeyError(name, `the environment variable ${spec.apiKeyEnv} is not set; export it for the daemon or use apiKeyFile`);
    return key;
  }
  // A local server (Ollama, llama.cpp) wants no key; the SDKs want a string.
  return 'none';
}
