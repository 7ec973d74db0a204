// Subjects: plugins that reason about a *system* rather than a process — a replicated group, an
// etcd cluster, a rate limiter across nodes. A subject names its member services (each an ordinary
// service Warden observes and repairs) and brings invariants over them: facts of the system that
// must hold (quorum held, one leader, counters in agreement). A broken invariant is one finding of
// kind `invariant_violated` naming the members it blames, and all of a subject's broken invariants
// are one problem — one ticket, its root the subject — however many members show symptoms. The
// members' own findings are that ticket's symptoms while an invariant blames them. Diagnosis then
// speaks the subject's terms (the invariant's cause) and its repair is the subject's to choose,
// within the actions it may take (never one that makes a quorum worse).
import type { SubjectRules } from '../domain/subject.js';
import type { Health, SubjectSpec, Tier } from '../domain/types.js';
import type { z } from 'zod';
import { WardenError } from '../lib/errors.js';
import type { Plugin } from '../plugins/plugin.js';
import type { ActionContext, ActionKind, ResumeVerdict } from '../actions/catalog.js';

/** An action a subject brings: registered as `<subject type>.<name>`, its target one of the members. */
export interface SubjectActionPlugin<N extends string = string, C extends z.ZodType = z.ZodType> extends Plugin<N, C, z.output<C>> {
  kind: ActionKind;
  /** The authority it needs (docs/policy.md, tiers): how far its effect can reach. */
  tier: Tier;
}

/** An action's context when its target is a member of a subject: the subject, and each member's
 *  health as Warden last recorded it (for a guard that judges by Warden's own checks). */
export type MemberActionContext = ActionContext & { subject: SubjectSpec; health(service: string): Health };

export interface SubjectPlugin<N extends string = string, C extends z.ZodType = z.ZodType> extends Plugin<N, C, object>, SubjectRules {
  /**
   * Read the system's own view (members, leader, alarms), every `interval`: the facts invariants
   * find in `ctx.world.subjects[name]`. Optional: a subject judged on its members' health alone
   * (`group`) reads nothing. Must settle within `timeoutMs` and honour the signal.
   */
  observe?(spec: SubjectSpec, o: { signal: AbortSignal; timeoutMs: number }): Promise<unknown>;
  /** The subject's own actions, by short name (`defragment`; registered as `etcd.defragment`). */
  actions?: Record<string, SubjectActionPlugin>;
  /**
   * Asked as part of every action on a member, before its effect, against the system as it is
   * then: why the action must not run now (it could lose the quorum), or null. A refusal fails the
   * action without retry, whatever the policy allowed.
   */
  guard?(ctx: MemberActionContext, signal: AbortSignal): Promise<string | null>;
}

/** A subject's action, typed, for its `actions` table. */
export function defineSubjectAction<const N extends string, C extends z.ZodType>(a: SubjectActionPlugin<N, C>): SubjectActionPlugin<N, C> {
  return a;
}

/** The action's parameters by its schema; bad ones make a request that can never succeed. */
export function actionParams<S extends z.ZodType>(schema: S, ctx: ActionContext): z.output<S> {
  const r = schema.safeParse(ctx.action.params);
  if (!r.success) throw new WardenError('ACTION_BAD_PARAMS', `${ctx.action.type} ${ctx.spec.name}: bad params ${JSON.stringify(ctx.action.params)}: ${r.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The resume verdict of an action that does no harm repeated: after an interruption it runs again. */
export const rerunnable = (why: string) => (): ResumeVerdict => ({ outcome: 'continue', detail: why });

/** Identity as a plugin (name, description, config, compile, prerequisites), with subject-specific parts. */
export function defineSubject<const N extends string, C extends z.ZodType>(s: SubjectPlugin<N, C>): SubjectPlugin<N, C> {
  return s;
}
