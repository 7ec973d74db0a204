// The track record of Warden's autonomy per (action type, scope), and what it suggests (docs/policy.md,
// "Earning autonomy"). Pure: computed from the persisted tickets (each occurrence's actions,
// verification and shadow record) and actions, so it survives restarts and needs no table of its own.
//
// A scope is the `policy.shadow` entry that holds a target, or else the target service alone: the
// unit a person promotes or demotes by editing warden.yaml. It is read from the config as it is now,
// so a scope promoted out of shadow keeps its predictions beside its first attempts.
import { formatDuration } from '../lib/duration.js';
import { scopeMode, shadowOf, type ScopeMode } from './shadow.js';
import type { Action, ActionType, Millis, Mode, Occurrence, ResolvedConfig, Ticket } from './types.js';

/** Least attempts (recommend), predictions (shadow) or diagnoses (observe) before a promotion is suggested. */
export const PROMOTE_MIN_EVIDENCE = 5;
/** Least share of verified repairs (recommend), or of predictions the policy would allow (shadow), to promote. */
export const PROMOTE_MIN_RATE = 0.95;
/** The last attempts looked at: none of them may have failed to promote. */
export const RECENT_ATTEMPTS = 5;
/** Failures among the last RECENT_ATTEMPTS that demote an acting scope to shadow. */
export const DEMOTE_AFTER_FAILURES = 2;
/** Above this share of predictions that went away by themselves, acting may be unneeded: no promotion. */
export const SHADOW_MAX_WENT_AWAY = 0.5;

export interface TrackRecord {
  type: ActionType;
  scope: string;
  /** What Warden may do on the scope now (the most restrictive of agent.mode and policy.shadow). */
  mode: ScopeMode;
  /** The targets seen in the scope, sorted. */
  services: string[];
  /** Occurrences whose diagnosis recommended this action: what observe mode earns on. */
  diagnosed: number;
  /** Warden's own repairs that started (not first starts, not a person's commands). */
  attempts: number;
  /** Repairs whose verification held. */
  successes: number;
  /** Repairs that failed, or whose verification did not hold. */
  failures: number;
  /** From a problem's opening to its verified recovery, the middle one of the successes. */
  recoverP50Ms: number | null;
  /** Repairs whose declared revert ran: none until reverts exist (issue 12, point 6). */
  reverts: number;
  /** Shadow records: what Warden would have done. */
  predictions: number;
  /** Predictions the policy gate would have let through (at once, after approval, or after a wait). */
  wouldAllow: number;
  /** Predictions whose problem went away without anyone acting. */
  wentAway: number;
  /** Predictions whose problem ended after a person's own action on the target. */
  byHand: number;
  /** How long those that went away took, from when Warden would have acted: the middle one. */
  wentAwayP50Ms: number | null;
  /** The last RECENT_ATTEMPTS settled outcomes, oldest first. */
  recent: ('success' | 'failure')[];
}

export interface TrackInput {
  config: Pick<ResolvedConfig, 'agent' | 'policy' | 'services' | 'subjects'>;
  tickets: readonly Ticket[];
  actions: readonly Action[];
  /** Only what happened at or after this wall time; null: everything kept. */
  since: Millis | null;
}

type Outcome = { result: 'success'; recoverMs: number } | { result: 'failure' } | null;

/** The middle value (the lower of the two middle ones for an even count), or null. */
export function p50(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/**
 * How one started repair ended, read from its occurrence: a later start of the same action on the
 * same target in the occurrence means this one did not hold (a chain's other steps are other
 * actions); otherwise the occurrence's last verification says. Null while unsettled or untold.
 */
function outcomeOf(a: Action, o: Occurrence | undefined, byId: ReadonlyMap<string, Action>): Outcome {
  if (a.state === 'failed') return { result: 'failure' };
  if (a.state !== 'completed' || !o) return null;
  const later = o.actionIds.slice(o.actionIds.indexOf(a.id) + 1).map((id) => byId.get(id));
  if (later.some((b) => b && b.type === a.type && b.target === a.target && b.startedAt !== null)) return { result: 'failure' };
  const v = o.verification;
  if (!v) return null;
  return v.outcome === 'held' ? { result: 'success', recoverMs: Math.max(0, v.at - o.openedAt) } : { result: 'failure' };
}

interface Acc extends TrackRecord {
  recovers: number[];
  wentAways: number[];
  settled: { at: number; result: 'success' | 'failure' }[];
  targets: Set<string>;
}

export function trackRecords(input: TrackInput): TrackRecord[] {
  const { config, since } = input;
  const agent = config.agent.name;
  const inRange = (at: number | null): boolean => at !== null && (since === null || at >= since);
  const byId = new Map(input.actions.map((a) => [a.id, a]));
  const occurrenceOf = new Map<string, Occurrence>();
  for (const t of input.tickets) for (const o of t.history ?? []) for (const id of o.actionIds) occurrenceOf.set(id, o);
  const rows = new Map<string, Acc>();
  const rowFor = (type: ActionType, target: string): Acc => {
    const scope = shadowOf(config, target)?.name ?? `service: ${target}`;
    const key = `${scope}\u0000${type}`;
    let r = rows.get(key);
    if (!r) {
      r = {
        type, scope, mode: scopeMode(config, target), services: [], diagnosed: 0, attempts: 0, successes: 0, failures: 0, recoverP50Ms: null,
        reverts: 0, predictions: 0, wouldAllow: 0, wentAway: 0, byHand: 0, wentAwayP50Ms: null, recent: [],
        recovers: [], wentAways: [], settled: [], targets: new Set(),
      };
      rows.set(key, r);
    }
    r.targets.add(target);
    return r;
  };

  // Warden's own repairs: a ticket's, requested by the agent (a person's approval of its proposal included).
  for (const a of input.actions) {
    if (a.ticketId === null || a.requestedBy !== agent || !inRange(a.startedAt)) continue;
    const r = rowFor(a.type, a.target);
    r.attempts++;
    const out = outcomeOf(a, occurrenceOf.get(a.id), byId);
    if (!out) continue;
    if (out.result === 'success') { r.successes++; r.recovers.push(out.recoverMs); } else r.failures++;
    r.settled.push({ at: a.startedAt!, result: out.result });
  }

  // A person's own actions, by target: what ended a problem watched in shadow, when one did.
  const byPerson = input.actions.filter((a) => a.requestedBy !== agent && a.startedAt !== null);
  for (const t of input.tickets) {
    for (const o of t.history ?? []) {
      if (o.diagnosis && inRange(o.openedAt)) {
        for (const key of new Set(o.diagnosis.recommended.map((x) => `${x.type}\u0000${x.target}`))) {
          const [type, target] = key.split('\u0000') as [ActionType, string];
          rowFor(type, target).diagnosed++;
        }
      }
      const s = o.shadow;
      if (!s || !inRange(s.at)) continue;
      const r = rowFor(s.type, s.target);
      r.predictions++;
      if (s.verdict !== 'refused') r.wouldAllow++;
      if (s.outcome?.kind !== 'went_away') continue;
      const end = s.outcome.at;
      if (byPerson.some((a) => a.target === s.target && a.startedAt! >= s.at && a.startedAt! <= end)) r.byHand++;
      else { r.wentAway++; r.wentAways.push(s.outcome.afterMs); }
    }
  }

  return [...rows.values()]
    .sort((x, y) => (x.scope === y.scope ? x.type.localeCompare(y.type) : x.scope.localeCompare(y.scope)))
    .map(({ recovers, wentAways, settled, targets, ...r }) => ({
      ...r,
      services: [...targets].sort(),
      recoverP50Ms: p50(recovers),
      wentAwayP50Ms: p50(wentAways),
      recent: settled.sort((x, y) => x.at - y.at).slice(-RECENT_ATTEMPTS).map((x) => x.result),
    }));
}

export interface Suggestion {
  type: ActionType;
  scope: string;
  kind: 'promote' | 'demote' | 'keep';
  from: ScopeMode;
  /** The mode suggested; null: keep. */
  to: ScopeMode | null;
  /** The evidence, in one sentence. */
  why: string;
  /** The edit of warden.yaml a person would make; null: none. */
  change: string | null;
}

const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** The config entry that puts a lone service's scope in shadow. */
function shadowEntry(scope: string): string {
  return scope.startsWith('service: ') ? `{ service: ${scope.slice('service: '.length)} }` : `{ ${scope} }`;
}

/**
 * What the record earns, by the thresholds above: a promotion one step up (observe → recommend →
 * execute, or out of shadow into the agent's mode), a demotion into shadow after failures, or
 * nothing yet and why. Only ever a suggestion: Warden never edits its own policy.
 */
export function suggest(r: TrackRecord, agentMode: Mode): Suggestion {
  const base = { type: r.type, scope: r.scope, from: r.mode };
  const keep = (why: string): Suggestion => ({ ...base, kind: 'keep', to: null, why, change: null });
  const recentFailures = r.recent.filter((x) => x === 'failure').length;
  if ((r.mode === 'recommend' || r.mode === 'execute') && recentFailures >= DEMOTE_AFTER_FAILURES) {
    return {
      ...base, kind: 'demote', to: 'shadow', why: `${recentFailures} of the last ${r.recent.length} attempts failed`,
      change: `add ${shadowEntry(r.scope)} to policy.shadow (or require approval for ${r.type} there)`,
    };
  }
  const settled = r.successes + r.failures;
  const verified = `${r.successes} of ${settled} verified (${settled > 0 ? pct(r.successes / settled) : '-'})`;
  switch (r.mode) {
    case 'observe':
      if (r.diagnosed < PROMOTE_MIN_EVIDENCE) return keep(`${r.diagnosed} of ${PROMOTE_MIN_EVIDENCE} diagnoses recommending ${r.type} needed`);
      return {
        ...base, kind: 'promote', to: 'recommend', why: `${r.diagnosed} problems diagnosed with ${r.type} as their repair`,
        change: 'agent.mode: recommend (for every scope; list in policy.shadow the ones to keep watching)',
      };
    case 'shadow': {
      const p = r.predictions;
      if (p < PROMOTE_MIN_EVIDENCE) return keep(`${p} of ${PROMOTE_MIN_EVIDENCE} predictions needed`);
      if (r.wouldAllow / p < PROMOTE_MIN_RATE) return keep(`the policy would have refused ${p - r.wouldAllow} of ${p}: change the rules before promoting`);
      if (r.wentAway / p > SHADOW_MAX_WENT_AWAY) {
        return keep(`${r.wentAway} of ${p} went away by themselves${r.wentAwayP50Ms !== null ? ` (p50 ${formatDuration(r.wentAwayP50Ms)})` : ''}: acting there may be unneeded`);
      }
      if (agentMode === 'observe') return keep('agent.mode is observe');
      return {
        ...base, kind: 'promote', to: agentMode,
        why: `${p} predictions, the policy would have allowed ${r.wouldAllow}, ${r.wentAway} went away by themselves`,
        change: `remove ${r.scope} from policy.shadow`,
      };
    }
    case 'recommend':
      if (settled < PROMOTE_MIN_EVIDENCE) return keep(`${settled} of ${PROMOTE_MIN_EVIDENCE} verified repairs needed (${verified})`);
      if (r.successes / settled < PROMOTE_MIN_RATE) return keep(`${verified}; ${pct(PROMOTE_MIN_RATE)} needed`);
      if (recentFailures > 0) return keep(`${verified}, but a failure in the last ${r.recent.length}`);
      return {
        ...base, kind: 'promote', to: 'execute', why: `${verified}, none failed in the last ${r.recent.length}`,
        change: 'agent.mode: execute (for every scope; list in policy.shadow the ones not earned yet)',
      };
    case 'execute':
      return keep(verified);
  }
}
