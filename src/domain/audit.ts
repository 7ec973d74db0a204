// The audit event kinds: a public interface (notifications, scripts and dashboards match on them),
// documented in docs/events.md. A kind not listed here cannot be written.

export const AUDIT_KINDS = [
  // the agent itself
  'agent.online', 'agent.stopped', 'agent.frozen', 'agent.unfrozen', 'agent.degraded', 'agent.recovered',
  'config.reloaded', 'config.rejected',
  // the inventory: a service a reload removed and left running (onRemove: leave, or not allowed to stop)
  'service.unmanaged',
  // tickets
  'ticket.opened', 'ticket.reopened', 'ticket.diagnosed', 'ticket.diagnosis_failed',
  'ticket.status', 'ticket.verified', 'ticket.verification_failed',
  // shadow mode: how a problem Warden only watched ended (went away by itself, or resolved by a person)
  'ticket.shadow_outcome',
  // actions
  'action.proposed', 'action.approval_recorded', 'action.approved', 'action.rejected', 'action.expired', 'action.cancelled', 'action.executing',
  'action.retry', 'action.completed', 'action.failed', 'action.resumed',
  // a workflow step recorded; a scheduled action's time came and the policy let it go on
  'action.step', 'action.due',
  // a decision from afar (the API, an approval link) that was refused, and a link refused unread
  'action.decision_refused', 'link.refused',
  // a managed host's boot id changed: it rebooted (noticed over its transport)
  'host.rebooted',
  // services a person paused (unmonitored) and resumed, or whose pause ran out
  'service.paused', 'service.resumed',
  // faults a person injected with `warden chaos`, and their reverts (docs/chaos.md)
  'chaos.injected', 'chaos.reverted',
  // policy and delivery
  'policy.denied', 'policy.limit_reached', 'policy.deferred', 'policy.shadowed', 'notify.failed', 'notify.dropped',
  // incidents in from Alertmanager (POST /api/alerts)
  'alert.firing', 'alert.unmatched', 'alert.resolved', 'alert.expired',
  // a peer Warden this one watches (config peers)
  'peer.unreachable', 'peer.recovered',
] as const;

export type AuditKind = (typeof AUDIT_KINDS)[number];

/** One audit record to write: what happened (kind), to what (subject id), and its facts. */
export interface AuditIntent {
  kind: AuditKind;
  subject: string | null;
  data: Record<string, unknown>;
}

/**
 * The event kinds sent to notification channels (a channel's `events:` filter names these). Most are
 * audit kinds; a ticket's status changes are sent as `ticket.<status>`.
 */
export const NOTIFY_KINDS = [
  'agent.online', 'agent.degraded', 'agent.recovered', 'agent.frozen', 'agent.unfrozen', 'agent.plugin_failed',
  'service.paused', 'service.resumed',
  'ticket.opened', 'ticket.reopened', 'ticket.diagnosed', 'ticket.awaiting_approval', 'ticket.escalated', 'ticket.resolved',
  'ticket.reminder',
  'action.completed', 'action.failed',
  'notify.digest', 'notify.test',
  'peer.unreachable', 'peer.recovered',
] as const;

export type NotifyKind = (typeof NOTIFY_KINDS)[number];
