// The inventory is the truth: what happens to a service that leaves it. Two pure decisions.
//
// - Its tickets and what waits to act on it are closed by every pass (`closeRemoved`, called from
//   decide), by comparing the inventory with the open tickets: level-based, so it holds as well
//   after a restart of Warden with a smaller config as after a reload.
// - Stopping it is decided on reload (`removals`), by comparing the old config with the new: how to
//   stop a service (its kind, unit, signal, grace) and whether to (`onRemove`) are known only from
//   the config that still declared it, and a process Warden no longer knows cannot be found again.
import { proposeAction, transitionAction, type ActionTransition, type TransitionContext } from './action.js';
import { gate } from './policy.js';
import { REMOVED_FROM_INVENTORY, transitionTicket, type TicketTransition } from './ticket.js';
import type { Action, ResolvedConfig, ServiceSpec, Ticket } from './types.js';

const WAITING: readonly Action['state'][] = ['proposed', 'validated', 'awaiting_approval'];

/**
 * Tickets of services not in the inventory, closed as "removed from the inventory", and their
 * actions that have not started, cancelled (one under way finishes: it cannot be interrupted
 * safely). First starts of such services are cancelled too; a removal's own stop is kept.
 */
export function closeRemoved(
  inventory: ReadonlySet<string>,
  tickets: Iterable<Ticket>,
  actions: ReadonlyMap<string, Action>,
  ctx: TransitionContext,
): { tickets: TicketTransition[]; actions: ActionTransition[] } {
  const out: { tickets: TicketTransition[]; actions: ActionTransition[] } = { tickets: [], actions: [] };
  const cancel = (a: Action): void => { out.actions.push(cancelAction(a, ctx)); };
  for (const t of tickets) {
    if (inventory.has(t.service) || t.status === 'resolved') continue;
    for (const id of t.actionIds) {
      const a = actions.get(id);
      if (a && WAITING.includes(a.state)) cancel(a);
    }
    out.tickets.push(transitionTicket(t, { type: 'removed' }, ctx));
  }
  for (const a of actions.values()) {
    if (a.ticketId === null && a.type === 'start' && !inventory.has(a.target) && WAITING.includes(a.state)) cancel(a);
  }
  return out;
}

function cancelAction(a: Action, ctx: TransitionContext): ActionTransition {
  return transitionAction(a, { type: 'cancel', by: ctx.actor, reason: REMOVED_FROM_INVENTORY }, ctx);
}

/** One service a reload removed: stopped by an action, or left running and why. */
export type Removal =
  | { spec: ServiceSpec; stop: ActionTransition }
  | { spec: ServiceSpec; leave: string };

/**
 * What a reload does with each service the new config no longer declares: a stop action requested
 * by the agent (under the new config's mode and policy), or, with `onRemove: leave` or when the
 * mode or policy forbid the stop, nothing but the reason it is left running, unmanaged.
 */
export function removals(prev: ResolvedConfig, next: ResolvedConfig, newId: () => string, ctx: TransitionContext): Removal[] {
  const kept = new Set(next.services.map((s) => s.name));
  return prev.services.filter((s) => !kept.has(s.name)).map((spec): Removal => {
    if (spec.onRemove === 'leave') return { spec, leave: `${REMOVED_FROM_INVENTORY}; onRemove: leave` };
    // Rate limits count repairs; a removal is the config author's one-off decision, so none apply.
    const g = gate({ config: next, type: 'stop', target: spec.name, host: spec.host, frozen: false, now: { wall: ctx.now, mono: ctx.stamp?.mono ?? 0, boot: ctx.stamp?.boot ?? '' }, countStarted: () => 0 });
    if (!g.ok && (g.blockedBy !== 'mode' || next.agent.mode === 'observe')) return { spec, leave: `${REMOVED_FROM_INVENTORY}; not stopped: ${g.reason}` };
    const state = next.agent.mode === 'recommend' ? 'proposed' : g.ok && g.approval === 'required' ? 'awaiting_approval' : 'validated';
    const stop = proposeAction({
      id: newId(), type: 'stop', target: spec.name, params: {}, ticketId: null,
      idempotencyKey: `removed:${spec.name}:${ctx.now}`, state, why: { reason: REMOVED_FROM_INVENTORY },
    }, ctx);
    return { spec, stop };
  });
}
