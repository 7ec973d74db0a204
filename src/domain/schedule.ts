// Scheduled actions (`warden actions submit ... --at`): what becomes of one when its time comes.
// Nothing is decided at submission but the time: when it is due, the policy as it is then gates it
// (as its requester, a person, with the guardrails), and only the current state counts — a target
// gone from the inventory, or another action under way on it, is not acted on.
import { retryIn, type ActionEvent } from './action.js';
import type { AuditIntent } from './audit.js';
import type { Instant } from './elapsed.js';
import { WAITS, type BlockedBy, type GateResult } from './policy.js';
import type { Action, PolicyRule } from './types.js';

export interface DueInput {
  now: Instant;
  /** The gate as it is now, for this action as its requester asks it. */
  gate: (a: Action) => GateResult;
  /** Whether the target is in the inventory now. */
  known: boolean;
  /** Another action validated or executing on the target, if any. */
  underWay?: Action;
  /** The approval request the rule that allows it asks for (who, how many, how long). */
  approval: (rule: PolicyRule) => { quorum: number; approvers: readonly string[]; ttlMs: number };
}

export interface DueStep {
  event: ActionEvent;
  /** The policy's refusal or deferral, audited beside the event (absent: none). */
  audit?: AuditIntent;
  /** What refused or deferred it, when `audit` says so (counted once, like the record). */
  blockedBy?: BlockedBy;
}

/** What a scheduled action does now: nothing (not due, or waiting as before), or one event. */
export function dueStep(a: Action, d: DueInput): DueStep | null {
  if (a.state !== 'scheduled' || retryIn(a, d.now) > 0) return null;
  const policy = (g: GateResult & { ok: false }, kind: AuditIntent['kind']): AuditIntent => ({
    kind, subject: a.id, data: { type: a.type, target: a.target, reason: g.reason, blockedBy: g.blockedBy, ...(g.rule ? { rule: g.rule } : {}), policy: g.checks },
  });
  if (!d.known) return { event: { type: 'cancel', by: 'schedule', reason: `due, but ${a.target} is no longer in the inventory` } };
  if (d.underWay) return defer(a, `due; waiting: ${d.underWay.type} ${d.underWay.target} is under way (${d.underWay.id})`);
  const g = d.gate(a);
  if (!g.ok && WAITS.has(g.blockedBy)) {
    const step = defer(a, `due; deferred: ${g.reason}`);
    return step && { ...step, audit: policy(g, 'policy.deferred'), blockedBy: g.blockedBy };
  }
  if (!g.ok) {
    return { event: { type: 'cancel', by: 'schedule', reason: `due, but not allowed now: ${g.reason}` }, audit: policy(g, g.blockedBy === 'limit' ? 'policy.limit_reached' : 'policy.denied'), blockedBy: g.blockedBy };
  }
  return { event: g.approval === 'required' ? { type: 'due', approval: d.approval(g.rule) } : { type: 'due' } };
}

/** A deferral is recorded when it starts or its reason changes, not on every pass. */
function defer(a: Action, reason: string): DueStep | null {
  return a.error === reason ? null : { event: { type: 'defer', reason } };
}
