// How the loop's decisions read to people: one line per audit record, for the log and for the
// summaries notifications carry (notify/semantics.ts decides which records are sent).
import type { AuditIntent } from '../domain/decide.js';

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
    case 'action.completed':
    case 'action.failed': return `action ${i.subject} ${String(d.type)} ${String(d.target)} ${i.kind === 'action.completed' ? 'completed' : 'failed'}${d.error ? `: ${String(d.error)}` : ''}`;
    case 'agent.online': return `online; ${String(d.reboots)} reboots${d.rebooted ? ' (this start follows a reboot)' : ''}; ${String(d.openTickets)} open tickets; ${Array.isArray(d.resumedActions) ? d.resumedActions.length : 0} actions resumed`;
    case 'agent.frozen': return `frozen: no action will start${d.reason ? ` (${String(d.reason)})` : ''}`;
    case 'agent.unfrozen': return 'unfrozen: actions may run again';
    case 'agent.recovered': return `passes succeed again after ${String(d.failures)} failed`;
    case 'peer.unreachable': return `cannot reach peer ${String(d.peer)} at ${String(d.url)}${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'peer.recovered': return `reaches peer ${String(d.peer)} at ${String(d.url)} again`;
    default: return `${i.kind} ${i.subject ?? ''} ${JSON.stringify(d)}`;
  }
}
