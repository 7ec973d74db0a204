// Diagnosis of a subject's problem: the cause is the gravest broken invariant's, in the system's own
// terms (quorum_lost, leader_lost), never a member's process cause; the evidence is every broken
// invariant and every member symptom; the repair is the subject's own rule, one step at a time.
import { serviceHealth, type Problem } from '../domain/detect.js';
import { brokenInvariants, type InvariantContext } from '../domain/subject.js';
import type { Alternative, Diagnosis, Evidence, ResolvedConfig, SubjectSpec, World } from '../domain/types.js';
import { lookup } from '../plugins/plugin.js';
import { subjects } from '../subjects/index.js';
import type { SubjectPlugin } from '../subjects/subject.js';

export function diagnoseSubject(config: ResolvedConfig, world: World, problem: Problem, spec: SubjectSpec): Diagnosis {
  const rules = lookup('subject', subjects, spec.type) as SubjectPlugin;
  const health = Object.fromEntries(config.services.map((s) => [s.name, serviceHealth(s, world.services[s.name], world.mono)]));
  const ctx: InvariantContext = { spec, world, health };
  const verdicts = brokenInvariants(rules, ctx);
  const evidence: Evidence[] = [
    ...verdicts.map((v) => ({ source: `invariant:${v.invariant}`, fact: v.violation.reason })),
    ...problem.findings.filter((f) => f.memberOf === spec.name).map((f) => ({ source: `member:${f.service}`, fact: f.reason })),
  ];
  const cause = verdicts[0]?.cause ?? 'unknown';
  const alternatives: Alternative[] = [];
  for (const inv of rules.invariants) {
    if (inv.cause === cause || alternatives.some((a) => a.cause === inv.cause)) continue;
    const broken = verdicts.find((v) => v.invariant === inv.id);
    alternatives.push({ cause: inv.cause, rejected: broken ? `${inv.id} is broken too, but ${verdicts[0]!.invariant} is graver` : `${inv.id} holds: ${inv.description}` });
  }
  if (cause !== 'process_exited') {
    alternatives.push({ cause: 'process_exited', rejected: `members' own failures are symptoms of ${spec.name}'s broken ${verdicts[0]?.invariant ?? 'invariant'}, repaired as the subject decides` });
  }
  const repair = verdicts.length > 0 ? rules.repair(verdicts, ctx) : { none: 'every invariant holds now' };
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
