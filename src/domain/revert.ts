// Declared reverts (docs/runbooks.md): what undoes an action whose verification failed, which
// action of a ticket may be reverted, and what the ticket says once the revert has run. The
// decision to run one (under the policy as it is now) is decide.ts's.
import type { Action, RevertSpec, ServiceSpec } from './types.js';

/** The action's declared revert: its runbook's own (a run-runbook), else its service's for its type; null: none. */
export function declaredRevert(spec: ServiceSpec | undefined, a: Action): RevertSpec | null {
  if (!spec) return null;
  if (a.type === 'run-runbook') {
    const own = spec.runbooks.find((r) => r.name === a.params.runbook)?.revert;
    if (own) return own;
  }
  return spec.reverts?.[a.type] ?? null;
}

/**
 * The repair whose verification just failed, if it may be reverted: the ticket's last action,
 * completed in this occurrence, and not itself a revert (a revert that did not help is not undone).
 */
export function revertable(last: Action | undefined, occurrenceKey: string): Action | null {
  if (!last || last.state !== 'completed' || last.revertOf !== undefined) return null;
  return last.idempotencyKey.startsWith(occurrenceKey) ? last : null;
}

/** "run-runbook rollback", "restart": how a revert is named to people. */
export function revertName(r: Pick<RevertSpec, 'type' | 'params'>): string {
  return r.params.runbook !== undefined ? `${r.type} ${r.params.runbook}` : r.type;
}

/** How a repair is named in a ticket's reason: "A1 (restart cache)". */
function repairName(a: Pick<Action, 'id' | 'type' | 'target'>): string {
  return `${a.id} (${a.type} ${a.target})`;
}

export function revertingReason(orig: Action, why: string, revert: Action): string {
  return `repair ${repairName(orig)} did not hold: ${why}; reverting it with ${revertName(revert)} (${revert.id})`;
}

export function revertRefusedReason(orig: Action, why: string, r: RevertSpec, refusal: string): string {
  return `repair ${repairName(orig)} did not hold: ${why}; revert ${revertName(r)} of ${orig.id} not run: ${refusal}`;
}

/** The ticket's reason once its revert has ended (completed or failed): a person looks either way. */
export function revertEndedReason(revert: Action, orig: Pick<Action, 'id' | 'type' | 'target'>): string {
  return revert.state === 'completed'
    ? `repair ${repairName(orig)} did not hold and was reverted by ${revert.id} (${revertName(revert)}); a person must look`
    : `repair ${repairName(orig)} did not hold; its revert ${revert.id} (${revertName(revert)}) failed: ${revert.error ?? 'unknown error'}; a person must look`;
}
