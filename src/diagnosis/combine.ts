// Diagnosers side by side (diagnosis.diagnosers): the rules always answer, each LLM may. Which
// answer the ticket acts on is `diagnosis.require`:
//   rules  the rules decide; the LLMs' opinions are kept and shown;
//   any    a valid LLM answer decides; without one the rules do;
//   agree  act only when every LLM that answered names the rules' root cause; a disagreement
//          leaves the diagnosis without actions, for a person to decide.
// An LLM that gives no answer (budget, refusal, invalid twice, timeout) never blocks: the rules
// decide, and why the LLM said nothing is kept beside them.
import type { Diagnosis, Opinion } from '../domain/types.js';
import { errorText } from '../lib/errors.js';
import type { Diagnoser, EvidenceBundle } from './diagnoser.js';

export type Require = 'agree' | 'rules' | 'any';
export const REQUIRES: readonly Require[] = ['agree', 'rules', 'any'];

export function sideBySide(rules: Diagnoser & { diagnoseNow: NonNullable<Diagnoser['diagnoseNow']> }, llms: readonly Diagnoser[], require: Require): Diagnoser {
  return {
    name: [rules.name, ...llms.map((l) => l.name)].join('+'),
    async diagnose(bundle: EvidenceBundle, signal: AbortSignal): Promise<Diagnosis> {
      const base = rules.diagnoseNow(bundle);
      const answers = await Promise.all(llms.map(async (l) => {
        try {
          return { name: l.name, d: await l.diagnose(bundle, signal), error: null };
        } catch (e) {
          return { name: l.name, d: null, error: errorText(e) };
        }
      }));
      const opinions: Opinion[] = [opinionOf(base, null), ...answers.map((a) => (a.d ? opinionOf(a.d, null) : { diagnoser: a.name, rootCause: null, confidence: null, recommended: [], citations: [], error: a.error }))];
      const same = (d: Diagnosis): boolean => d.rootCause.service === base.rootCause.service && d.rootCause.cause === base.rootCause.cause;
      const answered = answers.filter((a) => a.d !== null) as { name: string; d: Diagnosis }[];
      const dissent = answered.filter((a) => !same(a.d));
      const disagreement = dissent.length === 0 ? undefined
        : `rules say ${base.rootCause.service}: ${base.rootCause.cause}; ${dissent.map((a) => `${a.name} says ${a.d.rootCause.service}: ${a.d.rootCause.cause}`).join('; ')}`;
      const extra = { opinions, ...(disagreement ? { disagreement } : {}) };
      if (require === 'any' && answered[0]) return { ...answered[0].d, ...extra };
      if (require === 'agree' && disagreement) {
        const { noRepair: _n, waitFor: _w, ...rest } = base;
        return { ...rest, recommended: [], noRepair: `the diagnosers disagree (${disagreement}) and policy requires agreement: a person decides`, ...extra };
      }
      return { ...base, ...extra };
    },
  };
}

function opinionOf(d: Diagnosis, error: string | null): Opinion {
  return {
    diagnoser: d.diagnoser, rootCause: { service: d.rootCause.service, cause: d.rootCause.cause }, confidence: d.confidence,
    recommended: d.recommended, citations: d.evidence.flatMap((e) => (e.piece !== undefined ? [e.piece] : [])), error,
  };
}
