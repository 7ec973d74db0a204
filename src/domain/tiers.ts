// Authority tiers (docs/policy.md): each action type needs a tier, each identity holds a tier per
// scope, and scopes select targets by service, host, group (subject) and label globs. Pure.
//
// Grants add up: an identity holds the highest tier of every grant that names it (or one of its
// roles) and whose scope matches the target. An identity no grant names holds `observe`.
import type { Requester } from './identity.js';
import { globMatch } from './policy.js';
import { TIERS, type ActionType, type ResolvedConfig, type Scope, type Tier, type TierGrant } from './types.js';

/** Where an action lands: what scopes are matched against. */
export interface TargetFacts {
  service: string;
  host: string;
  groups: string[];
  labels: Record<string, string>;
}

export function tierRank(t: Tier): number {
  return TIERS.indexOf(t);
}

/** The facts of a target (a service, a subject, or a host: host actions) as the config knows them. */
export function targetFacts(config: Pick<ResolvedConfig, 'services' | 'subjects'> & Partial<Pick<ResolvedConfig, 'hosts'>>, target: string): TargetFacts {
  const svc = config.services.find((s) => s.name === target);
  const subject = config.subjects.find((s) => s.name === target);
  const groups = config.subjects.filter((s) => s.members.includes(target)).map((s) => s.name);
  if (subject) groups.push(subject.name);
  const host = svc?.host ?? subject?.host ?? (config.hosts?.some((h) => h.name === target) ? target : 'local');
  return { service: target, host, groups, labels: svc?.labels ?? {} };
}

export function scopeMatches(scope: Scope, t: TargetFacts): boolean {
  if (!globMatch(scope.service, t.service) || !globMatch(scope.host, t.host)) return false;
  // `*` is every target, grouped or not; another glob needs a group it matches.
  if (scope.group !== '*' && !t.groups.some((g) => globMatch(scope.group, g))) return false;
  return Object.entries(scope.labels).every(([k, v]) => t.labels[k] !== undefined && globMatch(v, t.labels[k]));
}

/** How a person finds a scope in warden.yaml. */
export function describeScope(s: Scope): string {
  const parts = [`service: ${s.service}`];
  if (s.host !== '*') parts.push(`host: ${s.host}`);
  if (s.group !== '*') parts.push(`group: ${s.group}`);
  for (const [k, v] of Object.entries(s.labels)) parts.push(`${k}=${v}`);
  return parts.join(', ');
}

/** `person:alice` and `alice` are one identity to a grant. */
function names(identity: string, roles: readonly string[]): Set<string> {
  const bare = identity.replace(/^person:/, '');
  return new Set([bare, identity, ...roles.map((r) => `role:${r}`)]);
}

/** The tier an identity holds on a target, and the grant that gives it (null: none, so observe). */
export function tierOf(grants: readonly TierGrant[], identity: string, roles: readonly string[], t: TargetFacts): { tier: Tier; grant: number | null } {
  const mine = names(identity, roles);
  let best: { tier: Tier; grant: number | null } = { tier: 'observe', grant: null };
  grants.forEach((g, i) => {
    if (!g.who.some((w) => mine.has(w)) || !scopeMatches(g.scope, t)) return;
    if (best.grant === null || tierRank(g.tier) > tierRank(best.tier)) best = { tier: g.tier, grant: i };
  });
  return best;
}

/** The tier an action type needs; a type the catalog does not know needs the most (it is never guessed low). */
export function actionTier(config: Pick<ResolvedConfig, 'policy'>, type: ActionType): Tier {
  return config.policy.actionTiers?.[type] ?? 'human-only';
}

export function tiersEnforced(config: Pick<ResolvedConfig, 'policy'>): boolean {
  return (config.policy.tiers?.length ?? 0) > 0;
}

/**
 * What the requester's tier allows: the action alone, only with a person's approval (it holds at
 * least `propose`), or nothing. A human-only action is never taken by an agent (or a token acting
 * for no person) alone, whatever its tier; a person who holds human-only takes it.
 */
export type TierVerdict = { verdict: 'pass' | 'require' | 'block'; detail: string };

export function tierVerdict(config: Pick<ResolvedConfig, 'policy' | 'services' | 'subjects'>, who: Requester, type: ActionType, target: string): TierVerdict {
  const need = actionTier(config, type);
  const held = tierOf(config.policy.tiers ?? [], who.name, who.roles, targetFacts(config, target));
  const holds = holdsText(who.name, held, target, type, need);
  if (need === 'human-only' && !who.person) {
    return tierRank(held.tier) >= tierRank('propose')
      ? { verdict: 'require', detail: `${holds}: only a person may decide; proposed for approval` }
      : { verdict: 'block', detail: `${holds}: only a person may take it` };
  }
  if (tierRank(held.tier) >= tierRank(need)) return { verdict: 'pass', detail: holds };
  if (tierRank(held.tier) >= tierRank('propose')) return { verdict: 'require', detail: `${holds}: proposed for a person's approval` };
  return { verdict: 'block', detail: `${holds}; grant it in policy.tiers, or ${who.person ? 'ask someone who holds it' : 'act by hand'}` };
}

/**
 * What pausing or resuming a service takes. Neither runs anything, so no rule names them; they take
 * the service out of automation or give it back (to the agent's own tier and rules), a say in how
 * it is repaired that `propose` already gives — while `observe` only watches. It is the same as
 * holding a repair for approval, so the floor is the same.
 */
export const PAUSE_TIER: Tier = 'propose';

/** Why `who` may not pause or resume `target` for want of tier, or null (tiers not enforced, or held). */
export function pauseTierRefusal(config: Pick<ResolvedConfig, 'policy' | 'services' | 'subjects'>, who: Requester, op: 'pause' | 'resume', target: string): string | null {
  if (!tiersEnforced(config)) return null;
  const held = tierOf(config.policy.tiers ?? [], who.name, who.roles, targetFacts(config, target));
  if (tierRank(held.tier) >= tierRank(PAUSE_TIER)) return null;
  return `${holdsText(who.name, held, target, op, PAUSE_TIER)}; grant it in policy.tiers, or ask someone who holds it`;
}

/** `alice holds observe on web (by policy.tiers[2]); restart needs repair-service`. */
function holdsText(name: string, held: { tier: Tier; grant: number | null }, target: string, what: string, need: Tier): string {
  const by = held.grant === null ? 'no grant in policy.tiers names it here' : `policy.tiers[${held.grant}]`;
  return `${name} holds ${held.tier} on ${target} (${by}); ${what} needs ${need}`;
}

/** Why a person may not approve this action for want of tier, or null (tiers not enforced, or held). */
export function approverTierRefusal(config: Pick<ResolvedConfig, 'policy' | 'services' | 'subjects'>, identity: string, roles: readonly string[], type: ActionType, target: string): string | null {
  if (!tiersEnforced(config)) return null;
  const need = actionTier(config, type);
  const held = tierOf(config.policy.tiers ?? [], identity, roles, targetFacts(config, target));
  if (tierRank(held.tier) >= tierRank(need)) return null;
  const by = held.grant === null ? 'no grant in policy.tiers names them there' : `by policy.tiers[${held.grant}]`;
  return `${identity} holds ${held.tier} on ${target} (${by}); approving ${type} needs ${need}`;
}
