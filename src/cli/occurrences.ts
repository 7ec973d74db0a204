// The human form of a ticket's story: one block per occurrence (what was found, the diagnosis with
// its evidence, the actions, how the verification ended), oldest first, the current one last.
import type { Action, Occurrence, Ticket, VerificationOutcome } from '../domain/types.js';
import { iso } from '../lib/clock.js';
import { formatDuration } from '../lib/duration.js';
import { shadowLines } from '../views/shadow.js';

/** The ticket's occurrences; a ticket stored before they were recorded shows its fields as one. */
export function occurrencesOf(t: Ticket): Occurrence[] {
  if (t.history && t.history.length > 0) return t.history;
  return [{
    n: t.occurrences, openedAt: t.openedAt, findings: t.findings, diagnosis: t.diagnosis, actionIds: t.actionIds,
    verification: null, resolvedAt: t.resolvedAt, resolvedBy: null, reason: t.reason,
  }];
}

export function occurrenceLines(t: Ticket, actions: ReadonlyMap<string, Action>): string[] {
  const out: string[] = [];
  const all = occurrencesOf(t);
  if (all[0] && all[0].n > 1) out.push(`  (occurrences before ${all[0].n} are no longer kept)`);
  for (const o of all) {
    const current = o.n === t.occurrences;
    out.push(`  occurrence ${o.n}${current ? ' (current)' : ''}   opened ${iso(o.openedAt)}${o.resolvedAt ? `   resolved ${iso(o.resolvedAt)}${o.resolvedBy ? ` by ${o.resolvedBy}` : ''}` : ''}`);
    if (o.reason && !current) out.push(`    outcome      ${o.reason}`);
    out.push('    findings');
    for (const f of o.findings) out.push(`      - ${f.service}: ${f.kind}${f.dependencyDown ? ` (dependency_down: ${f.dependencyDown})` : ''} — ${f.reason}`);
    const d = o.diagnosis;
    if (d) {
      out.push(`    diagnosis    ${d.rootCause.service}: ${d.rootCause.cause} (confidence ${d.confidence}, ${d.diagnoser})`);
      out.push('    evidence');
      for (const e of d.evidence) out.push(`      - [${e.source}] ${e.fact}`);
      // The rejected alternatives are long; the current occurrence's are the ones a person acts on.
      if (current) {
        out.push('    alternatives rejected');
        for (const a of d.alternatives) out.push(`      - ${a.cause}: ${a.rejected}`);
      }
      out.push(`    recommended  ${d.recommended.map((r) => `${r.type} ${r.target}`).join(', ') || 'none (a person must act)'}`);
    } else {
      out.push('    diagnosis    none');
    }
    out.push(`    actions      ${o.actionIds.length === 0 ? 'none' : ''}`.trimEnd());
    for (const id of o.actionIds) {
      const a = actions.get(id);
      out.push(a ? `      - ${a.id} ${a.type} ${a.target} ${a.state} (attempts ${a.attempts})${a.error ? ` — ${a.error}` : ''}` : `      - ${id}`);
    }
    if (o.shadow) out.push(...shadowLines(o.shadow));
    out.push(`    verification ${showVerification(o.verification)}`);
  }
  return out;
}

function showVerification(v: VerificationOutcome | null): string {
  if (!v) return 'none';
  if (v.outcome === 'held') return `held: healthy for ${formatDuration(v.healthyForMs)} (${formatDuration(v.tookMs)} after the repair), ${iso(v.at)}`;
  return `failed ${iso(v.at)}: ${v.reason}`;
}
