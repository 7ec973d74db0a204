// The diagnoser seam: the loop asks, a diagnoser answers asynchronously. Rules answer at once; an
// LLM diagnoser (later) may take seconds, and must not slow passes or other tickets meanwhile.
import { z } from 'zod';
import type { DiagnoseRequest } from '../domain/decide.js';
import { registry, type Plugin } from '../plugins/plugin.js';
import type { Diagnosis } from '../domain/types.js';
import { diagnose, type DiagnoseInput } from './rules.js';
import { evidencePieces, type EvidencePiece, type PiecesInput } from './pieces.js';

/** Everything a diagnoser may look at for one ticket, gathered by the runtime. */
export interface EvidenceBundle extends DiagnoseInput, Pick<PiecesInput, 'actions' | 'resources' | 'recordedStart'> {
  ticketId: string;
  /** The evidence digest the answer is for (see domain/evidence.ts). */
  key: string;
}

/** The bundle as pieces with stable ids: what an LLM reads and a diagnosis cites. */
export function bundlePieces(b: EvidenceBundle): EvidencePiece[] {
  return evidencePieces({ ...b, logTail: b.logTail });
}

export interface Diagnoser {
  readonly name: string;
  diagnose(bundle: EvidenceBundle, signal: AbortSignal): Promise<Diagnosis>;
  /**
   * The same answer at once, for a diagnoser that needs no I/O of its own (rules): the pass that
   * asks applies it, instead of a second pass a moment later, so a kill is repaired as fast as
   * before diagnosis became an effect. A slow diagnoser (an LLM) has none and answers as an event.
   */
  diagnoseNow?(bundle: EvidenceBundle): Diagnosis;
}

export const rulesDiagnoser: Diagnoser = {
  name: 'rules',
  diagnose: (bundle) => Promise.resolve(diagnose(bundle)),
  diagnoseNow: (bundle) => diagnose(bundle),
};

/** A diagnoser as a plugin: what `doctor` lists and what a provider's prerequisites hang on. */
export interface DiagnoserPlugin<N extends string = string> extends Plugin<N, z.ZodType, Record<string, never>> {
  diagnoser: Diagnoser;
}

/** The diagnoser registry: one line per diagnoser (rules today; LLM providers next). */
export const diagnosers = registry('diagnoser', {
  rules: {
    name: 'rules', description: 'deterministic rules over the evidence: exits, process state, checks, log patterns, dependencies',
    config: z.strictObject({}), compile: () => ({}), prerequisites: [], diagnoser: rulesDiagnoser,
  },
}) satisfies Record<string, DiagnoserPlugin>;

export type { DiagnoseRequest };
