// Alerts from Alertmanager in a diagnosis: their facts as evidence, and, when an alert is all that
// is wrong with the root service, the cause it names. Alert text is untrusted input: it is shown,
// never acted on; only a `cause` label from the taxonomy, and a runbook declared for that cause, lead
// to an action.
import type { Problem } from '../domain/detect.js';
import { CAUSES, type AlertFacts, type Cause, type Evidence, type ServiceSpec } from '../domain/types.js';

const pairs = (r: Record<string, string>): string => Object.entries(r).map(([k, v]) => `${k}=${v}`).join(', ');

/** One evidence item per alert of the problem: labels, annotations, since when, where it comes from. */
export function alertEvidence(problem: Problem): Evidence[] {
  return problem.findings.flatMap((f) => f.alert ? [{
    source: `alert:${f.alert.name}`, piece: `alert:${f.alert.fingerprint}`,
    fact: `firing on ${f.service} since ${f.alert.startsAt} (Alertmanager); labels ${pairs(f.alert.labels)}; annotations ${pairs(f.alert.annotations) || 'none'}${f.alert.generatorURL ? `; ${f.alert.generatorURL}` : ''}`,
  }] : []);
}

/** The alerts firing on the root service itself. */
export function rootAlerts(problem: Problem): AlertFacts[] {
  return problem.findings.filter((f) => f.service === problem.service && f.alert).map((f) => f.alert!);
}

/** The cause an alert names with a `cause` label from the taxonomy; otherwise unknown. */
export function alertCause(alerts: readonly AlertFacts[]): { cause: Cause; confidence: number; why: string } {
  const named = alerts.find((a) => (CAUSES as readonly string[]).includes(a.labels.cause ?? ''));
  if (named) return { cause: named.labels.cause as Cause, confidence: 0.7, why: `alert ${named.name} has the label cause=${named.labels.cause}` };
  return { cause: 'unknown', confidence: 0.5, why: `alert ${alerts[0]?.name ?? '?'} names no cause (a cause label from the taxonomy would)` };
}

/**
 * The repair of an alert-only problem: the runbook declared for its cause, nothing else (a restart
 * on an alert's say-so could make things worse); without one, the ticket waits for the alert.
 */
export function alertRepair(spec: ServiceSpec, cause: Cause, alerts: readonly AlertFacts[]): { recommended: { type: 'run-runbook'; target: string; params: Record<string, string> }[]; waitFor?: string } {
  const runbook = spec.runbooks.find((r) => r.for.includes(cause));
  if (runbook) return { recommended: [{ type: 'run-runbook', target: spec.name, params: { runbook: runbook.name } }] };
  const names = alerts.map((a) => a.name).join(', ');
  return {
    recommended: [],
    waitFor: `waiting for Alertmanager to resolve ${names}: Warden has no repair for it (declare a runbook for cause ${cause}, or a cause label on the alert); the ticket resolves with the alert, or by hand`,
  };
}
