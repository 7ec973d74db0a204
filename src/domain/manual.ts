// A person's own request on one service — `warden start|stop|restart`, `warden actions submit`
// acting now, `warden pause|resume` — judged when it is made (docs/policy.md): by the rules, as
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
export type ManualVerdict =
  | { ok: true; approval: ReturnType<typeof approvalOf> | null; why: string | null }
  | { ok: false; blockedBy: 'policy' | 'tier'; reason: string; rule: string | null };

export function manualVerdict(config: Config, who: Requester, type: ActionType, target: string, host: string): ManualVerdict {
  const v = evaluatePolicy(config.policy.rules, type, target, host);
  if (!v.allowed) return { ok: false, blockedBy: 'policy', reason: v.reason, rule: v.rule ? describeRule(v.rule, v.index!) : null };
  const tier = tiersEnforced(config) ? tierVerdict(config, who, type, target) : null;
  if (tier?.verdict === 'block') return { ok: false, blockedBy: 'tier', reason: `tier: ${tier.detail}`, rule: 'policy.tiers' };
  const require = v.approval === 'required' || tier?.verdict === 'require';
  return { ok: true, approval: require ? approvalOf(v.rule, config.policy) : null, why: tier?.verdict === 'require' ? tier.detail : null };
}

/** Pausing or resuming runs nothing, so no rule names it: only the tier decides (tiers.ts, PAUSE_TIER). */
export function pauseVerdict(config: Config, who: Requester, op: 'pause' | 'resume', target: string): ManualVerdict {
  const refusal = pauseTierRefusal(config, who, op, target);
  return refusal === null ? { ok: true, approval: null, why: null } : { ok: false, blockedBy: 'tier', reason: `tier: ${refusal}`, rule: 'policy.tiers' };
}
