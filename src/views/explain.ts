// `warden explain TICKET`: a ticket told as a person on call reads it — what happened in order (from
// the audit log, the record of what was decided and done), the root cause with the evidence that
// proves it, each rejected alternative and why, and what Warden did or proposes. Pure: the CLI
// reads the ticket, its actions and their audit records, and prints this.
import { currentShadow, wouldHave } from '../domain/shadow.js';
import type { Action, Diagnosis, ShadowRecord, Ticket } from '../domain/types.js';
import { iso } from '../lib/clock.js';
import { formatDuration } from '../lib/duration.js';
import type { AuditRecord } from '../store/audit.js';
import { shadowEvent, shadowJson, shadowLines } from './shadow.js';

export interface Explanation {
  ticket: string;
  service: string;
  status: string;
  /** One sentence: what broke, why, and where it stands. */
  summary: string;
  timeline: { at: string; event: string }[];
  rootCause: { service: string; host: string; cause: string; confidence: number; diagnoser: string } | null;
  /** The facts the diagnosis rests on, each with where it came from and the evidence piece it cites. */
  evidence: { source: string; fact: string; piece?: string }[];
  rejected: { cause: string; why: string }[];
  actions: { id: string; type: string; target: string; state: string; requestedBy: string; error: string | null }[];
  /** What Warden proposes that has not run (awaiting approval, or a person's job), and why none when none. */
  proposes: { actions: string[]; noRepair: string | null };
  /** In shadow: what Warden would have done this occurrence and how it ended (its JSON form, and as `tickets show` words it), else null. */
  shadow: { record: Record<string, unknown>; text: string[] } | null;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/** One audit record as one line of the story; null for records that add nothing to it. */
function event(r: AuditRecord, actions: ReadonlyMap<string, Action>): string | null {
  const d = r.data;
  const a = r.subject ? actions.get(r.subject) : undefined;
  const act = a ? `${a.id} ${a.type} ${a.target}` : str(r.subject);
  switch (r.kind) {
    case 'ticket.opened': {
      const findings = Array.isArray(d.findings) ? (d.findings as { service?: string; kind?: string; reason?: string }[]) : [];
      return `opened: ${findings.map((f) => `${f.service ?? '?'} ${f.kind ?? ''} (${f.reason ?? ''})`).join('; ')}`;
    }
    case 'ticket.reopened': return `the problem came back (occurrence ${str(d.occurrences)}${d.flapping ? ', flapping' : ''})`;
    case 'ticket.diagnosed': return `diagnosed by ${str(d.diagnoser)}: ${str(d.service)} ${str(d.cause)} (confidence ${str(d.confidence)})`;
    case 'ticket.diagnosis_failed': return `diagnosis failed: ${str(d.error)}`;
    case 'ticket.status': return `${str(d.from)} → ${str(d.to)}${d.reason ? `: ${str(d.reason)}` : ''}`;
    case 'ticket.verified': return `verified: healthy for ${str(d.healthyForMs)} ms, ${str(d.tookMs)} ms after the repair`;
    case 'ticket.verification_failed': return `verification failed: ${str(d.reason)}`;
    case 'action.proposed': return `proposed ${act} (by ${r.actor})`;
    case 'action.approved': return `approved ${act} by ${r.actor}`;
    case 'action.rejected': return `rejected ${act} by ${r.actor}${d.reason ? `: ${str(d.reason)}` : ''}`;
    case 'action.cancelled': return `cancelled ${act}${d.reason ? `: ${str(d.reason)}` : ''}`;
    case 'action.executing': return `executing ${act} (attempt ${str(d.attempt)})`;
    case 'action.retry': return `${act} will be retried: ${str(d.error)}`;
    case 'action.completed': return `completed ${act}`;
    case 'action.failed': return `failed ${act}${d.error ? `: ${str(d.error)}` : ''}`;
    case 'action.resumed': return `after a restart of Warden, ${act}: ${str(d.outcome)}`;
    case 'policy.denied': case 'policy.limit_reached': return `${r.kind === 'policy.denied' ? 'policy denied' : 'rate limit reached'}: ${str(d.reason ?? d.action)}`;
    default: return shadowEvent(r.kind, d);
  }
}

function summary(t: Ticket, d: Diagnosis | null, done: Action[], shadow: ShadowRecord | null): string {
  if (!d) return `${t.service}: ${t.findings.map((f) => f.reason).join('; ') || 'a problem'}; not diagnosed yet (${t.status})`;
  const root = d.rootCause.service === t.service ? t.service : `${d.rootCause.service} (${t.service} and the others are its symptoms)`;
  // Watched in shadow this occurrence (a reopened ticket may have been repaired before).
  const current = new Set(t.history?.at(-1)?.actionIds ?? t.actionIds);
  if (shadow && !done.some((a) => current.has(a.id))) {
    const o = shadow.outcome;
    const end = !o ? `the ticket is ${t.status}` : o.kind === 'went_away' ? `it went away by itself ${formatDuration(o.afterMs)} later` : `${o.by} resolved it`;
    return `${root} failed with ${d.rootCause.cause}; in shadow, Warden would have ${wouldHave(shadow)} and did not act; ${end}.`;
  }
  const did = done.length > 0 ? `Warden ran ${done.map((a) => `${a.type} ${a.target}`).join(', ')}` : 'Warden took no action';
  const end = t.status === 'resolved' ? 'the repair held and the ticket is resolved'
    : t.status === 'escalated' ? `it is left to people: ${t.reason ?? d.noRepair ?? ''}` : `the ticket is ${t.status}`;
  return `${root} failed with ${d.rootCause.cause}; ${did}; ${end}.`;
}

export function explainTicket(t: Ticket, actions: readonly Action[], audit: readonly AuditRecord[]): Explanation {
  const byId = new Map(actions.map((a) => [a.id, a]));
  const d = t.diagnosis;
  const shadow = currentShadow(t);
  const timeline = [...audit].sort((a, b) => a.seq - b.seq).flatMap((r) => {
    const e = event(r, byId);
    return e === null ? [] : [{ at: iso(r.at) ?? '', event: e }];
  });
  const pending = actions.filter((a) => a.state === 'proposed' || a.state === 'validated' || a.state === 'awaiting_approval');
  const notRun = d ? d.recommended.filter((r) => !actions.some((a) => a.type === r.type && a.target === r.target)) : [];
  return {
    ticket: t.id,
    service: t.service,
    status: t.status,
    summary: summary(t, d, actions.filter((a) => a.state === 'completed'), shadow),
    timeline,
    rootCause: d ? { ...d.rootCause, confidence: d.confidence, diagnoser: d.diagnoser } : null,
    evidence: d ? d.evidence.map((e) => ({ source: e.source, fact: e.fact, ...(e.piece !== undefined ? { piece: e.piece } : {}) })) : [],
    rejected: d ? d.alternatives.map((a) => ({ cause: a.cause, why: a.rejected })) : [],
    actions: actions.map((a) => ({ id: a.id, type: a.type, target: a.target, state: a.state, requestedBy: a.requestedBy, error: a.error })),
    proposes: {
      // In shadow nothing is proposed: what would have been done is told under "In shadow".
      actions: [...pending.map((a) => `${a.type} ${a.target} (${a.state})`), ...(t.status === 'resolved' || shadow ? [] : notRun.map((r) => `${r.type} ${r.target}`))],
      noRepair: d?.noRepair ?? null,
    },
    shadow: shadow && { record: shadowJson(shadow), text: shadowLines(shadow).map((l) => l.trim()) },
  };
}

export function formatExplanation(x: Explanation): string {
  const out: string[] = [`ticket ${x.ticket} (${x.service}, ${x.status})`, '', x.summary, '', 'What happened'];
  for (const e of x.timeline) out.push(`  ${e.at}  ${e.event}`);
  out.push('');
  if (x.rootCause) {
    out.push(`Root cause: ${x.rootCause.service} on ${x.rootCause.host}: ${x.rootCause.cause} (confidence ${x.rootCause.confidence}, ${x.rootCause.diagnoser})`);
    out.push('  because');
    for (const e of x.evidence) out.push(`  - [${e.piece ?? e.source}] ${e.fact}`);
    if (x.evidence.some((e) => e.piece !== undefined)) out.push('  (an id KIND:SERVICE:... names an evidence piece: warden debug SERVICE lists it)');
    out.push('', 'Alternatives considered and rejected');
    for (const r of x.rejected) out.push(`  - ${r.cause}: ${r.why}`);
  } else {
    out.push('Root cause: not diagnosed yet');
  }
  out.push('', 'What Warden did');
  if (x.actions.length === 0) out.push('  nothing');
  for (const a of x.actions) out.push(`  - ${a.id} ${a.type} ${a.target}: ${a.state}${a.requestedBy.startsWith('person:') ? ` (by ${a.requestedBy})` : ''}${a.error ? ` — ${a.error}` : ''}`);
  if (x.proposes.actions.length > 0) out.push('', 'Proposed, not run', ...x.proposes.actions.map((a) => `  - ${a}`));
  if (x.proposes.noRepair) out.push('', `No automatic repair: ${x.proposes.noRepair}`);
  if (x.shadow) out.push('', 'In shadow', ...x.shadow.text.map((l) => `  ${l}`));
  return `${out.join('\n')}\n`;
}
