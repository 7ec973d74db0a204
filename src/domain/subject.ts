// Subjects in the domain: what a subject's invariants and repair rule are, as pure functions over
// the world, so detection and decisions can use them without knowing any plugin (src/subjects/
// holds the plugins; the runtime hands their rules in). See src/subjects/subject.ts for the whole idea.
import type { ServiceHealth } from './detect.js';
import type { ActionType, Cause, SubjectSpec, World } from './types.js';

/** What an invariant sees: the subject, the world, and each member's health as detection judged it. */
export interface InvariantContext {
  spec: SubjectSpec;
  world: World;
  /** Health of every service this pass (members included). */
  health: Readonly<Record<string, ServiceHealth>>;
}

/** A broken invariant: one sentence, and the members whose state breaks it. */
export interface Violation {
  reason: string;
  /** Members blamed (their findings become this problem's symptoms); may be empty (a cluster-wide fact). */
  blame: string[];
  /** A measured value for the evidence (a count, a lag, a drift). */
  value?: number;
  /**
   * The member that is the first broken thing, when the invariant can tell (the Redis the rate
   * limiter's nodes cannot reach): the diagnosis names it as the root cause. Absent, the root is
   * the subject itself.
   */
  root?: string;
}

export interface Invariant {
  /** Stable within the subject: `quorum`, `one-leader`; part of the finding's fingerprint. */
  id: string;
  /** The cause a violation implies, in the system's own terms. */
  cause: Cause;
  /** What must hold, for people: "a majority of members healthy". */
  description: string;
  check(ctx: InvariantContext): Violation | null;
}

/** A broken invariant as detection reports it. */
export interface Verdict { invariant: string; cause: Cause; violation: Violation }

/** A repair step the subject proposes: an action of the catalog on one of its members. */
export interface SubjectRepair { type: ActionType; target: string; params: Record<string, string> }

/** What detection and repair need of a subject type: its invariants and its repair rule. */
export interface SubjectRules {
  /** Checked in order; the first broken one names the problem's cause (list the gravest first). */
  invariants: readonly Invariant[];
  /**
   * The next repair for what is broken, nothing yet (`wait`: something under way may mend it, such
   * as a member starting), or why there is none. One step at a time: the next is chosen again from
   * the world once this one is verified, so a repair never acts on stale state.
   */
  repair(verdicts: readonly Verdict[], ctx: InvariantContext): { step: SubjectRepair } | { wait: string } | { none: string };
}

/** The subject's invariants that do not hold now, gravest first. */
export function brokenInvariants(plugin: SubjectRules, ctx: InvariantContext): Verdict[] {
  const out: Verdict[] = [];
  for (const inv of plugin.invariants) {
    const violation = inv.check(ctx);
    if (violation) out.push({ invariant: inv.id, cause: inv.cause, violation });
  }
  return out;
}

/**
 * The subject's PromQL invariants (config `promql:`) that are broken, in config order: those whose
 * last evaluation fires. They blame no member (a query speaks of series, not of services), and the
 * largest firing value is the violation's value.
 */
export function promqlVerdicts(ctx: InvariantContext): Verdict[] {
  const readings = ctx.world.promql?.[ctx.spec.name] ?? {};
  return (ctx.spec.promql ?? []).flatMap((inv): Verdict[] => {
    const r = readings[inv.id];
    if (r?.firing !== true) return [];
    const reason = r.error === undefined ? r.message : `${r.message} (the last query failed: ${r.error})`;
    return [{ invariant: inv.id, cause: inv.cause, violation: { reason, blame: [], ...(r.value !== null ? { value: r.value } : {}) } }];
  });
}

/** Every broken invariant of the subject, gravest first: its type's own, then its PromQL ones. */
export function subjectVerdicts(plugin: SubjectRules, ctx: InvariantContext): Verdict[] {
  return [...brokenInvariants(plugin, ctx), ...promqlVerdicts(ctx)];
}

/**
 * The quorum-safe first move over some members: start one that is missing (a start adds a voter and
 * takes none away), else wait for those starting; null when none is missing or starting.
 */
export function startMissingFirst(members: readonly string[], ctx: InvariantContext): { step: SubjectRepair } | { wait: string } | null {
  const missing = members.find((m) => ctx.health[m]?.health === 'missing');
  if (missing !== undefined) return { step: { type: 'restart', target: missing, params: {} } };
  const starting = members.filter((m) => ctx.health[m]?.health === 'unknown');
  return starting.length > 0 ? { wait: `waiting for ${starting.join(', ')} to come up` } : null;
}

/**
 * A subject's problem is named by the subject and its gravest broken invariant: one ticket however
 * many members show symptoms, and a different invariant broken later is a different problem (not
 * the same one coming back). While a ticket of the subject is open, every problem of the subject
 * joins it (subjectOfFingerprint).
 */
export function subjectFingerprint(subject: string, invariant: string): string {
  return `subject:${subject}/${invariant}`;
}

/** The subject a fingerprint names, or null for a service's. */
export function subjectOfFingerprint(fp: string): string | null {
  if (!fp.startsWith('subject:')) return null;
  const rest = fp.slice('subject:'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash);
}

