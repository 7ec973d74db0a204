// The read side of shadow mode: how a shadow record reads in `tickets show`, `explain` and JSON.
import { shadowReason, VERDICT_TEXT, wouldHave } from '../domain/shadow.js';
import type { ActionType, ShadowRecord } from '../domain/types.js';
import { iso } from '../lib/clock.js';
import { formatDuration } from '../lib/duration.js';

/** How it ended, in words: went away by itself, resolved by a person, or still going on. */
export function shadowOutcomeText(r: ShadowRecord): string {
  const o = r.outcome;
  if (!o) return 'still going on; Warden has not acted';
  if (o.kind === 'went_away') return `went away by itself ${formatDuration(o.afterMs)} after Warden would have acted`;
  return `resolved by ${o.by} at ${iso(o.at) ?? ''}`;
}

/** The lines of one occurrence's shadow record, indented as `tickets show` prints an occurrence. */
export function shadowLines(r: ShadowRecord): string[] {
  return [
    `    shadow       would have ${wouldHave(r)} (${VERDICT_TEXT[r.verdict]}${r.reason ? `: ${r.reason}` : ''}) at ${iso(r.at) ?? ''}; ${r.target} is in ${r.scope}`,
    `    predicted    ${r.predicted}`,
    `    outcome      ${shadowOutcomeText(r)}`,
  ];
}

/** The public JSON form (docs/json.md): `service` for the target, ISO times, the monotonic stamp left out. */
export function shadowJson(r: ShadowRecord): Record<string, unknown> {
  const { stamp: _internal, outcome, target, ...rest } = r;
  return { ...rest, service: target, wouldHave: wouldHave(r), at: iso(r.at), outcome: outcome && { ...outcome, at: iso(outcome.at) } };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A shadow audit record as one line of `explain`'s timeline (null: not a shadow record). */
export function shadowEvent(kind: string, d: Record<string, unknown>): string | null {
  if (kind === 'policy.shadowed') {
    const verdict = (['allowed', 'approval', 'deferred', 'refused'] as const).find((v) => v === d.verdict) ?? 'allowed';
    return shadowReason({ type: str(d.type) as ActionType, target: str(d.target), verdict, reason: typeof d.reason === 'string' ? d.reason : null, scope: str(d.scope) });
  }
  if (kind !== 'ticket.shadow_outcome') return null;
  return d.outcome === 'went_away'
    ? `went away by itself ${formatDuration(typeof d.afterMs === 'number' ? d.afterMs : 0)} after Warden would have acted (shadow)`
    : `resolved by ${str(d.by)} (shadow: Warden had not acted)`;
}
