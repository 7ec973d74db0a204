// The diagnoser seam: the loop asks, a diagnoser answers asynchronously. Rules answer at once; an
// LLM diagnoser (later) may take seconds, and must not slow passes or other tickets meanwhile.
import type { DiagnoseRequest } from '../domain/decide.js';
import type { Diagnosis } from '../domain/types.js';
import { diagnose, type DiagnoseInput } from './rules.js';

/** Everything a diagnoser may look at for one ticket, gathered by the runtime. */
export interface EvidenceBundle extends DiagnoseInput {
  ticketId: string;
  /** The evidence digest the answer is for (see domain/evidence.ts). */
  key: string;
}

export interface Diagnoser {
  readonly name: string;
  diagnose(bundle: EvidenceBundle, signal: AbortSignal): Promise<Diagnosis>;
}

export const rulesDiagnoser: Diagnoser = {
  name: 'rules',
  diagnose: (bundle) => Promise.resolve(diagnose(bundle)),
};

/** The diagnosers by name; `agent.diagnoser` (later) picks one, rules is the default. */
export const diagnosers = { rules: rulesDiagnoser } as const satisfies Record<string, Diagnoser>;

export type { DiagnoseRequest };
