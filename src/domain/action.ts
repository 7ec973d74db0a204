// The action state machine: the only code that changes an action's state. The reconciler, the
// executor and people's commands (approve, reject, cancel) submit events; this says whether the
// event is allowed and what the action becomes, with the audit records that describe the change.
//
//   proposed ──► validated ──► executing ──► completed | failed
//      │  └──► awaiting_approval ─┘  ▲   │
//      │              │            │   └──► validated (retry after backoff)
//      └──────────────┴──► cancelled
//
// A person may approve a proposal (recommend mode) as well as an action awaiting approval.
import type { AuditIntent } from './audit.js';
import type { MonoStamp } from './elapsed.js';
import { WardenError } from '../lib/errors.js';
import type { Action, ActionState, ActionType } from './types.js';

export interface TransitionContext {
  /** Wall time: stamps only. */
  now: number;
  /** Who submits the event (an agent name or a person); audited. */
  actor: string;
  /** Now on monotonic time with the boot, when known: windows are measured on it. */
  stamp?: MonoStamp;
}

export type ActionEvent =
  | { type: 'approve'; by: string }
  | { type: 'reject'; by: string; reason?: string | null }
  | { type: 'cancel'; by: string; reason: string }
  /** The executor takes it: durable `executing` before the effect starts. */
  | { type: 'start' }
  | { type: 'complete'; detail: string | null }
  | { type: 'fail'; error: string }
  /** The attempt failed and may be tried again after `backoffMs` (measured on monotonic time). */
  | { type: 'retry'; error: string; backoffMs: number }
  /** Warden restarted while it was executing; the effect was re-verified from the world. */
  | { type: 'resume'; outcome: 'completed' | 'continue' | 'unknown'; detail: string };

export interface ActionTransition {
  next: Action;
  audit: AuditIntent[];
}

/** The states each event may leave from; anything else is refused with a reason a person can act on. */
const FROM: Record<ActionEvent['type'], readonly ActionState[]> = {
  approve: ['awaiting_approval', 'proposed'],
  reject: ['awaiting_approval', 'proposed'],
  cancel: ['proposed', 'validated', 'awaiting_approval'],
  start: ['validated'],
  complete: ['executing'],
  fail: ['executing', 'validated', 'proposed', 'awaiting_approval'],
  retry: ['executing'],
  resume: ['executing'],
};

export class TransitionError extends WardenError {
  constructor(message: string) {
    super('INVALID_TRANSITION', message);
  }
}

export const MAX_ATTEMPTS = 3;

export interface ProposeInput {
  id: string;
  type: ActionType;
  target: string;
  params: Record<string, string>;
  ticketId: string | null;
  idempotencyKey: string;
  state: 'proposed' | 'validated' | 'awaiting_approval';
  /** Free facts for the audit record (why it was proposed). */
  why: Record<string, unknown>;
  /** Wait this long (monotonic time) before the first attempt: a restart backoff. */
  delayMs?: number;
}

/** A new action: the one way actions come to exist. */
export function proposeAction(p: ProposeInput, ctx: TransitionContext): ActionTransition {
  const next: Action = {
    id: p.id, ticketId: p.ticketId, type: p.type, target: p.target, params: p.params, state: p.state,
    attempts: 0, maxAttempts: MAX_ATTEMPTS, idempotencyKey: p.idempotencyKey, requestedBy: ctx.actor,
    approvedBy: null, createdAt: ctx.now, startedAt: null, finishedAt: null, notBefore: null, error: null,
  };
  if (p.delayMs !== undefined && p.delayMs > 0) {
    next.notBefore = ctx.now + p.delayMs;
    next.notBeforeMono = ctx.stamp ? { mono: ctx.stamp.mono + p.delayMs, boot: ctx.stamp.boot } : null;
  }
  const data = { ...(p.ticketId ? { ticket: p.ticketId } : {}), type: p.type, target: p.target, state: p.state, ...p.why, ...(next.notBefore != null ? { notBefore: next.notBefore } : {}) };
  return { next, audit: [{ kind: 'action.proposed', subject: p.id, data }] };
}

export function transitionAction(a: Action, e: ActionEvent, ctx: TransitionContext): ActionTransition {
  if (!FROM[e.type].includes(a.state)) {
    const hint = a.state === 'executing' && e.type === 'cancel' ? ': its effect is under way and cannot be interrupted safely; freeze to stop further actions' : '';
    throw new TransitionError(`action ${a.id} is ${a.state}; ${e.type} needs ${FROM[e.type].join(' or ')}${hint}`);
  }
  const next: Action = { ...a, params: { ...a.params } };
  const subject = a.id;
  const base = { type: a.type, target: a.target };
  switch (e.type) {
    case 'approve':
      next.state = 'validated';
      next.approvedBy = e.by;
      return { next, audit: [{ kind: 'action.approved', subject, data: { ...base, reason: null } }] };
    case 'reject':
      next.state = 'cancelled';
      next.finishedAt = ctx.now;
      next.error = `rejected by ${e.by}${e.reason ? `: ${e.reason}` : ''}`;
      return { next, audit: [{ kind: 'action.rejected', subject, data: { ...base, reason: e.reason ?? null } }] };
    case 'cancel':
      next.state = 'cancelled';
      next.finishedAt = ctx.now;
      next.error = e.reason;
      return { next, audit: [{ kind: 'action.cancelled', subject, data: { ...base, reason: e.reason } }] };
    case 'start':
      next.state = 'executing';
      next.attempts = a.attempts + 1;
      next.startedAt = ctx.now;
      next.notBefore = null;
      next.notBeforeMono = null;
      return { next, audit: [{ kind: 'action.executing', subject, data: { ...base, attempt: next.attempts, idempotencyKey: a.idempotencyKey } }] };
    case 'complete':
      return finish(next, 'completed', null, e.detail, ctx);
    case 'fail':
      return finish(next, 'failed', e.error, null, ctx);
    case 'retry':
      next.state = 'validated';
      next.notBefore = ctx.now + e.backoffMs;
      next.notBeforeMono = ctx.stamp ? { mono: ctx.stamp.mono + e.backoffMs, boot: ctx.stamp.boot } : null;
      next.error = e.error;
      return { next, audit: [{ kind: 'action.retry', subject, data: { error: e.error, attempt: a.attempts, notBefore: next.notBefore } }] };
    case 'resume': {
      const audit: AuditIntent[] = [{ kind: 'action.resumed', subject, data: { outcome: e.outcome, detail: e.detail } }];
      if (e.outcome === 'continue') return { next, audit };
      const done = e.outcome === 'completed' ? finish(next, 'completed', null, e.detail, ctx) : finish(next, 'failed', e.detail, null, ctx);
      return { next: done.next, audit: [...audit, ...done.audit] };
    }
  }
}

function finish(a: Action, state: 'completed' | 'failed', error: string | null, detail: string | null, ctx: TransitionContext): ActionTransition {
  a.state = state;
  a.error = error;
  a.finishedAt = ctx.now;
  const tookMs = a.startedAt ? ctx.now - a.startedAt : null;
  return {
    next: a,
    audit: [{ kind: state === 'completed' ? 'action.completed' : 'action.failed', subject: a.id, data: { type: a.type, target: a.target, detail, error, tookMs } }],
  };
}

/** Milliseconds until a retry may start (≤ 0: now); on monotonic time within the boot it was set in. */
export function retryIn(a: Pick<Action, 'notBefore' | 'notBeforeMono'>, now: { wall: number; mono: number; boot: string }): number {
  if (a.notBefore == null) return 0;
  if (a.notBeforeMono && a.notBeforeMono.boot === now.boot) return a.notBeforeMono.mono - now.mono;
  return a.notBefore - now.wall;
}

/** A person rejected or cancelled it ("rejected by …" here, "cancelled by …" in app/commands.ts). */
export function refusedByPerson(a: Pick<Action, 'state' | 'error'>): boolean {
  return a.state === 'cancelled' && /^(rejected|cancelled) by /.test(a.error ?? '');
}

export function isTerminal(a: Pick<Action, 'state'>): boolean {
  return a.state === 'completed' || a.state === 'failed' || a.state === 'cancelled';
}
