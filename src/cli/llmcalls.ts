// How `tickets show` prints diagnosers side by side and, with --llm, the stored LLM calls: the
// prompt exactly as it was sent (redacted before it left the host) and what came back.
import type { Diagnosis } from '../domain/types.js';
import type { LlmCallRow } from '../store/llm.js';

export function opinionLines(d: Diagnosis | null): string[] {
  if (!d?.opinions) return [];
  const out = ['  diagnosers'];
  for (const o of d.opinions) {
    out.push(`    ${o.diagnoser.padEnd(10)} ${o.rootCause ? `${o.rootCause.service}: ${o.rootCause.cause} (confidence ${o.confidence})${o.recommended.length ? `; proposes ${o.recommended.map((r) => `${r.type} ${r.target}`).join(', ')}` : ''}` : `no answer: ${o.error}`}`);
  }
  if (d.disagreement) out.push(`    disagreement: ${d.disagreement}`);
  return out;
}

export function llmCallLines(calls: readonly LlmCallRow[]): string[] {
  if (calls.length === 0) return ['  llm calls    none (no LLM diagnoser asked about this ticket, or the cache answered)'];
  const out: string[] = [];
  for (const c of calls) {
    out.push(`  llm call ${c.id}  ${c.diagnoser} (${c.model})  ${new Date(c.at).toISOString()}  ${c.outcome}  ${c.inputTokens}+${c.outputTokens} tokens${c.error ? `  — ${c.error}` : ''}`);
    out.push('    prompt (as sent, redacted):', ...indent(c.prompt));
    out.push('    response:', ...indent(c.response ?? '(none)'));
  }
  return out;
}

export function llmCallJson(c: LlmCallRow): Record<string, unknown> {
  return { ...c, at: new Date(c.at).toISOString() };
}

function indent(text: string): string[] {
  return text.split('\n').map((l) => `      ${l}`);
}
