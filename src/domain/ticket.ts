// The ticket state machine: the only code that changes a ticket. The reconciler (automation), the
// diagnoser's answers and people's commands (resolve, hold) submit events; this says whether the
// event is allowed and what the ticket becomes, with the audit records that describe the change.
import type { AuditIntent } from './audit.js';
import type { Problem } from './detect.js';
import { TransitionError, type TransitionContext } from './action.js';
import { elapsed } from './elapsed.js';
import type { Diagnosis, Finding, Occurrence, ShadowRecord, Ticket, TicketStatus } from './types.js';

export type TicketEvent =
  | { type: 'reopen'; flapThreshold: number }
  | { type: 'findings'; findings: Finding[] }
  /** A move the loop makes (planning, approval seen, action settled, escalation). */
  | { type: 'status'; to: TicketStatus; reason: string | null }
  /** Evidence changed (or there is no diagnosis yet): a diagnoser is asked; `key` names the evidence. */
  | { type: 'diagnose'; key: string }
  /** `flapThreshold`: a reopened problem is flapping once diagnosed, unless the cause is a crash loop. */
  /** `keepCause`: the next step of a repair whose last step held: the evidence and the next step
   *  are the new diagnosis's, the root cause stays the occurrence's first (what broke first). */
  | { type: 'diagnosed'; key: string; diagnosis: Diagnosis; flapThreshold: number; keepCause?: boolean }
  | { type: 'diagnosis_failed'; key: string; error: string }
  | { type: 'action_added'; actionId: string }
  /** The next step of a repair chain (runbook, then restart). */
  | { type: 'next_step' }
  | { type: 'verification'; verification: NonNullable<Ticket['verification']>; mono: NonNullable<Ticket['verificationMono']> }
  | { type: 'verified'; healthyForMs: number; tookMs: number }
  | { type: 'verification_failed'; reason: string }
  /** One step of a repair in several (a subject's) held, and the problem is not over: choose the next. */
  | { type: 'step_held'; reason: string }
  /** A person: out of automation for good (resolve) or until resolved (hold). */
  | { type: 'resolve'; by: string; reason: string }
  | { type: 'hold'; by: string; reason: string }
  /** Its service left the inventory: closed whatever its status, since nothing may act on it any more. */
  | { type: 'removed' }
  /** In shadow: what Warden would have done for this occurrence (decide audits it with the gate's checks). */
  | { type: 'shadowed'; shadow: ShadowRecord }
  /** In shadow: the problem ended without any action; how long after Warden would have acted. */
  | { type: 'went_away' };

/** Why a ticket closes, or a service is stopped, when its service leaves the inventory. */
export const REMOVED_FROM_INVENTORY = 'removed from the inventory';

export interface TicketTransition {
  next: Ticket;
  audit: AuditIntent[];
}

/** Occurrences a ticket keeps the story of (the oldest are dropped). */
export const MAX_HISTORY = 20;

/** Where the loop may move a ticket; people's resolve and hold are checked on their own. */
const AUTOMATION: Record<TicketStatus, readonly TicketStatus[]> = {
  // open → verifying: a problem waited out (a partition) is verified when it mends (decide.ts).
  open: ['open', 'diagnosing', 'awaiting_approval', 'remediating', 'verifying', 'escalated', 'resolved'],
  diagnosing: ['open', 'diagnosing', 'awaiting_approval', 'remediating', 'verifying', 'escalated', 'resolved'],
  awaiting_approval: ['open', 'awaiting_approval', 'remediating', 'held', 'escalated', 'resolved'],
  remediating: ['open', 'remediating', 'verifying', 'awaiting_approval', 'held', 'escalated'],
  verifying: ['open', 'verifying', 'escalated', 'resolved'],
  escalated: ['escalated'],
  held: ['held'],
  resolved: ['resolved'],
};

/** A new ticket for a problem: the one way tickets come to exist. */
export function openTicket(id: string, p: Problem, ctx: TransitionContext): TicketTransition {
  const next: Ticket = {
    id, fingerprint: p.fingerprint, status: 'open', service: p.service, host: p.host, findings: p.findings,
    cause: null, rootCause: null, confidence: null, occurrences: 1, flapping: false, openedAt: ctx.now,
    diagnosedAt: null, resolvedAt: null, updatedAt: ctx.now, actionIds: [], diagnosis: null, verification: null,
    reason: null, failedRepairs: 0, evidenceKey: null, history: [occurrence(1, ctx.now, p.findings)], flapStreak: 1,
  };
  return { next, audit: [{ kind: 'ticket.opened', subject: id, data: { fingerprint: p.fingerprint, service: p.service, findings: p.findings } }] };
}

export function transitionTicket(t: Ticket, e: TicketEvent, ctx: TransitionContext): TicketTransition {
  const next: Ticket = structuredClone(t);
  next.updatedAt = ctx.now;
  const audit: AuditIntent[] = [];
  const story = current(next);
  const setStatus = (to: TicketStatus, reason: string | null): void => {
    if (next.status === to && next.reason === reason) return;
    audit.push({ kind: 'ticket.status', subject: t.id, data: { from: next.status, to, reason, service: t.service } });
    next.status = to;
    next.reason = reason;
    if (to === 'resolved') resolved();
    if (to === 'escalated') {
      // Not healthy within the deadline: the repair's verification failed, and the story says why.
      if (t.status === 'verifying') story.verification = { outcome: 'failed', at: ctx.now, reason: reason ?? 'escalated' };
      next.verification = null;
      next.verificationMono = null;
    }
  };
  const resolved = (): void => {
    next.resolvedAt = ctx.now;
    next.resolvedMono = ctx.stamp ?? null;
    next.verification = null;
    next.verificationMono = null;
  };
  const closed = (): TransitionError => new TransitionError(`ticket ${t.id} is ${t.status}; ${e.type} needs a ticket that is not resolved`);

  switch (e.type) {
    case 'reopen': {
      if (t.status !== 'resolved') throw new TransitionError(`ticket ${t.id} is ${t.status}; only a resolved ticket reopens`);
      next.occurrences += 1;
      // A person's resolve restarts the count: "resolve by hand to resume" must resume automation.
      next.flapStreak = story.resolvedBy !== null ? 1 : (t.flapStreak ?? t.occurrences) + 1;
      // Provisional until this occurrence is diagnosed (a crash loop is not flapping).
      next.flapping = flapping(next, t.cause, e.flapThreshold);
      next.history = [...(next.history ?? []), occurrence(next.occurrences, ctx.now, t.findings)].slice(-MAX_HISTORY);
      // The top-level fields are the current occurrence's: its own diagnosis comes with its own evidence.
      next.diagnosis = null;
      next.cause = null;
      next.rootCause = null;
      next.confidence = null;
      next.diagnosedAt = null;
      next.status = 'open';
      next.reason = null;
      next.resolvedAt = null;
      next.resolvedMono = null;
      next.verification = null;
      next.verificationMono = null;
      next.failedRepairs = 0;
      next.step = 0;
      next.evidenceKey = null;
      audit.push({ kind: 'ticket.reopened', subject: t.id, data: { fingerprint: t.fingerprint, occurrences: next.occurrences, flapping: next.flapping } });
      break;
    }
    case 'findings':
      next.findings = e.findings;
      break;
    case 'status':
      if (!AUTOMATION[t.status].includes(e.to)) throw new TransitionError(`ticket ${t.id}: ${t.status} → ${e.to} is not a move the loop makes`);
      setStatus(e.to, e.reason);
      break;
    case 'diagnose':
      if (t.status === 'resolved') throw closed();
      // Not audited: the answer is (ticket.diagnosed, with the diagnoser's name and the evidence).
      next.evidenceKey = e.key;
      if (t.status === 'open') { next.status = 'diagnosing'; next.reason = null; }
      break;
    case 'diagnosed': {
      if (t.status === 'resolved') throw closed();
      const d = e.keepCause === true && t.rootCause !== null ? { ...e.diagnosis, rootCause: t.rootCause } : e.diagnosis;
      const prev = t.diagnosis;
      next.evidenceKey = e.key;
      const same = prev !== null && prev.rootCause.cause === d.rootCause.cause && prev.confidence === d.confidence
        && JSON.stringify(prev.recommended) === JSON.stringify(d.recommended);
      if (!same) {
        next.diagnosis = d;
        next.rootCause = d.rootCause;
        next.cause = d.rootCause.cause;
        next.confidence = d.confidence;
        next.diagnosedAt = ctx.now;
        next.flapping = flapping(next, d.rootCause.cause, e.flapThreshold);
        audit.push({ kind: 'ticket.diagnosed', subject: t.id, data: { cause: d.rootCause.cause, service: d.rootCause.service, confidence: d.confidence, evidence: d.evidence, alternatives: d.alternatives, recommended: d.recommended, diagnoser: d.diagnoser, evidenceKey: e.key } });
      }
      if (t.status === 'diagnosing') { next.status = 'open'; next.reason = null; }
      break;
    }
    case 'diagnosis_failed':
      if (t.status === 'resolved') throw closed();
      audit.push({ kind: 'ticket.diagnosis_failed', subject: t.id, data: { service: t.service, evidence: e.key, error: e.error } });
      setStatus('escalated', `diagnosis failed: ${e.error}; a person must look`);
      break;
    case 'action_added':
      next.actionIds = [...t.actionIds, e.actionId];
      story.actionIds.push(e.actionId);
      break;
    case 'next_step':
      next.step = (t.step ?? 0) + 1;
      break;
    case 'verification':
      next.verification = e.verification;
      next.verificationMono = e.mono;
      break;
    case 'verified':
      story.verification = { outcome: 'held', at: ctx.now, healthyForMs: e.healthyForMs, tookMs: e.tookMs };
      audit.push({ kind: 'ticket.verified', subject: t.id, data: { service: t.service, healthyForMs: e.healthyForMs, tookMs: e.tookMs } });
      // Waited out (a partition healed, a query cleared): no repair of this occurrence to credit.
      setStatus('resolved', story.actionIds.length > 0 ? `healthy for ${e.healthyForMs} ms after repair` : `recovered without action; healthy for ${e.healthyForMs} ms`);
      break;
    case 'verification_failed':
      next.failedRepairs += 1;
      story.verification = { outcome: 'failed', at: ctx.now, reason: e.reason };
      next.verification = null;
      next.verificationMono = null;
      next.step = 0; // a new repair starts its chain from the first step
      // A repair that did not hold is new evidence, whatever the facts the key is made of say.
      next.evidenceKey = null;
      audit.push({ kind: 'ticket.verification_failed', subject: t.id, data: { service: t.service, reason: e.reason, failedRepairs: next.failedRepairs } });
      setStatus('open', `repair did not hold: ${e.reason}`);
      break;
    case 'step_held':
      // Not a failed repair: the step did what it should. The next one is chosen afresh from the
      // world (new evidence), so no step acts on what the previous one changed.
      next.verification = null;
      next.verificationMono = null;
      next.step = 0;
      next.evidenceKey = null;
      setStatus('open', `step held: ${e.reason}`);
      break;
    case 'removed':
      if (t.status === 'resolved') throw closed();
      setStatus('resolved', REMOVED_FROM_INVENTORY);
      break;
    case 'shadowed':
      if (t.status === 'resolved') throw closed();
      story.shadow = e.shadow;
      break;
    case 'went_away': {
      const s = story.shadow;
      if (!s || s.outcome) break;
      // On monotonic time within the boot the prediction was made in (DESIGN rule 8).
      const afterMs = Math.max(0, Math.round(ctx.stamp ? elapsed({ wall: ctx.now, ...ctx.stamp }, s.at, s.stamp) : ctx.now - s.at));
      s.outcome = { kind: 'went_away', at: ctx.now, afterMs };
      audit.push({ kind: 'ticket.shadow_outcome', subject: t.id, data: { service: t.service, type: s.type, target: s.target, outcome: 'went_away', afterMs } });
      break;
    }
    case 'resolve':
    case 'hold': {
      if (t.status === 'resolved') throw new TransitionError(`ticket ${t.id} is already resolved`);
      const to = e.type === 'resolve' ? 'resolved' : 'held';
      audit.push({ kind: 'ticket.status', subject: t.id, data: { from: t.status, to, reason: e.reason } });
      next.status = to;
      next.verification = null;
      next.verificationMono = null;
      next.reason = `${e.reason} (${e.by})`;
      if (to === 'resolved') { resolved(); story.resolvedBy = e.by; }
      // Watched in shadow and settled by a person: the problem did not go away by itself.
      if (to === 'resolved' && story.shadow && !story.shadow.outcome) {
        story.shadow.outcome = { kind: 'resolved_by_person', at: ctx.now, by: e.by };
        audit.push({ kind: 'ticket.shadow_outcome', subject: t.id, data: { service: t.service, type: story.shadow.type, target: story.shadow.target, outcome: 'resolved_by_person', by: e.by } });
      }
      break;
    }
  }
  sync(next);
  return { next, audit };
}

/** A fresh occurrence record. */
function occurrence(n: number, openedAt: number, findings: Finding[]): Occurrence {
  return { n, openedAt, findings, diagnosis: null, actionIds: [], verification: null, resolvedAt: null, resolvedBy: null, reason: null };
}

/**
 * The record of the ticket's current occurrence, to be written by this transition; a ticket stored
 * before occurrences were recorded gets one made from its top-level fields.
 */
function current(t: Ticket): Occurrence {
  const last = t.history?.at(-1);
  if (last && last.n === t.occurrences) return last;
  const made = { ...occurrence(t.occurrences, t.occurrences === 1 ? t.openedAt : t.updatedAt, t.findings), actionIds: [...t.actionIds] };
  t.history = [...(t.history ?? []), made].slice(-MAX_HISTORY);
  return made;
}

/** The current occurrence mirrors the top-level fields, which are always the current occurrence's. */
function sync(t: Ticket): void {
  const c = current(t);
  c.findings = t.findings;
  c.diagnosis = t.diagnosis;
  c.resolvedAt = t.resolvedAt;
  c.reason = t.reason;
}

/** Flapping: a problem that keeps coming back after being resolved; a crash loop is one occurrence of repeated exits. */
function flapping(t: Ticket, cause: Diagnosis['rootCause']['cause'] | null, threshold: number): boolean {
  return (t.flapStreak ?? t.occurrences) >= threshold && cause !== 'crash_loop';
}

/** True when a person's answer is still awaited or automation may still act on the ticket. */
export function isOpen(t: Pick<Ticket, 'status'>): boolean {
  return t.status !== 'resolved';
}
