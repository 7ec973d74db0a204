// The policy gate: may this agent run this catalog action on this target now? Pure: the rate-limit
// counts come in as a function over the persisted action history.
import { formatDuration } from '../lib/duration.js';
import { windowStart, type Instant, type WindowStart } from './elapsed.js';
import type { ActionType, Mode, PolicyRule, RateLimit, ResolvedConfig } from './types.js';

export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}

/** Started actions since a window start: by monotonic stamp within its boot, by wall time otherwise. */
export type CountStarted = (target: string, type: ActionType | '*', since: WindowStart) => number;

export type GateResult =
  | { ok: true; approval: 'none' | 'required'; rule: PolicyRule }
  | { ok: false; blockedBy: 'mode' | 'policy' | 'limit' | 'frozen'; reason: string; limit?: RateLimit };

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

export function findRule(rules: readonly PolicyRule[], type: ActionType, target: string, host: string): PolicyRule | null {
  return rules.find((r) => globMatch(r.match.service, target) && globMatch(r.match.host, host) && r.allow.includes(type)) ?? null;
}

export function gate(input: GateInput): GateResult {
  const { config, type, target, host } = input;
  const mode = input.mode ?? config.agent.mode;
  if (mode === 'observe') return { ok: false, blockedBy: 'mode', reason: 'observe mode: Warden only watches' };
  const rule = findRule(config.policy.rules, type, target, host);
  if (!rule) return { ok: false, blockedBy: 'policy', reason: `policy allows no ${type} on ${target}` };
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
  return { ok: true, approval: rule.approval, rule };
}
