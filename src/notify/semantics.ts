// What people hear about, and how it is keyed: the loop's audit intents, Warden's own state and
// action outcomes become NotifyEvents. Pure. Each event about a problem carries the ticket's
// fingerprint as its key, so a provider groups every message of one problem and a resolve closes
// exactly what was opened; Warden's own states pair up the same way (degraded/recovered,
// frozen/unfrozen, paused/resumed) under `agent:<name>:<topic>` keys.
import type { AuditIntent } from '../domain/audit.js';
import type { Action, Severity, Ticket } from '../domain/types.js';
import type { NotifyEvent } from './event.js';

export type Draft = Omit<NotifyEvent, 'agent' | 'at'>;

/** The ticket a draft is about, looked up among those the pass changed (or the store). */
export type TicketLookup = (id: string) => Ticket | null | undefined;

const TICKET_SEVERITY: Record<string, Severity> = {
  'ticket.opened': 'warning', 'ticket.reopened': 'warning', 'ticket.diagnosed': 'info',
  'ticket.awaiting_approval': 'warning', 'ticket.escalated': 'critical', 'ticket.resolved': 'info',
};

/** The ticket notification an audit intent makes, if any, with `summary` as people read it. */
export function ticketDraft(i: AuditIntent, summary: string, ticket: TicketLookup): Draft | null {
  const kind = ticketKind(i);
  if (kind === null || i.subject === null) return null;
  const t = ticket(i.subject);
  const fingerprint = typeof i.data.fingerprint === 'string' ? i.data.fingerprint : t?.fingerprint ?? null;
  const service = typeof i.data.service === 'string' ? i.data.service : t?.service ?? null;
  const data: Record<string, unknown> = { ...i.data };
  if (t) {
    data.openedAt = new Date(t.openedAt).toISOString();
    data.status = t.status;
    data.occurrences = t.occurrences;
    if (t.cause !== null && data.cause === undefined) data.cause = t.cause;
  }
  if (fingerprint !== null) data.fingerprint = fingerprint;
  return { kind, subject: i.subject, key: fingerprint, severity: TICKET_SEVERITY[kind] ?? 'warning', service, summary, data };
}

function ticketKind(i: AuditIntent): string | null {
  if (i.kind === 'ticket.opened' || i.kind === 'ticket.reopened' || i.kind === 'ticket.diagnosed') return i.kind;
  if (i.kind === 'ticket.status' && (i.data.to === 'escalated' || i.data.to === 'resolved' || i.data.to === 'awaiting_approval')) return `ticket.${String(i.data.to)}`;
  return null;
}

/** An action that ended: its outcome, keyed by its ticket's problem (a first start has none). */
export function actionDraft(a: Action, ticket: TicketLookup): Draft | null {
  if (a.state !== 'completed' && a.state !== 'failed') return null;
  const t = a.ticketId !== null ? ticket(a.ticketId) : null;
  const failed = a.state === 'failed';
  return {
    kind: `action.${a.state}`,
    subject: a.id,
    key: t?.fingerprint ?? null,
    severity: failed ? 'warning' : 'info',
    service: a.target,
    summary: `action ${a.id} ${a.type} ${a.target} ${a.state}${a.error ? `: ${a.error}` : ''}`,
    data: { ticket: a.ticketId, type: a.type, target: a.target, attempts: a.attempts, error: a.error, ...(t ? { fingerprint: t.fingerprint } : {}) },
  };
}

/** Warden's own states, paired by topic so a recovery resolves the alarm: what key each has. */
const SELF: Record<string, { topic: string; severity: Severity }> = {
  'agent.online': { topic: 'online', severity: 'info' },
  'agent.degraded': { topic: 'health', severity: 'critical' },
  'agent.recovered': { topic: 'health', severity: 'info' },
  'agent.frozen': { topic: 'frozen', severity: 'warning' },
  'agent.unfrozen': { topic: 'frozen', severity: 'info' },
  'agent.plugin_failed': { topic: 'plugins', severity: 'warning' },
  'peer.unreachable': { topic: 'peer', severity: 'critical' },
  'peer.recovered': { topic: 'peer', severity: 'info' },
};

export function selfDraft(agent: string, kind: string, summary: string, data: Record<string, unknown>): Draft {
  const s = SELF[kind] ?? { topic: kind, severity: 'info' as Severity };
  // A plugin's failure is its own alarm, as is each peer's: two failed plugins are two problems.
  const topic = kind === 'agent.plugin_failed' && typeof data.plugin === 'string' ? `plugin:${data.plugin}`
    : kind.startsWith('peer.') && typeof data.peer === 'string' ? `peer:${data.peer}` : s.topic;
  return { kind, subject: null, key: `agent:${agent}:${topic}`, severity: s.severity, service: null, summary, data };
}

/** A person paused or resumed a service: keyed by the service, so the resume closes the pause. */
export function pauseDraft(agent: string, i: AuditIntent, summary: string): Draft | null {
  if (i.kind !== 'service.paused' && i.kind !== 'service.resumed') return null;
  const service = typeof i.data.service === 'string' ? i.data.service : i.subject;
  return { kind: i.kind, subject: i.subject, key: `agent:${agent}:paused:${service ?? ''}`, severity: 'info', service: service ?? null, summary, data: i.data };
}

/** What an audit record says, as far as notifications need it. */
export interface RecordLike {
  kind: string;
  subject: string | null;
  data: Record<string, unknown>;
}

/** One approver's pair of approval links (runtime/links.ts makes them). */
export interface ApproverLinks {
  by: string;
  approve: string;
  reject: string;
}

export interface Lookups {
  agent: string;
  ticket: TicketLookup;
  action: (id: string) => Action | null | undefined;
  /** The approval links of an action awaiting approval; absent: messages carry none. */
  links?: (a: Action) => ApproverLinks[];
}

/**
 * An approval request carries, for the action awaiting approval, each approver's links in
 * `data.approvals`, and, when there is one approver, the pair as `data.links` too.
 */
function withLinks(d: Draft, l: Lookups): Draft {
  if (d.kind !== 'ticket.awaiting_approval' || !l.links || d.subject === null) return d;
  const a = (l.ticket(d.subject)?.actionIds ?? []).map((id) => l.action(id)).find((x) => x?.state === 'awaiting_approval');
  if (!a) return d;
  const approvals = l.links(a);
  const one = approvals.length === 1 ? approvals[0] : undefined;
  return { ...d, data: { ...d.data, action: a.id, approvals, ...(one ? { links: { approve: one.approve, reject: one.reject } } : {}) } };
}

/**
 * The notifications one audit record makes (none for most). Action outcomes are sent for repairs
 * (a service's first start is not news) and for every failure.
 */
export function draftsOfRecord(r: RecordLike, summary: string, l: Lookups): Draft[] {
  const intent = r as AuditIntent;
  const ticket = ticketDraft(intent, summary, l.ticket);
  if (ticket) return [withLinks(ticket, l)];
  const pause = pauseDraft(l.agent, intent, summary);
  if (pause) return [pause];
  if ((r.kind === 'action.completed' || r.kind === 'action.failed') && r.subject !== null) {
    const a = l.action(r.subject);
    if (!a || (a.state === 'completed' && a.ticketId === null)) return [];
    const d = actionDraft(a, l.ticket);
    return d ? [{ ...d, summary }] : [];
  }
  if (r.kind === 'agent.online' || r.kind === 'agent.frozen' || r.kind === 'agent.unfrozen' || r.kind === 'agent.recovered') {
    return [selfDraft(l.agent, r.kind, `${l.agent} ${summary}`, r.data)];
  }
  if (r.kind === 'peer.unreachable' || r.kind === 'peer.recovered') return [selfDraft(l.agent, r.kind, summary, r.data)];
  return [];
}
