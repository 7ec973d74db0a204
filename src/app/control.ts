// A person's hand on one service: start, stop, restart (a catalog action that the executor runs
// once, requested by the person, under policy) and pause/resume (Monit's unmonitor). A stop also
// pauses, or the next pass would see the service missing and start it again; a start resumes.
// Each is judged when it is made by the rules and the person's tier (domain/manual.ts); a refusal
// changes nothing and is audited (policy.denied, by commands.ts after the rollback).
import { proposeAction } from '../domain/action.js';
import type { AuditIntent } from '../domain/audit.js';
import type { Instant } from '../domain/elapsed.js';
import { parsePause, pauseFlag, type Pause } from '../domain/pause.js';
import { requesterOf } from '../domain/identity.js';
import { manualVerdict, pauseVerdict, type ManualVerdict } from '../domain/manual.js';
import type { ActionType, ResolvedConfig } from '../domain/types.js';
import { actions } from '../actions/index.js';
import { formatDuration } from '../lib/duration.js';
import { WardenError } from '../lib/errors.js';
import type { Store } from '../store/store.js';

export type ControlCommand =
  | { kind: 'service'; op: 'start' | 'stop' | 'restart'; service: string; by: string; reason?: string | null }
  | { kind: 'pause'; service: string; by: string; forMs?: number | null; reason?: string | null }
  | { kind: 'resume'; service: string; by: string }
  /**
   * Any catalog action on one service, now (as start/stop/restart above) or at a later time: `at`
   * an instant on the wall clock (an ISO time), or `inMs` from when the command is applied.
   */
  | { kind: 'submit'; type: ActionType; service: string; params: Record<string, string>; at: { wall: number } | { inMs: number } | null; by: string; reason?: string | null };

/** `refusal`: the policy's refusal of a person's request, audited although the request changes nothing. */
export class ControlError extends WardenError {
  constructor(code: string, message: string, readonly refusal: AuditIntent | null = null) {
    super(code, message);
  }
}

/** Throws the policy's refusal of `what` on `service` (or a host), with its audit record. */
export function refuse(v: Extract<ManualVerdict, { ok: false }>, what: string, service: string): never {
  throw new ControlError('POLICY_DENIED', `${v.reason}: refused`, {
    kind: 'policy.denied', subject: service,
    data: { type: what, target: service, reason: v.reason, blockedBy: v.blockedBy, ...(v.rule ? { rule: v.rule } : {}), manual: true },
  });
}

/** How a request that waits says what for, and why when the tier made it wait. */
function awaits(id: string, v: Extract<ManualVerdict, { ok: true }>): string {
  return `awaits approval ("warden actions approve ${id}")${v.why ? `: ${v.why}` : ''}`;
}

type Audit = (intents: readonly AuditIntent[]) => void;

/** Applies one control command (inside the caller's transaction) and says what it did. */
export function applyControl(store: Store, cmd: ControlCommand, instant: Instant, config: ResolvedConfig | null, audit: Audit): string {
  if (!config) throw new ControlError('NO_INVENTORY', `${cmd.kind} needs the inventory to know ${cmd.service}`);
  const spec = config.services.find((s) => s.name === cmd.service);
  if (!spec) throw new ControlError('NOT_FOUND', `no service "${cmd.service}" in the inventory; known: ${config.services.map((s) => s.name).join(', ')}`);
  const who = requesterOf(config, cmd.by);
  switch (cmd.kind) {
    case 'submit':
      return submitAction(store, cmd, instant, config, audit);
    case 'pause':
    case 'resume': {
      const verdict = pauseVerdict(config, who, cmd.kind, cmd.service);
      if (!verdict.ok) refuse(verdict, cmd.kind, cmd.service);
      return cmd.kind === 'pause'
        ? pause(store, cmd.service, cmd.by, cmd.forMs ?? null, cmd.reason ?? null, instant, audit)
        : resume(store, cmd.service, cmd.by, 'resumed by hand', audit) ?? `${cmd.service} was not paused`;
    }
    case 'service': {
      // Under policy like Warden's own repairs, and the person's tier: a denial refuses, a required approval waits for one.
      const verdict = manualVerdict(config, who, cmd.op, cmd.service, spec.host);
      if (!verdict.ok) refuse(verdict, cmd.op, cmd.service);
      const ids = store.nextIds();
      const id = `A${ids.A}`;
      const state = verdict.approval !== null ? 'awaiting_approval' : 'validated';
      const r = proposeAction({
        id, type: cmd.op, target: cmd.service, params: {}, ticketId: null, idempotencyKey: `manual:${cmd.service}:${cmd.op}:${instant.wall}:${id}`,
        state, why: { reason: cmd.reason ?? `${cmd.op} by hand`, manual: true }, ...(verdict.approval !== null ? { approval: verdict.approval } : {}),
      }, { now: instant.wall, actor: cmd.by, stamp: { mono: instant.mono, boot: instant.boot } });
      store.putAction(r.next);
      store.useIds({ T: ids.T, A: ids.A + 1 });
      audit(r.audit);
      let extra = '';
      if (cmd.op === 'stop') {
        pause(store, cmd.service, cmd.by, null, `stopped by ${cmd.by}`, instant, audit);
        extra = `; ${cmd.service} is paused (Warden will not start it again) until "warden start ${cmd.service}" or "warden resume ${cmd.service}"`;
      } else {
        if (cmd.op === 'start') {
          const was = resume(store, cmd.service, cmd.by, 'started by hand', audit);
          if (was) extra = `; ${was}`;
        }
        // Unless a person paused it (a restart keeps that), it settles as a repair is verified.
        if (store.getFlag(pauseFlag(cmd.service)) === null) {
          pause(store, cmd.service, cmd.by, config.agent.verifyDeadlineMs, `settling after ${cmd.op} ${id} by ${cmd.by}`, instant, audit, id);
        }
      }
      const when = verdict.approval !== null ? awaits(id, verdict) : 'runs within one pass';
      return `action ${id} (${cmd.op} ${cmd.service}) ${when}${extra}`;
    }
  }
}

/** `warden actions submit`: checked now (type, params, time); a scheduled one is gated when it is due. */
function submitAction(store: Store, cmd: Extract<ControlCommand, { kind: 'submit' }>, instant: Instant, config: ResolvedConfig, audit: Audit): string {
  const plugin = Object.hasOwn(actions, cmd.type) ? actions[cmd.type] : undefined;
  if (!plugin) throw new ControlError('ACTION_UNKNOWN', `no action "${cmd.type}" in the catalog; known: ${Object.keys(actions).join(', ')}`);
  const p = plugin.config.safeParse(cmd.params);
  if (!p.success) throw new ControlError('BAD_PARAMS', `invalid params for ${cmd.type}: ${p.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`);
  if (cmd.at === null) {
    if (cmd.type === 'start' || cmd.type === 'stop' || cmd.type === 'restart') return applyControl(store, { kind: 'service', op: cmd.type, service: cmd.service, by: cmd.by, reason: cmd.reason ?? null }, instant, config, audit);
  }
  const at = cmd.at === null ? null : 'wall' in cmd.at ? { wall: cmd.at.wall, mono: null } : { wall: instant.wall + cmd.at.inMs, mono: { mono: instant.mono + cmd.at.inMs, boot: instant.boot } };
  if (at !== null && at.wall <= instant.wall) throw new ControlError('IN_THE_PAST', `${new Date(at.wall).toISOString()} has passed; give a later time, or leave --at out to act now`);
  const ids = store.nextIds();
  const id = `A${ids.A}`;
  const spec = config.services.find((s) => s.name === cmd.service)!;
  // Acting now is gated now (by the rules and the tier, as a person's start/stop/restart); a schedule is gated when due.
  const verdict = at === null ? manualVerdict(config, requesterOf(config, cmd.by), cmd.type, cmd.service, spec.host) : null;
  if (verdict && !verdict.ok) refuse(verdict, cmd.type, cmd.service);
  const approval = verdict?.ok ? verdict.approval : null;
  const state = at !== null ? 'scheduled' : approval !== null ? 'awaiting_approval' : 'validated';
  const r = proposeAction({
    id, type: cmd.type, target: cmd.service, params: cmd.params, ticketId: null, idempotencyKey: `manual:${cmd.service}:${cmd.type}:${instant.wall}:${id}`, state,
    why: { reason: cmd.reason ?? `${cmd.type} by hand`, manual: true }, ...(at ? { at } : {}),
    ...(approval !== null ? { approval } : {}),
  }, { now: instant.wall, actor: cmd.by, stamp: { mono: instant.mono, boot: instant.boot } });
  store.putAction(r.next);
  store.useIds({ T: ids.T, A: ids.A + 1 });
  audit(r.audit);
  if (at !== null) return `action ${id} (${cmd.type} ${cmd.service}) scheduled for ${new Date(at.wall).toISOString()}; the policy as it is then decides whether it runs ("warden actions cancel ${id}" to drop it)`;
  return `action ${id} (${cmd.type} ${cmd.service}) ${verdict?.ok && approval !== null ? awaits(id, verdict) : 'runs within one pass'}`;
}

function pause(store: Store, service: string, by: string, forMs: number | null, reason: string | null, now: Instant, audit: Audit, settleOn?: string): string {
  const until = forMs === null ? null : { wall: now.wall + forMs, mono: now.mono + forMs, boot: now.boot };
  const p: Pause = { by, reason, at: now.wall, until, ...(settleOn ? { settle: { actionId: settleOn } } : {}) };
  store.setFlag(pauseFlag(service), JSON.stringify(p));
  audit([{ kind: 'service.paused', subject: service, data: { service, reason, until: until ? new Date(until.wall).toISOString() : null } }]);
  return `${service} paused: Warden observes it but will not act on it${forMs === null ? ` until "warden resume ${service}"` : ` for ${formatDuration(forMs)}`}`;
}

/** Lifts a pause; null when the service was not paused. */
export function resume(store: Store, service: string, by: string, reason: string, audit: Audit): string | null {
  const cur = store.getFlag(pauseFlag(service));
  if (cur === null) return null;
  store.setFlag(pauseFlag(service), null);
  audit([{ kind: 'service.resumed', subject: service, data: { service, reason, pausedBy: parsePause(cur)?.by ?? null } }]);
  return `${service} resumed: Warden acts on it again`;
}
