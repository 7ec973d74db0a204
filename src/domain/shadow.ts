// Shadow mode per scope (docs/policy.md): on a target that `policy.shadow` names, Warden diagnoses,
// plans and consults the policy gate exactly as it would to act, records what it would have done
// and with what verdict, and never acts. When the problem ends without it, the record says how.
// Pure: the decision (decide.ts) and the ticket machine (ticket.ts) call these.
import { formatDuration } from '../lib/duration.js';
import type { Instant } from './elapsed.js';
import { WAITS, type GateResult } from './policy.js';
import { describeScope, scopeMatches, targetFacts } from './tiers.js';
import type { ActionType, Diagnosis, Mode, Occurrence, ResolvedConfig, ShadowRecord, Ticket } from './types.js';

/** What Warden may do on one target, the most restrictive of the mode and the scope: observe < shadow < recommend < execute. */
export type ScopeMode = Mode | 'shadow';

/** The `policy.shadow` entry that holds a target, as a person finds it in warden.yaml. */
export interface ShadowEntry {
  index: number;
  name: string;
}

/** The first `policy.shadow` entry whose scope matches the target, or null. */
export function shadowOf(config: Pick<ResolvedConfig, 'policy' | 'services' | 'subjects'>, target: string): ShadowEntry | null {
  const scopes = config.policy.shadow ?? [];
  if (scopes.length === 0) return null;
  const facts = targetFacts(config, target);
  const index = scopes.findIndex((s) => scopeMatches(s, facts));
  return index < 0 ? null : { index, name: `policy.shadow[${index}] (${describeScope(scopes[index]!)})` };
}

/** Observe beats shadow (nothing is even planned); shadow beats recommend and execute (nothing runs). */
export function scopeMode(config: Pick<ResolvedConfig, 'agent' | 'policy' | 'services' | 'subjects'>, target: string): ScopeMode {
  if (config.agent.mode === 'observe') return 'observe';
  return shadowOf(config, target) ? 'shadow' : config.agent.mode;
}

/** The record of the ticket's current occurrence, when it was watched in shadow. */
export function currentShadow(t: Pick<Ticket, 'history' | 'occurrences'>): ShadowRecord | null {
  const o: Occurrence | undefined = t.history?.at(-1);
  return o && o.n === t.occurrences ? o.shadow ?? null : null;
}

/** What the gate said, in one word: whether acting would have been allowed. */
export function shadowVerdict(g: GateResult): ShadowRecord['verdict'] {
  if (g.ok) return g.approval === 'required' ? 'approval' : 'allowed';
  return WAITS.has(g.blockedBy) ? 'deferred' : 'refused';
}

/** What the diagnosis expects of the action: the ticket's service healthy again. */
export function predictedOutcome(service: string, rec: { type: ActionType; target: string }, d: Diagnosis | null): string {
  if (!d) return `${service} healthy again after ${rec.type} ${rec.target}`;
  return `${service} healthy again: ${rec.type} ${rec.target} mends ${d.rootCause.cause} on ${d.rootCause.service} (confidence ${d.confidence}, ${d.diagnoser})`;
}

export function shadowRecord(
  service: string,
  rec: { type: ActionType; target: string; params: Record<string, string> },
  g: GateResult,
  entry: ShadowEntry,
  d: Diagnosis | null,
  now: Instant,
): ShadowRecord {
  return {
    type: rec.type, target: rec.target, params: { ...rec.params }, scope: entry.name, at: now.wall,
    stamp: { mono: now.mono, boot: now.boot }, verdict: shadowVerdict(g), reason: g.ok ? null : g.reason,
    predicted: predictedOutcome(service, rec, d), outcome: null,
  };
}

const PAST: Partial<Record<ActionType, string>> = { start: 'started', restart: 'restarted', stop: 'stopped' };

/** "restarted web", "run etcd.defragment on etcd": what would have been done. */
export function wouldHave(r: Pick<ShadowRecord, 'type' | 'target'>): string {
  const past = PAST[r.type];
  return past ? `${past} ${r.target}` : `run ${r.type} on ${r.target}`;
}

/** The gate's verdict as a person reads it. */
export const VERDICT_TEXT: Record<ShadowRecord['verdict'], string> = {
  allowed: 'policy allows it',
  approval: 'policy allows it after a person\'s approval',
  deferred: 'policy would defer it',
  refused: 'policy would refuse it',
};

/** The ticket's reason while in shadow: what would have been done, the verdict, and why nothing is. */
export function shadowReason(r: Pick<ShadowRecord, 'type' | 'target' | 'verdict' | 'reason' | 'scope'>): string {
  return `shadow: would have ${wouldHave(r)} (${VERDICT_TEXT[r.verdict]}${r.reason ? `: ${r.reason}` : ''}); not acting: ${r.target} is in ${r.scope}`;
}

/** The ticket's reason when a problem watched in shadow went away by itself. */
export function wentAwayReason(r: ShadowRecord, afterMs: number): string {
  return `recovered without action: went away by itself ${formatDuration(Math.max(0, Math.round(afterMs)))} after Warden would have ${wouldHave(r)} (shadow)`;
}
