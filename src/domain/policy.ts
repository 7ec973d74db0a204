// The policy gate: may this agent run this catalog action on this target now? Pure: the rate-limit
// counts come in as a function over the persisted action history.
//
// Every rule whose globs match the service and its host is consulted, in any order, and the most
// restrictive verdict wins (docs/policy.md): a denial by any of them denies, an approval required by
// any rule that allows the action is required, and an action no matching rule allows is denied.
import { atOrAfter, type Instant, type MonoStamp, type WindowStart } from './elapsed.js';
import { concurrencyCheck, cooldownCheck, limitChecks, windowChecks, type GuardInput, type PolicyCheck, type WindowState } from './guardrails.js';
import type { Requester } from './identity.js';
import { tierVerdict, tiersEnforced } from './tiers.js';
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

export type BlockedBy = 'invalid' | 'mode' | 'policy' | 'tier' | 'frozen' | 'window' | 'cooldown' | 'limit' | 'concurrency';

export type GateResult =
  | { ok: true; approval: 'none' | 'required'; rule: PolicyRule; checks: PolicyCheck[] }
  | { ok: false; blockedBy: BlockedBy; reason: string; limit?: RateLimit; rule?: string; checks: PolicyCheck[] };

/**
 * Why an action was not taken, as `warden_actions_blocked_total`'s `by` label says it
 * (docs/policy.md): the gate's refusals (a rule's denial is `rule`, the kill switch `freeze`), an
 * approval request that lapsed, and a subject's guard refusing inside the action (`blast_radius`).
 */
export const REFUSED_BY = ['rule', 'tier', 'limit', 'window', 'blast_radius', 'freeze', 'approval_expired', 'cooldown', 'concurrency', 'invalid', 'mode'] as const;
export type RefusedBy = typeof REFUSED_BY[number];

const REFUSED_AS: Record<BlockedBy, RefusedBy> = {
  invalid: 'invalid', mode: 'mode', policy: 'rule', tier: 'tier', frozen: 'freeze', window: 'window', cooldown: 'cooldown', limit: 'limit', concurrency: 'concurrency',
};

export function refusedBy(b: BlockedBy): RefusedBy {
  return REFUSED_AS[b];
}

/** One refused decision about one action: reported once, when it is made, not on every pass it stands. */
export interface Refusal { by: RefusedBy; type: ActionType; target: string; ticketId: string | null }

/** Refusals a ticket waits out (they end by themselves or by a person's word); the others escalate it. */
export const WAITS: ReadonlySet<BlockedBy> = new Set(['invalid', 'frozen', 'window', 'cooldown', 'concurrency']);

export interface GateInput {
  config: ResolvedConfig;
  type: ActionType;
  target: string;
  host: string;
  frozen: boolean;
  /** The freeze's reason and end, when frozen and known (shown). */
  freeze?: { reason: string; until: number | null } | null;
  now: Instant;
  countStarted: CountStarted;
  /** Override the configured mode (reconcile --once evaluates as if executing). */
  mode?: Mode;
  /** Why the policy as now written does not validate: nothing may act (never a fall-back to allow). */
  policyError?: string | null;
  /** Repairs started within the longest window: for limits per action, scope and global, and the cooldown. */
  started?: readonly StartedAction[];
  /** Actions executing now. */
  inFlight?: number;
  windows?: readonly WindowState[];
  /** Who asks (a person's scheduled action, warden policy check --as): the agent when absent. */
  requester?: Requester;
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

/**
 * Everything the policy says about one action now, in the order a person reads it: the policy's
 * validity, the mode, every rule, the tier, the freeze, the windows, the cooldown, the limits and
 * the concurrency bound. Each is consulted (explain shows them all); the first that blocks decides.
 */
export function gate(input: GateInput): GateResult {
  const { config, type, target, host } = input;
  const mode = input.mode ?? config.agent.mode;
  const checks: PolicyCheck[] = [];
  const invalid = input.policyError ?? null;
  checks.push(invalid === null
    ? { kind: 'file', name: config.file, verdict: 'pass', detail: 'the policy validates' }
    : { kind: 'file', name: config.file, verdict: 'block', detail: `the policy does not validate, so nothing acts until it is fixed: ${invalid}` });
  checks.push(mode === 'observe'
    ? { kind: 'mode', name: 'agent.mode', verdict: 'block', detail: 'observe mode: Warden only watches' }
    : { kind: 'mode', name: 'agent.mode', verdict: 'pass', detail: `${mode} mode` });
  const verdict = evaluatePolicy(config.policy.rules, type, target, host);
  checks.push(...ruleChecks(config.policy.rules, type, target, host));
  if (!verdict.allowed && verdict.rule === null) checks.push({ kind: 'rule', name: 'policy.rules', verdict: 'block', detail: verdict.reason });
  const who = input.requester ?? { name: config.agent.name, roles: [], person: false };
  const tier = tiersEnforced(config) ? tierVerdict(config, who, type, target) : null;
  checks.push(tier === null
    ? { kind: 'tier', name: 'policy.tiers', verdict: 'none', detail: 'tiers are not enforced (policy.tiers is empty)' }
    : { kind: 'tier', name: 'policy.tiers', verdict: tier.verdict, detail: tier.detail });
  checks.push(input.frozen
    ? { kind: 'freeze', name: 'warden freeze', verdict: 'block', detail: freezeText(input.freeze ?? null) }
    : { kind: 'freeze', name: 'warden freeze', verdict: 'pass', detail: 'not frozen' });
  const guard: GuardInput = {
    config, type, target, now: input.now, started: input.started ?? [], countService: input.countStarted,
    inFlight: input.inFlight ?? 0, windows: input.windows ?? [],
  };
  checks.push(...windowChecks(guard), cooldownCheck(guard));
  const limits = limitChecks(guard);
  checks.push(...limits, concurrencyCheck(guard));

  const block = (blockedBy: BlockedBy, reason: string, extra: { limit?: RateLimit; rule?: string } = {}): GateResult => ({ ok: false, blockedBy, reason, ...extra, checks });
  const first = (kind: PolicyCheck['kind']): PolicyCheck | undefined => checks.find((c) => c.kind === kind && c.verdict === 'block');
  if (invalid !== null) return block('invalid', `policy invalid: ${invalid}; no action until it validates`);
  if (mode === 'observe') return block('mode', 'observe mode: Warden only watches');
  if (!verdict.allowed) return block('policy', verdict.reason, verdict.rule ? { rule: describeRule(verdict.rule, verdict.index!) } : {});
  if (tier?.verdict === 'block') return block('tier', `tier: ${tier.detail}`, { rule: 'policy.tiers' });
  // The kill switch comes before the limits: while frozen a ticket waits; it is not escalated.
  if (input.frozen) return block('frozen', freezeText(input.freeze ?? null));
  const w = first('window');
  if (w) return block('window', w.detail, { rule: w.name });
  const c = first('cooldown');
  if (c) return block('cooldown', c.detail, { rule: c.name });
  const li = limits.findIndex((l) => l.verdict === 'block');
  if (li >= 0) return block('limit', limits[li]!.detail, { limit: config.policy.limits[li]!, rule: limits[li]!.name });
  const cc = first('concurrency');
  if (cc) return block('concurrency', cc.detail, { rule: cc.name });
  return { ok: true, approval: verdict.approval === 'required' || tier?.verdict === 'require' ? 'required' : 'none', rule: verdict.rule, checks };
}

/** Every rule's say on this action: what it allows, denies or requires here, or that it does not match. */
function ruleChecks(rules: readonly PolicyRule[], type: ActionType, target: string, host: string): PolicyCheck[] {
  return rules.map((r, i): PolicyCheck => {
    const name = describeRule(r, i);
    if (!ruleMatches(r, target, host)) return { kind: 'rule', name, verdict: 'none', detail: `does not match ${target}` };
    if (r.deny?.includes(type)) return { kind: 'rule', name, verdict: 'block', detail: `denies ${type}` };
    if (!r.allow.includes(type)) return { kind: 'rule', name, verdict: 'none', detail: `matches, says nothing of ${type}` };
    return r.approval === 'required'
      ? { kind: 'rule', name, verdict: 'require', detail: `allows ${type} after approval${r.quorum ? ` (${r.quorum} approver(s))` : ''}` }
      : { kind: 'rule', name, verdict: 'pass', detail: `allows ${type}` };
  });
}

export function freezeText(f: { reason: string; until: number | null } | null): string {
  if (!f) return 'frozen: the kill switch is on';
  return `frozen: the kill switch is on (${f.reason})${f.until !== null ? ` until ${new Date(f.until).toISOString()}` : '; undo with "warden unfreeze"'}`;
}
