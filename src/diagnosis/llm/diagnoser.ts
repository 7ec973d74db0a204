// An LLM diagnoser under governance. Before any call: the cache (an unchanged problem is never
// asked twice), the budgets per day and per ticket (calls and tokens; counted from the stored calls,
// so a restart refills nothing), and any wait a 429 asked for. Each attempt is stored with its
// ticket, redacted prompt and response. Invalid output is retried once with what was wrong; then,
// like a refusal, a timeout or a spent budget, the diagnoser gives no answer and the rules decide.
import { createHash } from 'node:crypto';
import type { Diagnosis, ResolvedConfig } from '../../domain/types.js';
import type { Clock } from '../../lib/clock.js';
import { errorText, WardenError } from '../../lib/errors.js';
import type { LlmCall, LlmCallTable, LlmOutcome } from '../../store/llm.js';
import type { Diagnoser, EvidenceBundle } from '../diagnoser.js';
import { bundlePieces } from '../diagnoser.js';
import { problemServices } from '../pieces.js';
import { answerJsonSchema, checkAnswer } from './answer.js';
import { buildPrompt, promptText, type Prompt } from './prompt.js';
import { RateLimitedError, type Provider, type Reply } from './providers.js';
import type { Redactor } from './redact.js';

export interface LlmBudget { callsPerDay: number; tokensPerDay: number; callsPerTicket: number; tokensPerTicket: number }

export interface LlmDiagnoserDeps {
  name: string;
  model: string;
  call: Provider;
  calls: Pick<LlmCallTable, 'record' | 'usage' | 'cached'>;
  clock: Clock;
  redact: Redactor;
  budget: LlmBudget;
  timeoutMs: number;
}

/** The diagnoser gave no answer, and why (the rules decide; the reason is shown beside them). */
export class NoLlmAnswerError extends WardenError {
  constructor(diagnoser: string, why: string) {
    super('LLM_NO_ANSWER', `${diagnoser}: ${why}`);
  }
}

const DAY_MS = 86_400_000;

/** The cache key: the problem and the digest of the facts that can change its diagnosis. */
export function evidenceHash(bundle: EvidenceBundle): string {
  return createHash('sha256').update(`${bundle.problem.fingerprint}\n${bundle.key}`).digest('hex').slice(0, 32);
}

export function llmDiagnoser(deps: LlmDiagnoserDeps): Diagnoser {
  // A 429's retry-after, on monotonic time: no call to this provider before it, from any ticket.
  let quietUntil = 0;
  const schema = answerJsonSchema();

  const overBudget = (ticketId: string): string | null => {
    const { budget, calls, clock, name } = deps;
    const day = calls.usage(name, clock.now() - DAY_MS);
    if (day.calls >= budget.callsPerDay) return `daily budget of ${budget.callsPerDay} calls spent`;
    if (day.tokens >= budget.tokensPerDay) return `daily budget of ${budget.tokensPerDay} tokens spent`;
    const t = calls.usage(name, 0, ticketId);
    if (t.calls >= budget.callsPerTicket) return `the cap of ${budget.callsPerTicket} calls for ticket ${ticketId} is reached`;
    if (t.tokens >= budget.tokensPerTicket) return `the budget of ${budget.tokensPerTicket} tokens for ticket ${ticketId} is spent`;
    return null;
  };

  return {
    name: deps.name,
    async diagnose(bundle: EvidenceBundle, signal: AbortSignal): Promise<Diagnosis> {
      const { name, calls, clock } = deps;
      const hash = evidenceHash(bundle);
      const hit = calls.cached(name, hash);
      if (hit?.diagnosis) return hit.diagnosis;
      const pieces = bundlePieces(bundle);
      const prompt = buildPrompt(bundle.problem, pieces, problemServices(bundle.config, bundle.problem), deps.redact);
      const ctx = { config: bundle.config as ResolvedConfig, problem: bundle.problem, pieces, diagnoser: name };
      let current: Prompt = prompt;
      let rateRetried = false;
      for (let attempt = 0; attempt < 2;) {
        const wait = quietUntil - clock.mono();
        if (wait > 0) {
          if (wait > deps.timeoutMs) throw new NoLlmAnswerError(name, `rate limited by the provider for another ${Math.ceil(wait / 1000)} s`);
          await sleep(clock, wait, signal);
        }
        const spent = overBudget(bundle.ticketId);
        if (spent) throw new NoLlmAnswerError(name, `not asked: ${spent}`);
        const record = (outcome: LlmOutcome, r: Reply | null, error: string | null, diagnosis: Diagnosis | null): void => {
          const row: LlmCall = {
            ticketId: bundle.ticketId, diagnoser: name, model: deps.model, evidenceHash: hash, at: clock.now(), outcome,
            prompt: promptText(current), response: r ? deps.redact(r.raw) : null, error, inputTokens: r?.usage.input ?? 0, outputTokens: r?.usage.output ?? 0, diagnosis,
          };
          calls.record(row);
        };
        const timeout = AbortSignal.timeout(deps.timeoutMs);
        let reply: Reply;
        try {
          reply = await deps.call(current, schema, AbortSignal.any([signal, timeout]));
        } catch (e) {
          if (e instanceof RateLimitedError) {
            record('rate_limited', null, e.message, null);
            quietUntil = clock.mono() + (e.retryAfterMs ?? deps.timeoutMs);
            if (rateRetried) throw new NoLlmAnswerError(name, e.message);
            rateRetried = true;
            continue;
          }
          const timedOut = timeout.aborted && !signal.aborted;
          // Warden itself called the question off (the evidence changed, the ticket ended): say so,
          // so a stored error is never taken for the provider's.
          const why = timedOut ? `no answer within ${deps.timeoutMs} ms` : signal.aborted ? `cancelled by Warden before the answer: ${errorText(signal.reason)}` : errorText(e);
          record(timedOut ? 'timeout' : 'error', null, why, null);
          throw new NoLlmAnswerError(name, why);
        }
        if (reply.refusal !== null) {
          record('refused', reply, reply.refusal, null);
          throw new NoLlmAnswerError(name, `the model refused: ${reply.refusal.slice(0, 200)}`);
        }
        const checked = checkAnswer(reply.output, ctx);
        if (checked.ok) {
          record('ok', reply, null, checked.diagnosis);
          return checked.diagnosis;
        }
        record('invalid', reply, checked.why, null);
        attempt++;
        if (attempt >= 2) throw new NoLlmAnswerError(name, `invalid output twice; last: ${checked.why}`);
        current = { system: prompt.system, user: `${prompt.user}\n\nYour previous answer was rejected: ${checked.why}. Answer again through the structure.` };
      }
      throw new NoLlmAnswerError(name, 'no answer');
    },
  };
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = clock.setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clock.clearTimeout(t); reject(signal.reason as Error); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
