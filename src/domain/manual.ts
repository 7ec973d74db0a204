// A person's own request on one service or host — `warden start|stop|restart`, `warden actions
// submit` acting now, `warden pause|resume`, `warden reboot` — judged when it is made (docs/policy.md): by the rules, as
// Warden's own repairs are, and by the tier the person holds on the service (`policy.tiers`, with
// the roles `people:` gives them), computed by the one function the gate and `warden policy check
// --as` use. Pure.
//
// Limits, cooldown, windows and concurrency bound Warden's automation, not a person's hand; the
// freeze and a policy file that does not validate still hold a person's action when it would run.
import type { Requester } from './identity.js';
import { approvalOf, describeRule, evaluatePolicy } from './policy.js';
import { pauseTierRefusal, tiersEnforced, tierVerdict } from './tiers.js';
import type { ActionType, ResolvedConfig } from './types.js';

type Config = Pick<ResolvedConfig, 'policy' | 'services' | 'subjects'>;

/**
 * `approval`: what the request waits for, or null when it runs at once; `why`: the tier that made a
 * person's approval necessary, when it was the tier. A refusal names the rule or tier that refused.
 */
type Approval = ReturnType<typeof approvalOf>;

export type ManualVerdict =
  | { ok: true; approval: Approval | null; why: string | null }
  | { ok: false; blockedBy: 'policy' | 'tier'; reason: string; rule: string | null };

export function manualVerdict(config: Config, who: Requester, type: ActionType, target: string, host: string): ManualVerdict {
  const v = evaluatePolicy(config.policy.rules, type, target, host);
  if (!v.allowed) return { ok: false, blockedBy: 'policy', reason: v.reason, rule: v.rule ? describeRule(v.rule, v.index!) : null };
  return withTier(config, who, type, target, v.approval === 'required' ? approvalOf(v.rule, config.policy) : null, approvalOf(v.rule, config.policy));
}

/**
 * `warden reboot HOST`: as manualVerdict, except that no rule naming host.reboot on the host means
 * "after a person's approval" rather than "no" (docs/fleet.md); a rule's denial still refuses.
 */
export function hostVerdict(config: Config, who: Requester, type: ActionType, host: string): ManualVerdict {
  const v = evaluatePolicy(config.policy.rules, type, host, host);
  if (!v.allowed && v.rule !== null) return { ok: false, blockedBy: 'policy', reason: v.reason, rule: describeRule(v.rule, v.index!) };
  const byDefault = { quorum: 1, approvers: [], ttlMs: config.policy.approvalTtlMs };
  if (!v.allowed) return withTier(config, who, type, host, byDefault, byDefault);
  return withTier(config, who, type, host, v.approval === 'required' ? approvalOf(v.rule, config.policy) : null, approvalOf(v.rule, config.policy));
}

/** The rules' verdict (`approval`), then the person's tier: it refuses, or makes the request wait (`ifTier`). */
function withTier(config: Config, who: Requester, type: ActionType, target: string, approval: Approval | null, ifTier: Approval): ManualVerdict {
  const tier = tiersEnforced(config) ? tierVerdict(config, who, type, target) : null;
  if (tier?.verdict === 'block') return { ok: false, blockedBy: 'tier', reason: `tier: ${tier.detail}`, rule: 'policy.tiers' };
  if (tier?.verdict === 'require') return { ok: true, approval: approval ?? ifTier, why: tier.detail };
  return { ok: true, approval, why: null };
}

/** Pausing or resuming runs nothing, so no rule names it: only the tier decides (tiers.ts, PAUSE_TIER). */
export function pauseVerdict(config: Config, who: Requester, op: 'pause' | 'resume', target: string): ManualVerdict {
  const refusal = pauseTierRefusal(config, who, op, target);
  return refusal === null ? { ok: true, approval: null, why: null } : { ok: false, blockedBy: 'tier', reason: `tier: ${refusal}`, rule: 'policy.tiers' };
}
