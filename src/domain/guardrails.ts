// The guardrails that hold across rules and restarts (docs/policy.md): rate limits per target, per
// action type, per scope and global; a cooldown after each repair; a bound on actions at once;
// maintenance windows that allow or deny. Pure: the counts come from the persisted action history,
// the windows' state from the reconciler (which reads the cron expressions against the wall clock).
import { formatDuration } from '../lib/duration.js';
import { atOrAfter, elapsed, windowStart, type Instant, type WindowStart } from './elapsed.js';
import type { StartedAction } from './policy.js';
import { describeScope, scopeMatches, targetFacts, type TargetFacts } from './tiers.js';
import type { ActionType, MaintenanceWindow, RateLimit, ResolvedConfig } from './types.js';

/** One thing the gate consulted and what it said: what `warden policy explain` shows. */
export interface PolicyCheck {
  kind: 'file' | 'mode' | 'rule' | 'tier' | 'freeze' | 'window' | 'cooldown' | 'limit' | 'concurrency';
  /** Where it is in warden.yaml, e.g. `policy.limits[0]`. */
  name: string;
  /** pass: no objection; require: a person approves first; block: refused (or deferred); none: does not apply here. */
  verdict: 'pass' | 'require' | 'block' | 'none';
  detail: string;
}

/** A maintenance window as of now: open (until `endsAt`), or when it next opens. Wall times: windows are calendar time. */
export interface WindowState {
  window: MaintenanceWindow;
  index: number;
  open: boolean;
  /** While open: when it closes. */
  endsAt: number | null;
  /** When it next opens (null: never again). */
  nextAt: number | null;
}

/** Started actions the limit counts together with an action of `type` on `target`. */
function counted(limit: RateLimit, s: StartedAction, type: ActionType, target: TargetFacts, facts: (name: string) => TargetFacts): boolean {
  if (limit.action !== '*' && s.type !== limit.action) return false;
  switch (limit.per) {
    case 'service': return s.target === target.service;
    case 'action': return s.type === type;
    case 'scope': return limit.scope !== undefined && scopeMatches(limit.scope, facts(s.target));
    case 'global': return true;
  }
}

function limitApplies(limit: RateLimit, type: ActionType, t: TargetFacts): boolean {
  if (limit.action !== '*' && limit.action !== type) return false;
  return limit.per !== 'scope' || (limit.scope !== undefined && scopeMatches(limit.scope, t));
}

function limitName(limit: RateLimit, target: string): string {
  const what = limit.action === '*' ? 'actions' : limit.action;
  const per = limit.per === 'service' ? `on ${target}` : limit.per === 'action' ? 'on all targets' : limit.per === 'scope' ? `in scope (${describeScope(limit.scope!)})` : 'in all';
  return `${what} at most ${limit.max} per ${formatDuration(limit.windowMs)} ${per}`;
}

export interface GuardInput {
  config: Pick<ResolvedConfig, 'policy' | 'services' | 'subjects'>;
  type: ActionType;
  target: string;
  now: Instant;
  /** Repairs started within the longest window (the store's history). */
  started: readonly StartedAction[];
  /** Per-service counts, from a person's reset of the target's count (resolving its ticket by hand) on. */
  countService: (target: string, type: ActionType | '*', since: WindowStart) => number;
  /** Actions executing now. */
  inFlight: number;
  windows: readonly WindowState[];
}

export function limitChecks(g: GuardInput): PolicyCheck[] {
  const t = targetFacts(g.config, g.target);
  const facts = (name: string): TargetFacts => targetFacts(g.config, name);
  return g.config.policy.limits.map((limit, i) => {
    const name = `policy.limits[${i}]`;
    if (!limitApplies(limit, g.type, t)) return { kind: 'limit', name, verdict: 'none', detail: `does not apply to ${g.type} on ${g.target}` };
    const since = windowStart(g.now, limit.windowMs);
    const used = limit.per === 'service' ? g.countService(g.target, limit.action, since)
      : g.started.filter((s) => counted(limit, s, g.type, t, facts) && atOrAfter(s.startedAt, s.stamp, since)).length;
    const detail = `${limitName(limit, g.target)} (${used} used)`;
    return { kind: 'limit', name, verdict: used >= limit.max ? 'block' : 'pass', detail: used >= limit.max ? `limit reached: ${detail}` : detail };
  });
}

export function cooldownCheck(g: GuardInput): PolicyCheck {
  const ms = g.config.policy.cooldownMs ?? 0;
  if (ms <= 0) return { kind: 'cooldown', name: 'policy.cooldown', verdict: 'none', detail: 'no cooldown' };
  let last: { s: StartedAction; since: number } | null = null;
  for (const s of g.started) {
    if (s.target !== g.target) continue;
    const since = elapsed(g.now, s.startedAt, s.stamp);
    if (since >= 0 && (last === null || since < last.since)) last = { s, since };
  }
  if (last !== null && last.since < ms) {
    // Decided on elapsed (monotonic) time, said in the repair's recorded wall times: the reason stays
    // the same from pass to pass, so the deferral is audited (and counted) once, not every second.
    const at = last.s.startedAt;
    return { kind: 'cooldown', name: 'policy.cooldown', verdict: 'block', detail: `cooldown: the last repair of ${g.target} started at ${iso(at)}; no repair of it before ${iso(at + ms)} (cooldown ${formatDuration(ms)})` };
  }
  return { kind: 'cooldown', name: 'policy.cooldown', verdict: 'pass', detail: `no repair of ${g.target} within ${formatDuration(ms)}` };
}

export function concurrencyCheck(g: GuardInput): PolicyCheck {
  const max = g.config.policy.concurrency;
  if (max === undefined) return { kind: 'concurrency', name: 'policy.concurrency', verdict: 'none', detail: 'no bound' };
  return g.inFlight >= max
    ? { kind: 'concurrency', name: 'policy.concurrency', verdict: 'block', detail: `${g.inFlight} action(s) executing, at most ${max} at once; waits for one to finish` }
    : { kind: 'concurrency', name: 'policy.concurrency', verdict: 'pass', detail: `${g.inFlight} of at most ${max} executing` };
}

const iso = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString());

/**
 * Deny windows open now defer the action to their end; allow windows, when any cover the target,
 * confine acting to them: outside all of them it is deferred to the next one's opening.
 */
export function windowChecks(g: GuardInput): PolicyCheck[] {
  const t = targetFacts(g.config, g.target);
  const mine = g.windows.filter((w) => scopeMatches(w.window.scope, t));
  const anyAllowOpen = mine.some((w) => w.window.effect === 'allow' && w.open);
  return g.windows.map((w) => {
    const name = `policy.windows[${w.index}] (${w.window.name})`;
    if (!mine.includes(w)) return { kind: 'window', name, verdict: 'none', detail: `does not cover ${g.target}` };
    if (w.window.effect === 'deny') {
      return w.open
        ? { kind: 'window', name, verdict: 'block', detail: `maintenance window ${w.window.name} denies acting until ${iso(w.endsAt)}; deferred to its end` }
        : { kind: 'window', name, verdict: 'pass', detail: `closed (denies from ${iso(w.nextAt)})` };
    }
    if (w.open) return { kind: 'window', name, verdict: 'pass', detail: `open until ${iso(w.endsAt)}` };
    return anyAllowOpen
      ? { kind: 'window', name, verdict: 'pass', detail: 'closed, but another allowing window is open' }
      : { kind: 'window', name, verdict: 'block', detail: `outside maintenance window ${w.window.name}: acting on ${g.target} is allowed only inside it; deferred to ${iso(w.nextAt)}` };
  });
}
