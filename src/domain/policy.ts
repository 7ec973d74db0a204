// The policy gate: may this agent run this catalog action on this target now? Pure: the rate-limit
// counts come in as a function over the persisted action history.
//
// Every rule whose globs match the service and its host is consulted, in any order, and the most
// restrictive verdict wins (docs/policy.md): a denial by any of them denies, an approval required by
// any rule that allows the action is required, and an action no matching rule allows is denied.
import { formatDuration } from '../lib/duration.js';
import { atOrAfter, windowStart, type Instant, type MonoStamp, type WindowStart } from './elapsed.js';
import type { ActionType, Mode, PolicyRule, RateLimit, ResolvedConfig } from './types.js';

/** A repair action that started (for rate limits and restart backoff). */
export interface StartedAction {
  target: string;
  type: ActionType;
  startedAt: number;
  /** When it started on monotonic time, and in which boot (absent for actions recorded before). */
  stamp?: MonoStamp;
}

/**
 * Repairs on `target` (of `type`, or any with '*') started in the window and after a person's reset:
 * on monotonic time within the boot they started in, on wall time across boots. The one rule the
 * planner and the store both count by.
 */
export function countStartedIn(started: readonly StartedAction[], target: string, type: ActionType | '*', since: WindowStart, reset?: WindowStart): number {
  return started.filter((s) => s.target === target && (type === '*' || s.type === type)
    && atOrAfter(s.startedAt, s.stamp, since) && (!reset || atOrAfter(s.startedAt, s.stamp, reset))).length;
}

/**
 * `*` matches any run of characters, `?` one, everything else itself. Matched by walking both
 * strings and backing up only to the last star: O(pattern × value) at worst. (A regular expression
 * of `.*`s backtracks exponentially on a near miss, and this runs in validate and in every gate.)
 */
export function globMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1; // the pattern index after the last `*` seen
  let resume = 0; // where in value that star's run would end next
  while (v < value.length) {
    const c = pattern[p];
    if (c === '*') {
      star = ++p;
      resume = v;
    } else if (c !== undefined && (c === '?' || c === value[v])) {
      p++;
      v++;
    } else if (star >= 0) {
      p = star;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Started actions since a window start: by monotonic stamp within its boot, by wall time otherwise. */
export type CountStarted = (target: string, type: ActionType | '*', since: WindowStart) => number;

export type GateResult =
  | { ok: true; approval: 'none' | 'required'; rule: PolicyRule }
  | { ok: false; blockedBy: 'mode' | 'policy' | 'limit' | 'frozen'; reason: string; limit?: RateLimit; rule?: string };

export interface GateInput {
  config: ResolvedConfig;
  type: ActionType;
  target: string;
  host: string;
  frozen: boolean;
  now: Instant;
  countStarted: CountStarted;
  /** Override the configured mode (reconcile --once evaluates as if executing). */
  mode?: Mode;
}

/** What the matching rules say about one action on one target, naming the rule that decided. */
export type PolicyVerdict =
  | { allowed: true; approval: 'none' | 'required'; rule: PolicyRule; index: number }
  | { allowed: false; reason: string; rule: PolicyRule | null; index: number | null };

/** How a person finds a rule in warden.yaml: its path in the config and what it matches. */
export function describeRule(rule: PolicyRule, index: number): string {
  const host = rule.match.host === '*' ? '' : `, host: ${rule.match.host}`;
  return `policy.rules[${index}] (service: ${rule.match.service}${host})`;
}

export function ruleMatches(rule: PolicyRule, target: string, host: string): boolean {
  return globMatch(rule.match.service, target) && globMatch(rule.match.host, host);
}

export function evaluatePolicy(rules: readonly PolicyRule[], type: ActionType, target: string, host: string): PolicyVerdict {
  let allowedBy: number | null = null;
  let approvalBy: number | null = null;
  for (const [i, r] of rules.entries()) {
    if (!ruleMatches(r, target, host)) continue;
    if (r.deny?.includes(type)) return { allowed: false, reason: `${describeRule(r, i)} denies ${type} on ${target}`, rule: r, index: i };
    if (!r.allow.includes(type)) continue;
    allowedBy ??= i;
    if (r.approval === 'required') approvalBy ??= i;
  }
  if (allowedBy === null) return { allowed: false, reason: `policy allows no ${type} on ${target}`, rule: null, index: null };
  const index = approvalBy ?? allowedBy;
  return { allowed: true, approval: approvalBy === null ? 'none' : 'required', rule: rules[index]!, index };
}

/** The rule under which the action is allowed (the one requiring approval, if any), or null when denied. */
export function findRule(rules: readonly PolicyRule[], type: ActionType, target: string, host: string): PolicyRule | null {
  const v = evaluatePolicy(rules, type, target, host);
  return v.allowed ? v.rule : null;
}

/** Rules whose globs match no service of the inventory (on its host): a typo, or a stale rule. */
export function unmatchedRules(config: Pick<ResolvedConfig, 'services' | 'policy'>): { rule: PolicyRule; index: number }[] {
  return config.policy.rules.flatMap((rule, index) =>
    config.services.some((s) => ruleMatches(rule, s.name, s.host)) ? [] : [{ rule, index }]);
}

export function gate(input: GateInput): GateResult {
  const { config, type, target, host } = input;
  const mode = input.mode ?? config.agent.mode;
  if (mode === 'observe') return { ok: false, blockedBy: 'mode', reason: 'observe mode: Warden only watches' };
  const verdict = evaluatePolicy(config.policy.rules, type, target, host);
  if (!verdict.allowed) {
    return { ok: false, blockedBy: 'policy', reason: verdict.reason, ...(verdict.rule ? { rule: describeRule(verdict.rule, verdict.index!) } : {}) };
  }
  // The kill switch comes before the limits: while frozen a ticket waits; it is not escalated.
  if (input.frozen) return { ok: false, blockedBy: 'frozen', reason: 'frozen: the kill switch is on' };
  for (const limit of config.policy.limits) {
    if (limit.action !== '*' && limit.action !== type) continue;
    const used = input.countStarted(target, limit.action, windowStart(input.now, limit.windowMs));
    if (used >= limit.max) {
      return {
        ok: false,
        blockedBy: 'limit',
        limit,
        reason: `limit reached: ${limit.action === '*' ? 'actions' : limit.action} at most ${limit.max} per ${formatDuration(limit.windowMs)} on ${target} (${used} used)`,
      };
    }
  }
  return { ok: true, approval: verdict.approval, rule: verdict.rule };
}
