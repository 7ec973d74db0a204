// People's commands: approve, reject, cancel, resolve, hold, freeze, unfreeze, and control of one
// service (start, stop, restart, pause, resume: app/control.ts), and the record of chaos faults
// (app/chaos.ts). One place, used by
// the CLI now (and the API and the dashboard later). A command changes tickets and actions only
// through their state machines, in one store transaction with its audit records. While a daemon
// runs, the CLI queues the command and the daemon applies it here, at the start of its next pass.
import { ApprovalError, approvalLapsed, transitionAction, isTerminal } from '../domain/action.js';
import { approverTierRefusal } from '../domain/tiers.js';
import type { AuditIntent } from '../domain/audit.js';
import type { Instant } from '../domain/elapsed.js';
import { requesterOf } from '../domain/identity.js';
import { activePauses, PAUSE_PREFIX, parsePause, pauseLeftMs } from '../domain/pause.js';
import { transitionTicket } from '../domain/ticket.js';
import type { ResolvedConfig } from '../domain/types.js';
import { applyChaos, type ChaosCommand } from './chaos.js';
import { applyControl, ControlError, resume, type ControlCommand } from './control.js';
import { applyHostControl, type HostCommand } from './hosts.js';
import { WardenError, errorText } from '../lib/errors.js';
import type { Store } from '../store/store.js';

/**
 * `override`: the identity of an admin acting `--as` `by` (audited). A decision from afar carries
 * `via` (`token:NAME` for the API, `link` for an approval link; audited) and, from a link, `link`:
 * its use key, marked in the decision's transaction so that it decides once.
 */
export type Command = (
  | ({ kind: 'approve'; actionId: string; by: string; reason?: string | null } & Remote)
  | ({ kind: 'reject'; actionId: string; by: string; reason?: string | null } & Remote)
  | { kind: 'cancel'; actionId: string; by: string; reason?: string | null }
  | { kind: 'resolve'; ticketId: string; by: string; reason: string }
  | { kind: 'hold'; ticketId: string; by: string; reason: string }
  /** `forMs`: the freeze lifts by itself this long after it is applied. */
  | { kind: 'freeze'; by: string; reason: string; forMs?: number }
  | { kind: 'unfreeze'; by: string }
  | ControlCommand
  | HostCommand
  | ChaosCommand) & { override?: string };

interface Remote { via?: string; link?: string }

export type CommandResult = { ok: true; message: string } | { ok: false; code: string; message: string };

/** An approval link's pair was used (the rest of the key is the link's use key). */
export const LINK_USED_PREFIX = 'link-used:';

/** The flag that, while set, keeps every action from starting (the kill switch). */
export const FROZEN_FLAG = 'frozen';

/** A person resolving a ticket by hand restarts the rate-limit count for its service. */
export const LIMIT_RESET_PREFIX = 'limits-reset:';

/** A reset as stored: `{ wall, mono, boot }` (older Wardens wrote the wall time alone). */
export function parseLimitReset(value: string): Instant | null {
  const n = Number(value);
  if (Number.isFinite(n)) return n > 0 ? { wall: n, mono: Number.NaN, boot: '' } : null;
  try {
    const v = JSON.parse(value) as Partial<Instant>;
    return typeof v.wall === 'number' ? { wall: v.wall, mono: typeof v.mono === 'number' ? v.mono : Number.NaN, boot: typeof v.boot === 'string' ? v.boot : '' } : null;
  } catch {
    return null;
  }
}

/** The kill switch as stored: why, and when it lifts by itself (null: when a person unfreezes). */
export function parseFreeze(value: string | null): { reason: string; until: number | null } | null {
  if (value === null) return null;
  try {
    const v = JSON.parse(value) as { reason?: unknown; until?: unknown };
    return { reason: typeof v.reason === 'string' ? v.reason : 'frozen', until: typeof v.until === 'number' ? v.until : null };
  } catch {
    return { reason: 'frozen', until: null }; // unreadable: frozen all the same (never a fall-back to acting)
  }
}

/** A freeze whose --for ran out lifts here (audited as agent.unfrozen); the freeze in force, or null. */
export function settleFreeze(store: Store, now: Instant, agent: string): { reason: string; until: number | null } | null {
  const f = parseFreeze(store.getFlag(FROZEN_FLAG));
  if (f === null || f.until === null || now.wall < f.until) return f;
  store.setFlag(FROZEN_FLAG, null);
  store.audit({ at: now.wall, actor: agent, kind: 'agent.unfrozen', subject: null, data: { reason: `the freeze ran out (${f.reason})` } });
  return null;
}

export function limitResetFlag(service: string): string {
  return `${LIMIT_RESET_PREFIX}${service}`;
}

class CommandError extends WardenError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** Applies one command in a transaction; a refused command changes nothing and says why. */
export function applyCommand(store: Store, cmd: Command, now: Instant, config: ResolvedConfig | null = null): CommandResult {
  try {
    const message = store.transaction(() => run(store, cmd, now, config));
    return { ok: true, message };
  } catch (e) {
    const result = { ok: false as const, code: e instanceof WardenError ? e.code : 'INTERNAL', message: e instanceof WardenError ? e.message : errorText(e) };
    if ((cmd.kind === 'approve' || cmd.kind === 'reject') && cmd.via !== undefined) auditRefusal(store, cmd, result, now.wall);
    // The policy refused a person's request: nothing changed, but who asked what and why not is kept.
    if (e instanceof ControlError && e.refusal !== null) {
      const r = e.refusal;
      const override = cmd.override !== undefined ? { override: cmd.override } : {};
      store.transaction(() => store.audit({ at: now.wall, actor: cmd.by, kind: r.kind, subject: r.subject, data: { ...r.data, ...override } }));
    }
    return result;
  }
}

/** A decision from afar that was refused leaves a record: who tried what, through what, and why not. */
function auditRefusal(store: Store, cmd: Extract<Command, { kind: 'approve' | 'reject' }>, r: { code: string; message: string }, at: number): void {
  store.transaction(() => store.audit({
    at, actor: cmd.by, kind: 'action.decision_refused', subject: cmd.actionId,
    data: { verb: cmd.kind, via: cmd.via ?? null, code: r.code, reason: r.message },
  }));
}

function run(store: Store, cmd: Command, instant: Instant, config: ResolvedConfig | null): string {
  const now = instant.wall;
  const ctx = { now, actor: cmd.by, stamp: { mono: instant.mono, boot: instant.boot } };
  const override = { ...(cmd.override !== undefined ? { override: cmd.override } : {}), ...('via' in cmd && cmd.via !== undefined ? { via: cmd.via } : {}) };
  const audit = (intents: readonly AuditIntent[]): void => {
    for (const i of intents) store.audit({ at: now, actor: cmd.by, kind: i.kind, subject: i.subject, data: { ...i.data, ...override } });
  };
  switch (cmd.kind) {
    case 'approve':
    case 'reject':
    case 'cancel': {
      const cur = store.getAction(cmd.actionId);
      if (!cur) throw new CommandError('NOT_FOUND', `no action ${cmd.actionId}; see "warden actions list"`);
      const reason = cmd.reason ?? null;
      const remote = cmd.kind === 'cancel' ? {} : { via: cmd.via, link: cmd.link };
      // The roles `by` decides with: a named token's (through the API), else the person's.
      const roles = config ? requesterOf(config, cmd.by, remote.via).roles : [];
      if (remote.link !== undefined) {
        if (store.getFlag(LINK_USED_PREFIX + remote.link) !== null) throw new CommandError('LINK_USED', `this approval link for action ${cur.id} was used already; a link decides once`);
        store.setFlag(LINK_USED_PREFIX + remote.link, JSON.stringify({ by: cmd.by, verb: cmd.kind, at: new Date(now).toISOString() }));
      }
      // A lapsed request is denied, even before a pass has marked it so.
      if (cur.state === 'awaiting_approval' && cur.approval && cmd.kind !== 'cancel' && approvalLapsed(cur.approval, instant)) {
        throw new CommandError('APPROVAL_EXPIRED', `the approval request of action ${cur.id} expired at ${new Date(cur.approval.expiresAt).toISOString()}: it is denied`);
      }
      // Approving takes the action's tier on its target (docs/policy.md): the check is the policy's,
      // made here because the state machine knows no config.
      const short = cmd.kind === 'approve' && config ? approverTierRefusal(config, cmd.by, roles, cur.type, cur.target) : null;
      if (short !== null) throw new ApprovalError(`${short}; a person with that tier approves it`);
      const { next, audit: a } = transitionAction(cur, cmd.kind === 'approve'
        ? { type: 'approve', by: cmd.by, roles }
        : cmd.kind === 'reject'
          ? { type: 'reject', by: cmd.by, reason }
          : { type: 'cancel', by: cmd.by, reason: `cancelled by ${cmd.by}${reason ? `: ${reason}` : ''}` }, ctx);
      store.putAction(next);
      audit(a);
      const waiting = next.state === 'awaiting_approval' && next.approval ? next.approval : null;
      const what = waiting ? `approval recorded (${waiting.by.length} of ${waiting.quorum}); it runs once ${waiting.quorum - waiting.by.length} more approve`
        : cmd.kind === 'approve' ? 'approved: the daemon runs it on its next pass' : cmd.kind === 'reject' ? 'rejected' : 'cancelled';
      return `action ${next.id} (${next.type} ${next.target}) ${what}`;
    }
    case 'resolve':
    case 'hold': {
      const t = store.getTicket(cmd.ticketId);
      if (!t) throw new CommandError('NOT_FOUND', `no ticket ${cmd.ticketId}; see "warden tickets list --all"`);
      const to = cmd.kind === 'resolve' ? 'resolved' : 'held';
      const r = transitionTicket(t, { type: cmd.kind, by: cmd.by, reason: cmd.reason }, ctx);
      // A person takes the ticket out of automation: what has not started yet is cancelled.
      for (const id of t.actionIds) {
        const a = store.getAction(id);
        if (!a || isTerminal(a) || a.state === 'executing') continue;
        const c = transitionAction(a, { type: 'cancel', by: cmd.by, reason: `ticket ${to} by ${cmd.by}` }, ctx);
        store.putAction(c.next);
        audit(c.audit);
      }
      store.putTicket(r.next);
      audit(r.audit);
      // When, on both clocks: the count restarts then, and a wall-clock step must not move it.
      if (to === 'resolved') store.setFlag(limitResetFlag(t.service), JSON.stringify(instant));
      return to === 'resolved' ? `ticket ${t.id} resolved` : `ticket ${t.id} held: Warden will not act on it until it is resolved`;
    }
    case 'freeze': {
      const until = cmd.forMs !== undefined ? now + cmd.forMs : null;
      store.setFlag(FROZEN_FLAG, JSON.stringify({ by: cmd.by, reason: cmd.reason, at: new Date(now).toISOString(), ...(until !== null ? { until } : {}) }));
      audit([{ kind: 'agent.frozen', subject: null, data: { reason: cmd.reason, ...(until !== null ? { until: new Date(until).toISOString() } : {}) } }]);
      const ends = until !== null ? `until ${new Date(until).toISOString()}, or` : 'undo with';
      return `frozen: no action will start (${cmd.reason}); ${ends} "warden unfreeze"`;
    }
    case 'unfreeze':
      store.setFlag(FROZEN_FLAG, null);
      audit([{ kind: 'agent.unfrozen', subject: null, data: {} }]);
      return 'unfrozen: actions may run again';
    case 'service':
    case 'submit':
    case 'pause':
    case 'resume':
      return applyControl(store, cmd, instant, config, audit);
    case 'host':
      return applyHostControl(store, cmd, instant, config, audit);
    case 'chaos':
      return applyChaos(store, cmd, audit);
  }
}

/** Applies every command queued for the daemon, in order (inside the pass's transaction). */
export function applyQueued(store: Store, now: Instant, config: ResolvedConfig | null = null): { id: number; cmd: Command; result: CommandResult }[] {
  const done: { id: number; cmd: Command; result: CommandResult }[] = [];
  for (const row of store.pendingCommands()) {
    let cmd: Command;
    try {
      cmd = JSON.parse(row.json) as Command;
    } catch (e) {
      store.finishCommand(row.id, false, JSON.stringify({ ok: false, code: 'BAD_COMMAND', message: errorText(e) }));
      continue;
    }
    const result = applyCommand(store, cmd, now, config);
    store.finishCommand(row.id, result.ok, JSON.stringify(result));
    done.push({ id: row.id, cmd, result });
  }
  return done;
}

/**
 * Ends the pauses whose `--for` ran out (inside the pass's transaction), audited as the agent, and
 * returns the pauses still in force by service.
 */
export function settlePauses(store: Store, now: Instant, agent: string): ReturnType<typeof activePauses> {
  const flags = store.flagsWithPrefix(PAUSE_PREFIX);
  for (const [service, value] of flags) {
    const p = parsePause(value);
    if (p && pauseLeftMs(p, now) > 0) continue;
    resume(store, service, agent, 'the pause ran out', (intents) => {
      for (const i of intents) store.audit({ at: now.wall, actor: agent, kind: i.kind, subject: i.subject, data: i.data });
    });
  }
  return activePauses(store.flagsWithPrefix(PAUSE_PREFIX), now);
}

/**
 * Ends the settling pauses (app/control.ts) whose start or restart is over and whose service is
 * healthy again, or whose action failed or was cancelled: automation takes the service back.
 */
export function endSettled(store: Store, now: Instant, agent: string, healthy: (service: string) => boolean): void {
  for (const [service, value] of store.flagsWithPrefix(PAUSE_PREFIX)) {
    const p = parsePause(value);
    if (!p?.settle) continue;
    const a = store.getAction(p.settle.actionId);
    const done = !a || a.state === 'failed' || a.state === 'cancelled' || (a.state === 'completed' && healthy(service));
    if (!done) continue;
    resume(store, service, agent, a?.state === 'completed' ? `healthy after ${a.type} ${a.id}` : `action ${p.settle.actionId} did not complete`, (intents) => {
      for (const i of intents) store.audit({ at: now.wall, actor: agent, kind: i.kind, subject: i.subject, data: i.data });
    });
  }
}
