// The LLM calls' rows (migration 10): written by the LLM diagnoser after each call, read for its
// budgets and cache, and by "warden tickets show ID --llm". Only rows; when to call is the
// diagnoser's business (diagnosis/llm/diagnoser.ts).
import type Database from 'better-sqlite3';
import type { Diagnosis } from '../domain/types.js';

export type LlmOutcome = 'ok' | 'invalid' | 'refused' | 'rate_limited' | 'timeout' | 'error';

export interface LlmCall {
  ticketId: string;
  diagnoser: string;
  model: string;
  evidenceHash: string;
  at: number;
  outcome: LlmOutcome;
  /** As sent, after redaction. */
  prompt: string;
  response: string | null;
  error: string | null;
  inputTokens: number;
  outputTokens: number;
  /** The validated diagnosis an `ok` call gave. */
  diagnosis: Diagnosis | null;
}

export interface LlmCallRow extends LlmCall { id: number }

interface Raw {
  id: number; ticket_id: string; diagnoser: string; model: string; evidence_hash: string; at: number; outcome: LlmOutcome;
  prompt: string; response: string | null; error: string | null; input_tokens: number; output_tokens: number; diagnosis: string | null;
}

function rowOf(r: Raw): LlmCallRow {
  return {
    id: r.id, ticketId: r.ticket_id, diagnoser: r.diagnoser, model: r.model, evidenceHash: r.evidence_hash, at: r.at, outcome: r.outcome,
    prompt: r.prompt, response: r.response, error: r.error, inputTokens: r.input_tokens, outputTokens: r.output_tokens,
    diagnosis: r.diagnosis === null ? null : JSON.parse(r.diagnosis) as Diagnosis,
  };
}

export class LlmCallTable {
  constructor(private readonly st: (sql: string) => Database.Statement) {}

  record(c: LlmCall): number {
    return Number(this.st(
      `INSERT INTO llm_calls (ticket_id, diagnoser, model, evidence_hash, at, outcome, prompt, response, error, input_tokens, output_tokens, diagnosis)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(c.ticketId, c.diagnoser, c.model, c.evidenceHash, c.at, c.outcome, c.prompt, c.response, c.error, c.inputTokens, c.outputTokens,
      c.diagnosis === null ? null : JSON.stringify(c.diagnosis)).lastInsertRowid);
  }

  /** A ticket's calls, oldest first. */
  forTicket(ticketId: string): LlmCallRow[] {
    return (this.st('SELECT * FROM llm_calls WHERE ticket_id = ? ORDER BY id').all(ticketId) as Raw[]).map(rowOf);
  }

  /** Calls and tokens a diagnoser spent since `since` (wall ms), for one ticket or all. */
  usage(diagnoser: string, since: number, ticketId?: string): { calls: number; tokens: number } {
    const r = (ticketId === undefined
      ? this.st('SELECT count(*) AS calls, coalesce(sum(input_tokens + output_tokens), 0) AS tokens FROM llm_calls WHERE diagnoser = ? AND at >= ?').get(diagnoser, since)
      : this.st('SELECT count(*) AS calls, coalesce(sum(input_tokens + output_tokens), 0) AS tokens FROM llm_calls WHERE diagnoser = ? AND at >= ? AND ticket_id = ?').get(diagnoser, since, ticketId)) as { calls: number; tokens: number };
    return { calls: r.calls, tokens: r.tokens };
  }

  /** The newest good answer a diagnoser gave for this evidence, if any (the cache). */
  cached(diagnoser: string, evidenceHash: string): LlmCallRow | null {
    const r = this.st("SELECT * FROM llm_calls WHERE diagnoser = ? AND evidence_hash = ? AND outcome = 'ok' ORDER BY id DESC LIMIT 1").get(diagnoser, evidenceHash) as Raw | undefined;
    return r ? rowOf(r) : null;
  }
}
