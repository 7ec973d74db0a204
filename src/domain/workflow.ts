// A runbook workflow's order and progress, as pure functions of its spec and the step records kept
// on its action: which step comes next, which is skipped and why, and when the workflow is over.
// The runner (actions/workflow.ts) asks `nextStep` after every record it writes, so a workflow
// resumed after a crash carries on from its records exactly as an uninterrupted one would.
import type { Cause, StepCondition, StepRecord, WorkflowSpec, WorkflowStep } from './types.js';

export type Branch = StepRecord['branch'];

export type WorkflowNext =
  | { do: 'run'; branch: Branch; step: WorkflowStep }
  /** The step was running when Warden stopped: its outcome is found out, never assumed. */
  | { do: 'resume'; branch: Branch; step: WorkflowStep }
  | { do: 'skip'; branch: Branch; step: WorkflowStep; why: string }
  | { do: 'finish'; ok: boolean; summary: string };

/**
 * Steps in dependency order; among steps whose needs are met, the one written first goes first,
 * so the order is the same on every run. Steps in a cycle (the config rejects them) come last.
 */
export function stepOrder(steps: readonly WorkflowStep[]): WorkflowStep[] {
  const done = new Set<string>();
  const out: WorkflowStep[] = [];
  const names = new Set(steps.map((s) => s.name));
  while (out.length < steps.length) {
    const ready = steps.find((s) => !done.has(s.name) && s.needs.every((n) => done.has(n) || !names.has(n)));
    if (!ready) {
      out.push(...steps.filter((s) => !done.has(s.name)));
      break;
    }
    done.add(ready.name);
    out.push(ready);
  }
  return out;
}

/** A dependency cycle among the steps, as the names around it (first name repeated last), or null. */
export function findCycle(steps: readonly { name: string; needs: readonly string[] }[]): string[] | null {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    const s = byName.get(name);
    if (!s) return null;
    state.set(name, 'open');
    path.push(name);
    for (const n of s.needs) {
      const c = visit(n);
      if (c) return c;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const s of steps) {
    const c = visit(s.name);
    if (c) return c;
  }
  return null;
}

/** Why a step's condition does not hold, or null when it holds (no condition always holds). */
export function conditionFails(cond: StepCondition | null, cause: Cause | null, records: readonly StepRecord[]): string | null {
  if (!cond) return null;
  const main = (name: string): StepRecord | undefined => records.find((r) => r.branch === 'steps' && r.name === name);
  if (cond.cause && !(cause !== null && cond.cause.includes(cause))) return `the cause is ${cause ?? 'not known'}, not ${cond.cause.join(' or ')}`;
  if (cond.stepFailed !== undefined && main(cond.stepFailed)?.state !== 'failed') return `step ${cond.stepFailed} did not fail`;
  if (cond.stepSucceeded !== undefined && main(cond.stepSucceeded)?.state !== 'succeeded') return `step ${cond.stepSucceeded} did not succeed`;
  return null;
}

/**
 * What the workflow does next, given what has run. The main steps run in order until one fails
 * (its dependents and the steps after it do not run); then the on-failure steps run, each unless a
 * step it needs failed or its condition does not hold, and the workflow fails.
 */
export function nextStep(wf: WorkflowSpec, records: readonly StepRecord[], cause: Cause | null): WorkflowNext {
  const rec = (branch: Branch, name: string): StepRecord | undefined => records.find((r) => r.branch === branch && r.name === name);
  let failed: StepRecord | null = null;
  for (const step of stepOrder(wf.steps)) {
    const r = rec('steps', step.name);
    if (r?.state === 'failed') { failed = r; break; }
    if (r?.state === 'succeeded' || r?.state === 'skipped') continue;
    if (r?.state === 'running') return { do: 'resume', branch: 'steps', step };
    const why = conditionFails(step.if, cause, records);
    return why === null ? { do: 'run', branch: 'steps', step } : { do: 'skip', branch: 'steps', step, why };
  }
  if (failed === null) return { do: 'finish', ok: true, summary: summary(records, 'steps') };
  for (const step of stepOrder(wf.onFailure)) {
    const r = rec('onFailure', step.name);
    if (r?.state === 'running') return { do: 'resume', branch: 'onFailure', step };
    if (r) continue;
    const broken = step.needs.find((n) => rec('onFailure', n)?.state === 'failed');
    if (broken !== undefined) return { do: 'skip', branch: 'onFailure', step, why: `step ${broken} it needs failed` };
    const why = conditionFails(step.if, cause, records);
    return why === null ? { do: 'run', branch: 'onFailure', step } : { do: 'skip', branch: 'onFailure', step, why };
  }
  const onFailure = records.some((r) => r.branch === 'onFailure') ? `; on failure: ${summary(records, 'onFailure')}` : '';
  return { do: 'finish', ok: false, summary: `step ${failed.name} failed: ${failed.detail ?? 'no detail'}${onFailure}` };
}

/** "a ok, b skipped, c failed" for one branch, in the order the steps ran. */
function summary(records: readonly StepRecord[], branch: Branch): string {
  const rs = records.filter((r) => r.branch === branch);
  return rs.length === 0 ? 'no steps ran' : rs.map((r) => `${r.name} ${r.state}`).join(', ');
}

/** The records with `r` in place of the record of the same step (or added at the end). */
export function withRecord(records: readonly StepRecord[], r: StepRecord): StepRecord[] {
  const i = records.findIndex((x) => x.branch === r.branch && x.name === r.name);
  return i < 0 ? [...records, r] : records.map((x, j) => (j === i ? r : x));
}

/** The longest a whole workflow may take: every step and every verification at its limit. */
export function workflowTimeoutMs(wf: WorkflowSpec): number {
  return [...wf.steps, ...wf.onFailure].reduce((sum, s) => sum + s.timeoutMs + (s.verify?.timeoutMs ?? 0), 0);
}
