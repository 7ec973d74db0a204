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

/** What an approval under this rule asks for: its approvers, quorum and lifetime (the policy's by default). */
export function approvalOf(rule: PolicyRule, policy: Pick<ResolvedConfig['policy'], 'approvalTtlMs'>): { quorum: number; approvers: string[]; ttlMs: number } {
  return { quorum: rule.quorum ?? 1, approvers: rule.approvers ?? [], ttlMs: rule.approvalTtlMs ?? policy.approvalTtlMs };
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

/** A rule whose allow list decides nothing: `by` is a rule that alone makes it so (null when it takes several). */
export interface ShadowedRule {
  rule: PolicyRule;
  index: number;
  by: number | null;
  /** The services it matches (and where it changes nothing). */
  services: string[];
}

/**
 * Rules that match services but whose `allow` changes no verdict on any of them (allowed or not,
 * approval or not): what they allow is allowed anyway with the same approval, or denied anyway.
 * Denials are never reported: one that denies what nothing allows is a guard kept for rules to come.
 * Of two rules that cover each other the later is reported: rules are taken from the last, and one
 * found shadowed no longer counts for those before it. Services matched by the same rules share
 * their verdicts, so each such group is evaluated once.
 */
export function shadowedRules(config: Pick<ResolvedConfig, 'services' | 'policy'>): ShadowedRule[] {
  const rules = config.policy.rules;
  const types = [...new Set(rules.flatMap((r) => r.allow))];
  const groups = new Map<string, { rules: number[]; target: string; host: string; services: string[] }>();
  for (const s of config.services) {
    const matching = rules.flatMap((r, i) => (ruleMatches(r, s.name, s.host) ? [i] : []));
    const key = matching.join(',');
    const g = groups.get(key) ?? { rules: matching, target: s.name, host: s.host, services: [] };
    g.services.push(s.name);
    groups.set(key, g);
  }
  const allowed = new Set(rules.keys()); // rules whose allow list still counts
  /** Whether the verdicts on group g's services are the same with and without rule i's allow list. */
  const idle = (g: { rules: number[]; target: string; host: string }, i: number, among: number[]): boolean => {
    const withIt = among.map((j) => (j === i || allowed.has(j) ? rules[j]! : { ...rules[j]!, allow: [] }));
    const without = withIt.map((r, k) => (among[k] === i ? { ...r, allow: [] } : r));
    return types.every((t) => {
      const x = evaluatePolicy(withIt, t, g.target, g.host);
      const y = evaluatePolicy(without, t, g.target, g.host);
      return x.allowed === y.allowed && (!x.allowed || !y.allowed || x.approval === y.approval);
    });
  };
  const out: ShadowedRule[] = [];
  for (let i = rules.length - 1; i >= 0; i--) {
    const mine = [...groups.values()].filter((g) => g.rules.includes(i));
    if (mine.length === 0 || rules[i]!.allow.length === 0) continue; // unmatchedRules reports the first
    if (!mine.every((g) => idle(g, i, g.rules))) continue;
    allowed.delete(i);
    const by = [...rules.keys()].find((j) => j !== i && mine.every((g) => g.rules.includes(j) && idle(g, i, [j, i]))) ?? null;
    out.push({ rule: rules[i]!, index: i, by, services: mine.flatMap((g) => g.services) });
  }
  return out.reverse();
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
