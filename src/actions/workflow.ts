// Runs a runbook workflow as one action: the steps in the order domain/workflow.ts gives, each
// recorded on the action before it starts and when it ends (so a crash leaves a record of where it
// was), each step's verification passed before the next starts, and on a failure the on-failure
// steps. After a crash the step that was running is found out, never blindly run again: an action
// step asks its catalog entry's `resume` (as the executor does for a whole action), a command step
// is re-verified if it declares a verification, and otherwise counts as failed.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nextStep, type Branch } from '../domain/workflow.js';
import type { RunbookSpec, StepRecord, StepVerify, WorkflowSpec, WorkflowStep } from '../domain/types.js';
import { errorText } from '../lib/errors.js';
import { runProbe } from '../probes/index.js';
import type { ActionContext, ActionKind } from './catalog.js';
import { runCommand } from './command.js';

interface Outcome { ok: boolean; detail: string }

/** The kinds a step may run (start, restart, stop), given by the catalog: no import cycle. */
export type StepKinds = Record<'start' | 'restart' | 'stop', ActionKind>;

export async function runWorkflow(ctx: ActionContext, rb: RunbookSpec, wf: WorkflowSpec, kinds: StepKinds, signal: AbortSignal): Promise<string> {
  const record = ctx.record;
  if (!record) throw Object.assign(new Error(`runbook ${rb.name} is a workflow, and nothing keeps its step records here`), { retryable: false });
  for (;;) {
    const next = nextStep(wf, ctx.action.steps ?? [], ctx.cause ?? null);
    if (next.do === 'finish') {
      if (next.ok) return `workflow ${rb.name}: ${next.summary}`;
      throw Object.assign(new Error(`workflow ${rb.name}: ${next.summary}`), { retryable: false });
    }
    const { step, branch } = next;
    if (next.do === 'skip') {
      record({ name: step.name, branch, state: 'skipped', startedAt: null, finishedAt: Date.now(), detail: next.why });
      continue;
    }
    const startedAt = next.do === 'resume' ? recordOf(ctx, branch, step.name)?.startedAt ?? null : Date.now();
    if (next.do === 'run') record({ name: step.name, branch, state: 'running', startedAt, finishedAt: null, detail: null });
    let out: Outcome;
    try {
      out = next.do === 'resume' ? await resumeStep(ctx, rb, step, kinds, signal) : await runStep(ctx, rb, step, kinds, signal);
    } catch (e) {
      // Aborted (the action timed out, Warden is stopping): the step's end is recorded, then the abort goes on.
      record({ name: step.name, branch, state: 'failed', startedAt, finishedAt: Date.now(), detail: `aborted: ${errorText(e)}` });
      throw e;
    }
    record({ name: step.name, branch, state: out.ok ? 'succeeded' : 'failed', startedAt, finishedAt: Date.now(), detail: out.detail });
  }
}

function recordOf(ctx: ActionContext, branch: Branch, name: string): StepRecord | undefined {
  return ctx.action.steps?.find((r) => r.branch === branch && r.name === name);
}

/** A failure of the step itself is its outcome; an abort of the whole action is thrown. */
async function guard(signal: AbortSignal, f: () => Promise<string>): Promise<Outcome> {
  try {
    return { ok: true, detail: await f() };
  } catch (e) {
    if (signal.aborted) throw e;
    return { ok: false, detail: errorText(e) };
  }
}

async function runStep(ctx: ActionContext, rb: RunbookSpec, step: WorkflowStep, kinds: StepKinds, signal: AbortSignal): Promise<Outcome> {
  const did = await guard(signal, async () => {
    if (step.run) {
      await runCommand(command(ctx, rb, step, step.run, step.timeoutMs, `step ${step.name} of runbook ${rb.name}`), signal);
      return 'exited 0';
    }
    const a = step.action!;
    const refusal = ctx.refusal?.(a.type) ?? null;
    if (refusal !== null) throw new Error(`${a.type} ${ctx.spec.name} refused: ${refusal}`);
    // The step's own deadline, and the action's abort, whichever comes first.
    return kinds[a.type].run(stepContext(ctx, step), AbortSignal.any([signal, AbortSignal.timeout(step.timeoutMs)]));
  });
  if (!did.ok || !step.verify) return did;
  const v = await verify(ctx, rb, step, step.verify, signal);
  return v.ok ? { ok: true, detail: `${did.detail}; ${v.detail}` } : v;
}

async function resumeStep(ctx: ActionContext, rb: RunbookSpec, step: WorkflowStep, kinds: StepKinds, signal: AbortSignal): Promise<Outcome> {
  const interrupted = 'interrupted by a Warden restart';
  if (step.action) {
    const verdict = kinds[step.action.type].resume(stepContext(ctx, step));
    if (verdict.outcome === 'continue') return runStep(ctx, rb, step, kinds, signal);
    if (verdict.outcome === 'unknown') return { ok: false, detail: `${interrupted}: ${verdict.detail}; not run again` };
    if (!step.verify) return { ok: true, detail: `${interrupted}: ${verdict.detail}` };
  } else if (!step.verify) {
    return { ok: false, detail: `${interrupted}; its outcome cannot be observed, so it is not run again` };
  }
  const v = await verify(ctx, rb, step, step.verify, signal);
  return v.ok ? { ok: true, detail: `${interrupted}; ${v.detail}` } : { ok: false, detail: `${interrupted}, not run again; ${v.detail}` };
}

/** Tries the verification every intervalMs until it holds or its timeout passes (monotonic time). */
async function verify(ctx: ActionContext, rb: RunbookSpec, step: WorkflowStep, v: StepVerify, signal: AbortSignal): Promise<Outcome> {
  const start = performance.now();
  for (let tries = 1; ; tries++) {
    const left = Math.max(1, Math.round(v.timeoutMs - (performance.now() - start)));
    let last: string;
    if (v.argv) {
      const r = await guard(signal, async () => {
        await runCommand(command(ctx, rb, step, v.argv!, left, `verification of step ${step.name}`), signal);
        return 'exited 0';
      });
      if (r.ok) return { ok: true, detail: `verified (${v.argv.join(' ')} exited 0)` };
      last = r.detail;
    } else {
      const r = await runProbe(v.probe!, left);
      if (r.ok) return { ok: true, detail: `verified (${v.probe!.type}: ${r.message})` };
      last = `${v.probe!.type}: ${r.message}`;
    }
    if (performance.now() - start + v.intervalMs >= v.timeoutMs) {
      return { ok: false, detail: `verification failed after ${tries} tr${tries === 1 ? 'y' : 'ies'} in ${v.timeoutMs} ms: ${last}` };
    }
    await sleep(v.intervalMs, undefined, { signal });
  }
}

function command(ctx: ActionContext, rb: RunbookSpec, step: WorkflowStep, argv: string[], timeoutMs: number, label: string): Parameters<typeof runCommand>[0] {
  return {
    argv, cwd: rb.cwd, timeoutMs, label,
    // Like a runbook, a step learns what it acts on, and which step it is.
    env: { ...rb.env, WARDEN_ACTION: ctx.action.id, WARDEN_SERVICE: ctx.spec.name, WARDEN_PID: String(ctx.driver.state(ctx.spec).pid ?? ''), WARDEN_STEP: step.name },
    logFile: join(ctx.dataDir, 'logs', `runbook-${ctx.spec.name}-${rb.name}.log`),
  };
}

/**
 * An action step acts under an identity of its own (`A7:restart-web`): a process it starts is told
 * apart, after a crash, from one another step of the same workflow started.
 */
function stepContext(ctx: ActionContext, step: WorkflowStep): ActionContext {
  const a = step.action!;
  return { ...ctx, action: { ...ctx.action, id: `${ctx.action.id}:${step.name}`, type: a.type, params: { ...a.params } } };
}
