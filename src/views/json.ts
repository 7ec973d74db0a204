// The JSON forms of tickets and actions: a public interface (scripts and dashboards read them from
// `--json` and the API), with stable field names and ISO-8601 timestamps with milliseconds.
// One name per concept (docs/json.md): a service is `service`, a lifecycle is `state`; the older
// names DESIGN.md promises (`target`, a ticket's `status`) stay beside them.
import { currentShadow } from '../domain/shadow.js';
import type { Action, Occurrence, ReconcileReport, Ticket } from '../domain/types.js';
import { iso } from '../lib/clock.js';
import { shadowJson } from './shadow.js';

export function ticketJson(t: Ticket): Record<string, unknown> {
  return {
    id: t.id,
    fingerprint: t.fingerprint,
    status: t.status,
    state: t.status,
    service: t.service,
    host: t.host,
    findings: t.findings,
    cause: t.cause,
    rootCause: t.rootCause,
    confidence: t.confidence,
    occurrences: t.occurrences,
    flapping: t.flapping,
    openedAt: iso(t.openedAt),
    diagnosedAt: iso(t.diagnosedAt),
    resolvedAt: iso(t.resolvedAt),
    updatedAt: iso(t.updatedAt),
    actionIds: t.actionIds,
    reason: t.reason,
    diagnosis: t.diagnosis,
    verification: t.verification && {
      startedAt: iso(t.verification.startedAt),
      deadline: iso(t.verification.deadline),
      healthySince: iso(t.verification.healthySince),
    },
    flapStreak: t.flapStreak ?? t.occurrences,
    history: (t.history ?? []).map(occurrenceJson),
    // The current occurrence's: what Warden would have done in shadow (docs/policy.md), else null.
    shadow: ((s) => s && shadowJson(s))(currentShadow(t)),
  };
}

/** One occurrence of a ticket's problem, oldest first in `history`; the last is the current one. */
export function occurrenceJson(o: Occurrence): Record<string, unknown> {
  return {
    n: o.n,
    openedAt: iso(o.openedAt),
    findings: o.findings,
    cause: o.diagnosis?.rootCause.cause ?? null,
    diagnosis: o.diagnosis,
    actionIds: o.actionIds,
    verification: o.verification && { ...o.verification, at: iso(o.verification.at) },
    resolvedAt: iso(o.resolvedAt),
    resolvedBy: o.resolvedBy,
    reason: o.reason,
    shadow: o.shadow ? shadowJson(o.shadow) : null,
  };
}

export function actionJson(a: Action): Record<string, unknown> {
  return {
    id: a.id,
    ticketId: a.ticketId,
    type: a.type,
    target: a.target,
    service: a.target,
    params: a.params,
    state: a.state,
    attempts: a.attempts,
    idempotencyKey: a.idempotencyKey,
    requestedBy: a.requestedBy,
    approvedBy: a.approvedBy,
    createdAt: iso(a.createdAt),
    startedAt: iso(a.startedAt),
    finishedAt: iso(a.finishedAt),
    error: a.error,
    // Scheduled: when it is due. A workflow: its steps as they ran. A revert: what it undoes.
    ...(a.state === 'scheduled' ? { at: iso(a.notBefore) } : {}),
    ...(a.steps ? { steps: a.steps.map((r) => ({ ...r, startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt) })) } : {}),
    ...(a.revertOf !== undefined ? { revertOf: a.revertOf } : {}),
  };
}

/** `warden reconcile --once --json`: each recommendation names its service as `service` too. */
export function reportJson(r: ReconcileReport): Record<string, unknown> {
  return { ...r, recommendations: r.recommendations.map((x) => ({ ...x, service: x.target })) };
}
