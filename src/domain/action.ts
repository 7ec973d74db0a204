// The action state machine: the only code that changes an action's state. The reconciler, the
// executor and people's commands (approve, reject, cancel) submit events; this says whether the
// event is allowed and what the action becomes, with the audit records that describe the change.
//
//   proposed ──► validated ──► executing ──► completed | failed
//      │  └──► awaiting_approval ─┘  ▲   │
//      │              │            │   └──► validated (retry after backoff)
//      └──────────────┴──► cancelled
//   scheduled ──(due: gated again)──► validated | awaiting_approval; or ──► cancelled
//
// A person may approve a proposal (recommend mode) as well as an action awaiting approval. A
// workflow's steps are recorded on its action while it executes (`step`).
import type { AuditIntent } from './audit.js';
import type { MonoStamp } from './elapsed.js';
import { WardenError } from '../lib/errors.js';
import type { Action, ActionState, ActionType, ApprovalRequest, StepRecord } from './types.js';
import { withRecord } from './workflow.js';

export interface TransitionContext {
  /** Wall time: stamps only. */
  now: number;
  /** Who submits the event (an agent name or a person); audited. */
  actor: string;
  /** Now on monotonic time with the boot, when known: windows are measured on it. */
  stamp?: MonoStamp;
}

export type ActionEvent =
  /** `roles`: the approver's roles, for approvers listed as `role:NAME`. */
  | { type: 'approve'; by: string; roles?: readonly string[] }
  /** Its approval request lapsed: denied. */
  | { type: 'expire' }
  | { type: 'reject'; by: string; reason?: string | null }
  | { type: 'cancel'; by: string; reason: string }
  /** The executor takes it: durable `executing` before the effect starts. */
  | { type: 'start' }
  | { type: 'complete'; detail: string | null }
  | { type: 'fail'; error: string }
  /** The attempt failed and may be tried again after `backoffMs` (measured on monotonic time). */
  | { type: 'retry'; error: string; backoffMs: number }
  /** Warden restarted while it was executing; the effect was re-verified from the world. */
  | { type: 'resume'; outcome: 'completed' | 'continue' | 'unknown'; detail: string }
  /** A workflow step started, ended or was skipped (durable before the next step starts). */
  | { type: 'step'; record: StepRecord }
  /** A scheduled action's time came and the policy as it is now lets it go on (`approval`: it needs one). */
  | { type: 'due'; approval?: { quorum: number; approvers: readonly string[]; ttlMs: number } }
  /** A scheduled action's time came and it waits (frozen, a window, ...): the reason is kept on it. */
  | { type: 'defer'; reason: string };

export interface ActionTransition {
  next: Action;
  audit: AuditIntent[];
}

/** The states each event may leave from; anything else is refused with a reason a person can act on. */
const FROM: Record<ActionEvent['type'], readonly ActionState[]> = {
  approve: ['awaiting_approval', 'proposed'],
  expire: ['awaiting_approval'],
  reject: ['awaiting_approval', 'proposed'],
  cancel: ['proposed', 'validated', 'awaiting_approval', 'scheduled'],
  start: ['validated'],
  complete: ['executing'],
  fail: ['executing', 'validated', 'proposed', 'awaiting_approval'],
  retry: ['executing'],
  resume: ['executing'],
  step: ['executing'],
  due: ['scheduled'],
  defer: ['scheduled'],
};

export class TransitionError extends WardenError {
  constructor(message: string) {
    super('INVALID_TRANSITION', message);
  }
}

/** An approval that does not count: self-approval, not an approver, twice by the same person. */
export class ApprovalError extends WardenError {
  constructor(message: string) {
    super('APPROVAL_REFUSED', message);
  }
}

/** Why `by` may not approve this action now, or null. A proposal (recommend mode) has no request: anyone but its requester. */
export function approvalRefusal(a: Action, req: ApprovalRequest | null, by: string, roles: readonly string[]): string | null {
  if (by === a.requestedBy) return `${by} requested action ${a.id} and cannot approve it too`;
  if (!req) return null;
  if (req.by.includes(by)) return `${by} has approved action ${a.id} already (${req.by.length} of ${req.quorum})`;
  if (req.approvers.length === 0) return null;
  const name = by.replace(/^person:/, '');
  const may = req.approvers.some((x) => x === name || x === by || (x.startsWith('role:') && roles.includes(x.slice(5))));
  return may ? null : `${by} is not an approver of action ${a.id} (approvers: ${req.approvers.join(', ')})`;
}

/** Whether an approval request has lapsed: on monotonic time within its boot, on wall time across boots. */
export function approvalLapsed(req: ApprovalRequest, now: { wall: number; mono: number; boot: string }): boolean {
  if (req.expiresMono && req.expiresMono.boot === now.boot) return now.mono >= req.expiresMono.mono;
  return now.wall >= req.expiresAt;
}

export const MAX_ATTEMPTS = 3;

export interface ProposeInput {
  id: string;
  type: ActionType;
  target: string;
  params: Record<string, string>;
  ticketId: string | null;
  idempotencyKey: string;
  state: 'proposed' | 'validated' | 'awaiting_approval' | 'scheduled';
  /** Free facts for the audit record (why it was proposed). */
  why: Record<string, unknown>;
  /** Wait this long (monotonic time) before the first attempt: a restart backoff. */
  delayMs?: number;
  /** For state awaiting_approval: who may approve, how many, for how long (default: anyone but the requester, one, an hour). */
  approval?: { quorum: number; approvers: readonly string[]; ttlMs: number };
  /** For state scheduled: when it is due, on the wall clock and, when given as a delay, on monotonic time. */
  at?: { wall: number; mono: MonoStamp | null };
  /** The action this one reverts (its verification failed). */
  revertOf?: string;
}

/** The lifetime of an approval request when no rule says. */
export const DEFAULT_APPROVAL_TTL_MS = 60 * 60_000;

/** A new action: the one way actions come to exist. */
export function proposeAction(p: ProposeInput, ctx: TransitionContext): ActionTransition {
  const next: Action = {
    id: p.id, ticketId: p.ticketId, type: p.type, target: p.target, params: p.params, state: p.state,
    attempts: 0, maxAttempts: MAX_ATTEMPTS, idempotencyKey: p.idempotencyKey, requestedBy: ctx.actor,
    approvedBy: null, createdAt: ctx.now, startedAt: null, finishedAt: null, notBefore: null, error: null,
  };
  if (p.state === 'awaiting_approval') next.approval = approvalRequest(p.approval, ctx);
  if (p.delayMs !== undefined && p.delayMs > 0) {
    next.notBefore = ctx.now + p.delayMs;
    next.notBeforeMono = ctx.stamp ? { mono: ctx.stamp.mono + p.delayMs, boot: ctx.stamp.boot } : null;
  }
  if (p.at) {
    next.notBefore = p.at.wall;
    next.notBeforeMono = p.at.mono;
  }
  if (p.revertOf !== undefined) next.revertOf = p.revertOf;
  const data = {
    ...(p.ticketId ? { ticket: p.ticketId } : {}), type: p.type, target: p.target, state: p.state, ...p.why,
    ...(next.notBefore != null ? { notBefore: next.notBefore } : {}), ...(p.revertOf !== undefined ? { revertOf: p.revertOf } : {}),
  };
  return { next, audit: [{ kind: 'action.proposed', subject: p.id, data }] };
}

/** An approval request starting now (default: anyone but the requester, one approval, an hour). */
function approvalRequest(p: ProposeInput['approval'], ctx: TransitionContext): ApprovalRequest {
  const { quorum, approvers, ttlMs } = p ?? { quorum: 1, approvers: [], ttlMs: DEFAULT_APPROVAL_TTL_MS };
  return {
    quorum, approvers: [...approvers], by: [], expiresAt: ctx.now + ttlMs,
    expiresMono: ctx.stamp ? { mono: ctx.stamp.mono + ttlMs, boot: ctx.stamp.boot } : null,
  };
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
    case 'approve': {
      const req = a.state === 'awaiting_approval' ? a.approval ?? null : null;
      const refusal = approvalRefusal(a, req, e.by, e.roles ?? []);
      if (refusal !== null) throw new ApprovalError(refusal);
      const by = [...(req?.by ?? []), e.by];
      const quorum = req?.quorum ?? 1;
      if (req) next.approval = { ...req, by };
      if (by.length < quorum) {
        return { next, audit: [{ kind: 'action.approval_recorded', subject, data: { ...base, by: e.by, approvals: by.length, quorum } }] };
      }
      next.state = 'validated';
      next.approvedBy = by.join(', ');
      return { next, audit: [{ kind: 'action.approved', subject, data: { ...base, reason: null, ...(quorum > 1 ? { approvers: by } : {}) } }] };
    }
    case 'expire': {
      const req = a.approval;
      const waited = req ? `${req.by.length} of ${req.quorum} approval${req.quorum === 1 ? '' : 's'} by ${new Date(req.expiresAt).toISOString()}` : 'no approval in time';
      next.state = 'cancelled';
      next.finishedAt = ctx.now;
      next.error = `approval expired (${waited}): denied`;
      return { next, audit: [{ kind: 'action.expired', subject, data: { ...base, reason: next.error } }] };
    }
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
    case 'step':
      next.steps = withRecord(a.steps ?? [], e.record);
      return { next, audit: [{ kind: 'action.step', subject, data: { ...base, step: e.record.name, branch: e.record.branch, state: e.record.state, detail: e.record.detail } }] };
    case 'due':
      next.state = e.approval ? 'awaiting_approval' : 'validated';
      if (e.approval) next.approval = approvalRequest(e.approval, ctx);
      next.notBefore = null;
      next.notBeforeMono = null;
      next.error = null;
      return { next, audit: [{ kind: 'action.due', subject, data: { ...base, state: next.state } }] };
    case 'defer':
      next.error = e.reason;
      return { next, audit: [] };
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
