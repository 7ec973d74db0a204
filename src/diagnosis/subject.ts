// Diagnosis of a subject's problem: the cause is the gravest broken invariant's, in the system's own
// terms (quorum_lost, leader_lost), never a member's process cause; the evidence is every broken
// invariant and every member symptom; the repair is the subject's own rule, one step at a time.
import { serviceHealth, type Problem } from '../domain/detect.js';
import { brokenInvariants, promqlVerdicts, type InvariantContext } from '../domain/subject.js';
import type { Alternative, Diagnosis, Evidence, ResolvedConfig, SubjectSpec, World } from '../domain/types.js';
import { lookup } from '../plugins/plugin.js';
import { subjects } from '../subjects/index.js';
import type { SubjectPlugin } from '../subjects/subject.js';

export function diagnoseSubject(config: ResolvedConfig, world: World, problem: Problem, spec: SubjectSpec): Diagnosis {
  const rules = lookup('subject', subjects, spec.type) as SubjectPlugin;
  const health = Object.fromEntries(config.services.map((s) => [s.name, serviceHealth(s, world.services[s.name], world.mono)]));
  const ctx: InvariantContext = { spec, world, health };
  // The type's own invariants first (they know the system), then the PromQL ones the config adds.
  const own = brokenInvariants(rules, ctx);
  const verdicts = [...own, ...promqlVerdicts(ctx)];
  const evidence: Evidence[] = [
    ...verdicts.map((v) => ({ source: `invariant:${v.invariant}`, fact: v.violation.reason })),
    ...problem.findings.filter((f) => f.memberOf === spec.name).map((f) => ({ source: `member:${f.service}`, fact: f.reason })),
  ];
  const cause = verdicts[0]?.cause ?? 'unknown';
  const alternatives: Alternative[] = [];
  for (const inv of [...rules.invariants, ...(spec.promql ?? [])]) {
    if (inv.cause === cause || alternatives.some((a) => a.cause === inv.cause)) continue;
    const broken = verdicts.find((v) => v.invariant === inv.id);
    alternatives.push({ cause: inv.cause, rejected: broken ? `${inv.id} is broken too, but ${verdicts[0]!.invariant} is graver` : `${inv.id} holds: ${inv.description}` });
  }
  if (cause !== 'process_exited') {
    alternatives.push({ cause: 'process_exited', rejected: `members' own failures are symptoms of ${spec.name}'s broken ${verdicts[0]?.invariant ?? 'invariant'}, repaired as the subject decides` });
  }
  const repair = own.length > 0 ? rules.repair(own, ctx) : verdicts.length > 0 ? promqlWait(verdicts) : { none: 'every invariant holds now' };
  // The first broken thing: a member when the gravest invariant names one, else the subject.
  const root = verdicts[0]?.violation.root;
  const rootHost = root === undefined ? spec.host : config.services.find((s) => s.name === root)?.host ?? spec.host;
  return {
    rootCause: { service: root ?? spec.name, host: rootHost, cause },
    confidence: verdicts.length > 0 ? 0.9 : 0.3,
    evidence,
    alternatives,
    recommended: 'step' in repair ? [repair.step] : [],
    ...('none' in repair ? { noRepair: repair.none } : {}),
    ...('wait' in repair ? { waitFor: repair.wait } : {}),
    diagnoser: 'rules',
  };
}

/**
 * Only PromQL invariants broken: the subject's repair rule knows nothing of them, so nothing is
 * done; like a Prometheus alert, the ticket stays open (and notified) until the query clears.
 */
function promqlWait(verdicts: readonly { invariant: string }[]): { wait: string } {
  return { wait: `no automatic repair for PromQL invariant ${verdicts.map((v) => v.invariant).join(', ')}: open until it clears; a person should look` };
}
