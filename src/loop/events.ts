// How the loop's decisions read to people: one log line per audit intent, and which of them are
// sent out of band to the notification channels.
import type { AuditIntent } from '../domain/decide.js';

/** The audit events people hear about out of band. */
export function notificationOf(i: AuditIntent): { kind: string; summary: string } | null {
  if (i.kind === 'ticket.opened') return { kind: 'ticket.opened', summary: describe(i) };
  if (i.kind === 'ticket.reopened') return { kind: 'ticket.reopened', summary: describe(i) };
  if (i.kind === 'ticket.status' && (i.data.to === 'escalated' || i.data.to === 'resolved' || i.data.to === 'awaiting_approval')) {
    return { kind: `ticket.${String(i.data.to)}`, summary: describe(i) };
  }
  return null;
}

export function describe(i: AuditIntent): string {
  const d = i.data;
  switch (i.kind) {
    case 'ticket.opened': return `ticket ${i.subject} opened for ${String(d.service)}: ${(d.findings as { kind: string; service: string; reason: string }[]).map((f) => `${f.service} ${f.kind} (${f.reason})`).join('; ')}`;
    case 'ticket.reopened': return `ticket ${i.subject} reopened (occurrence ${String(d.occurrences)}${d.flapping ? ', flapping' : ''})`;
    case 'ticket.diagnosed': return `ticket ${i.subject} diagnosed: root cause ${String(d.service)} ${String(d.cause)} (confidence ${String(d.confidence)})`;
    case 'ticket.status': return `ticket ${i.subject} ${String(d.from)} → ${String(d.to)}${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'action.proposed': return `action ${i.subject} proposed: ${String(d.type)} ${String(d.target)} [${String(d.state)}]`;
    case 'service.paused': return `${String(d.service)} paused${d.until ? ` until ${String(d.until)}` : ''}${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'service.resumed': return `${String(d.service)} resumed: ${String(d.reason)}`;
    case 'chaos.injected': return `chaos ${i.subject} injected: ${String(d.kind)} ${String(d.target)}: ${String(d.detail)}${d.until ? ` (reverted at ${String(d.until)})` : ''}`;
    case 'chaos.reverted': return `chaos ${i.subject} reverted${d.automatic ? ' (its --for ran out)' : ''}: ${String(d.kind)} ${String(d.target)}: ${String(d.detail)}`;
    default: return `${i.kind} ${i.subject ?? ''} ${JSON.stringify(d)}`;
  }
}
