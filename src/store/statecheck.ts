// The audit chain vouches for the state it describes: replaying what it recorded of each ticket,
// action and flag gives the state those rows must be in, so a row edited, added or deleted by hand
// (the `frozen` flag, an action's state) is caught by `warden audit verify` like an edited record.
//
// What the records carry, and so what is compared:
//   tickets  existence, fingerprint, service, status (open and diagnosing are one: the move between
//            them is not recorded), cause (ticket.diagnosed; a reopen clears it)
//   actions  existence, ticket, type, target, state, attempts
//   flags    the kill switch (`frozen`: set or not, by whom, why) and each pause (`paused:<service>`:
//            set or not, by whom)
// Not compared: fields no record carries (findings, evidence, timestamps, action params), the
// other tables (processes, exits, service states, counters, boots, commands) and other flags.
import type Database from 'better-sqlite3';
import type { AuditProblem } from './audit.js';

interface TicketSeen { seq: number; fingerprint: string | null; service: string | null; status: string; cause: string | null | undefined }
interface ActionSeen { seq: number; ticket: string | null; type: string | null; target: string | null; state: string; attempts: number | null }
interface FlagSeen { seq: number; actor: string; reason: unknown; set: boolean }

interface Rec { seq: number; actor: string; kind: string; subject: string | null; data: string }

/** Action states each record leaves an action in (action.resumed with `continue` changes nothing). */
const ACTION_STATE: Record<string, string> = {
  'action.approved': 'validated', 'action.rejected': 'cancelled', 'action.expired': 'cancelled', 'action.cancelled': 'cancelled',
  'action.executing': 'executing', 'action.retry': 'validated', 'action.completed': 'completed', 'action.failed': 'failed',
};

const KINDS = ['ticket.opened', 'ticket.reopened', 'ticket.status', 'ticket.diagnosed', 'action.proposed', ...Object.keys(ACTION_STATE),
  'agent.frozen', 'agent.unfrozen', 'service.paused', 'service.resumed'];

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The latest state the chain recorded of every ticket, action and flag. */
function replay(prepare: (sql: string) => Database.Statement): { tickets: Map<string, TicketSeen>; actions: Map<string, ActionSeen>; flags: Map<string, FlagSeen> } {
  const tickets = new Map<string, TicketSeen>();
  const actions = new Map<string, ActionSeen>();
  const flags = new Map<string, FlagSeen>();
  const rows = prepare(`SELECT seq, actor, kind, subject, data FROM audit WHERE kind IN (${KINDS.map(() => '?').join(', ')}) ORDER BY seq`).iterate(...KINDS) as IterableIterator<Rec>;
  for (const r of rows) {
    let d: Record<string, unknown>;
    try {
      d = JSON.parse(r.data) as Record<string, unknown>;
    } catch {
      continue; // the chain check reports it
    }
    const id = r.subject ?? '';
    const seenT = tickets.get(id);
    const seenA = actions.get(id);
    switch (r.kind) {
      case 'ticket.opened':
        tickets.set(id, { seq: r.seq, fingerprint: str(d.fingerprint), service: str(d.service), status: 'open', cause: null });
        break;
      case 'ticket.reopened':
        if (seenT) Object.assign(seenT, { seq: r.seq, status: 'open', cause: null });
        break;
      case 'ticket.status':
        if (seenT && typeof d.to === 'string') Object.assign(seenT, { seq: r.seq, status: d.to });
        break;
      case 'ticket.diagnosed':
        if (seenT) Object.assign(seenT, { seq: r.seq, cause: str(d.cause) });
        break;
      case 'action.proposed':
        actions.set(id, { seq: r.seq, ticket: str(d.ticket), type: str(d.type), target: str(d.target), state: str(d.state) ?? 'proposed', attempts: 0 });
        break;
      case 'agent.frozen':
      case 'agent.unfrozen':
        flags.set('frozen', { seq: r.seq, actor: r.actor, reason: d.reason, set: r.kind === 'agent.frozen' });
        break;
      case 'service.paused':
      case 'service.resumed':
        flags.set(`paused:${id}`, { seq: r.seq, actor: r.actor, reason: d.reason, set: r.kind === 'service.paused' });
        break;
      default:
        if (seenA) {
          seenA.seq = r.seq;
          seenA.state = ACTION_STATE[r.kind] ?? seenA.state;
          if (r.kind === 'action.executing' && typeof d.attempt === 'number') seenA.attempts = d.attempt;
        }
    }
  }
  return { tickets, actions, flags };
}

const differs = (what: string, row: unknown, recorded: unknown): string =>
  `${what} is ${JSON.stringify(row)} but the audit chain recorded ${JSON.stringify(recorded)}`;

function checkTickets(prepare: (sql: string) => Database.Statement, seen: Map<string, TicketSeen>): AuditProblem[] {
  const out: AuditProblem[] = [];
  const rows = prepare('SELECT id, fingerprint, status, json FROM tickets').iterate() as IterableIterator<{ id: string; fingerprint: string; status: string; json: string }>;
  const found = new Set<string>();
  for (const row of rows) {
    found.add(row.id);
    const t = seen.get(row.id);
    if (!t) { out.push({ seq: 0, reason: `ticket ${row.id}: the row has no ticket.opened record — it was added outside Warden` }); continue; }
    const j = JSON.parse(row.json) as { status?: unknown; fingerprint?: unknown; service?: unknown; cause?: unknown };
    const bad: string[] = [];
    const statusOk = (s: unknown): boolean => s === t.status || (t.status === 'open' && s === 'diagnosing');
    if (!statusOk(row.status) || !statusOk(j.status)) bad.push(differs('status', row.status !== j.status ? `${row.status} (json: ${String(j.status)})` : row.status, t.status));
    if (t.fingerprint !== null && (row.fingerprint !== t.fingerprint || j.fingerprint !== t.fingerprint)) bad.push(differs('fingerprint', row.fingerprint, t.fingerprint));
    if (t.service !== null && j.service !== t.service) bad.push(differs('service', j.service, t.service));
    if (t.cause !== undefined && (j.cause ?? null) !== t.cause) bad.push(differs('cause', j.cause ?? null, t.cause));
    for (const b of bad) out.push({ seq: t.seq, reason: `ticket ${row.id}: ${b} (record ${t.seq}) — the row was changed outside Warden` });
  }
  for (const [id, t] of seen) if (!found.has(id)) out.push({ seq: t.seq, reason: `ticket ${id}: recorded (last at record ${t.seq}) but its row is gone — deleted outside Warden, or lost to damage (warden store recover reports what it lost)` });
  return out;
}

function checkActions(prepare: (sql: string) => Database.Statement, seen: Map<string, ActionSeen>): AuditProblem[] {
  const out: AuditProblem[] = [];
  const rows = prepare('SELECT id, ticket_id, type, target, state, json FROM actions').iterate() as IterableIterator<{ id: string; ticket_id: string | null; type: string; target: string; state: string; json: string }>;
  const found = new Set<string>();
  for (const row of rows) {
    found.add(row.id);
    const a = seen.get(row.id);
    if (!a) { out.push({ seq: 0, reason: `action ${row.id}: the row has no action.proposed record — it was added outside Warden` }); continue; }
    const j = JSON.parse(row.json) as { state?: unknown; type?: unknown; target?: unknown; attempts?: unknown; ticketId?: unknown };
    const bad: string[] = [];
    const pair = (what: string, col: unknown, json: unknown, recorded: unknown): void => {
      if (recorded === null) return;
      if (col !== recorded || json !== recorded) bad.push(differs(what, col !== json ? `${String(col)} (json: ${String(json)})` : col, recorded));
    };
    pair('state', row.state, j.state, a.state);
    pair('type', row.type, j.type, a.type);
    pair('target', row.target, j.target, a.target);
    pair('ticket', row.ticket_id, j.ticketId ?? null, a.ticket);
    if (a.attempts !== null && j.attempts !== a.attempts) bad.push(differs('attempts', j.attempts, a.attempts));
    for (const b of bad) out.push({ seq: a.seq, reason: `action ${row.id}: ${b} (record ${a.seq}) — the row was changed outside Warden` });
  }
  for (const [id, a] of seen) if (!found.has(id)) out.push({ seq: a.seq, reason: `action ${id}: recorded (last at record ${a.seq}) but its row is gone — deleted outside Warden, or lost to damage (warden store recover reports what it lost)` });
  return out;
}

function checkFlags(prepare: (sql: string) => Database.Statement, seen: Map<string, FlagSeen>): AuditProblem[] {
  const out: AuditProblem[] = [];
  const rows = prepare(`SELECT key, value FROM flags WHERE key = 'frozen' OR substr(key, 1, 7) = 'paused:'`).all() as { key: string; value: string }[];
  const values = new Map(rows.map((r) => [r.key, r.value]));
  for (const key of new Set([...values.keys(), ...seen.keys()])) {
    const f = seen.get(key);
    const value = values.get(key);
    const name = key === 'frozen' ? 'the kill switch (flag "frozen")' : `flag "${key}"`;
    if (value === undefined) {
      if (f?.set) out.push({ seq: f.seq, reason: `${name} is not set, but record ${f.seq} set it and nothing recorded since lifts it — it was removed outside Warden` });
      continue;
    }
    if (!f?.set) {
      out.push({ seq: f?.seq ?? 0, reason: `${name} is set, but ${f ? `record ${f.seq} lifted it` : 'no record sets it'} — it was set outside Warden` });
      continue;
    }
    let v: { by?: unknown; reason?: unknown };
    try {
      v = JSON.parse(value) as { by?: unknown; reason?: unknown };
    } catch {
      out.push({ seq: f.seq, reason: `${name} holds ${JSON.stringify(value)}, not what Warden writes — it was changed outside Warden` });
      continue;
    }
    if (v.by !== f.actor) out.push({ seq: f.seq, reason: `${name}: ${differs('set by', v.by, f.actor)} (record ${f.seq}) — it was changed outside Warden` });
    else if ((v.reason ?? null) !== (f.reason ?? null)) out.push({ seq: f.seq, reason: `${name}: ${differs('reason', v.reason ?? null, f.reason ?? null)} (record ${f.seq}) — it was changed outside Warden` });
  }
  return out;
}

/** Must run in the same read transaction as the chain's own check. */
export function checkState(prepare: (sql: string) => Database.Statement): { problems: AuditProblem[]; checked: { tickets: number; actions: number; flags: number } } {
  const seen = replay(prepare);
  const problems = [...checkTickets(prepare, seen.tickets), ...checkActions(prepare, seen.actions), ...checkFlags(prepare, seen.flags)];
  return { problems, checked: { tickets: seen.tickets.size, actions: seen.actions.size, flags: seen.flags.size } };
}
