// The action catalog: one typed table, names derived from it. Each kind says how to perform its
// effect and how to tell, after a crash, whether the effect already happened (so an interrupted
// action is re-verified, never blindly run twice).
import { join } from 'node:path';
import type { ServiceDriver } from '../kinds/driver.js';
import { workflowTimeoutMs } from '../domain/workflow.js';
import type { Action, ActionType, Cause, CoreActionType, ServiceSpec, StepRecord, SubjectSpec } from '../domain/types.js';
import { runCommand } from './command.js';
import { runWorkflow } from './workflow.js';

export interface ActionContext {
  spec: ServiceSpec;
  action: Action;
  /** Drives the service according to its kind (process, systemd). */
  driver: ServiceDriver;
  dataDir: string;
  /** The subject the target is a member of, if any: its actions read the system through it. */
  subject?: SubjectSpec;
  /** Keeps a workflow step's record on the action, durably, and updates `action` (the executor's). */
  record?: (r: StepRecord) => void;
  /** The cause of the action's ticket (a workflow step's `if: { cause }`); null: none or not known. */
  cause?: Cause | null;
  /** Why the policy's rules refuse another action on the target (a workflow's action step), or null. */
  refusal?: (type: ActionType) => string | null;
}

/** What an interrupted action's effect looks like on the world now. */
export type ResumeVerdict =
  | { outcome: 'completed'; detail: string }
  | { outcome: 'continue'; detail: string }
  | { outcome: 'unknown'; detail: string };

/** How an action is performed; `C` is what it acts on (a service's context, or a host's: ./host.ts). */
export interface ActionKind<C = ActionContext> {
  /**
   * Performs the effect; resolves with a one-line detail, rejects with an Error on failure. When
   * `signal` fires it stops what it is doing and settles only once nothing it began still runs.
   */
  run(ctx: C, signal: AbortSignal): Promise<string>;
  /** Decides from the world as it is now whether the effect happened: after Warden restarted
   *  mid-action, and after an attempt was aborted. */
  resume(ctx: C): ResumeVerdict;
  /** Upper bound on one attempt. */
  timeoutMs(ctx: C): number;
}

/**
 * Whether the running process is this action's effect, by identity: the action id its marker
 * carries, never an estimate of when it started. null when the driver cannot tell.
 */
function startedByAction(ctx: ActionContext): { yes: boolean | null; detail: string } {
  const st = ctx.driver.state(ctx.spec);
  if (!st.running) return { yes: false, detail: 'not running' };
  if (st.startedBy === undefined) return { yes: null, detail: `pid ${st.pid ?? '?'} runs; which action started it cannot be told` };
  if (st.startedBy === ctx.action.id) return { yes: true, detail: `pid ${st.pid ?? '?'} was started by this action` };
  return { yes: false, detail: `pid ${st.pid ?? '?'} was started ${st.startedBy === null ? 'by no action' : `by action ${st.startedBy}`}` };
}

const start: ActionKind = {
  async run(ctx, signal) {
    const { pid } = await ctx.driver.start(ctx.spec, { signal, actionId: ctx.action.id });
    return `started${pid ? ` pid ${pid}` : ''}`;
  },
  resume(ctx) {
    const s = startedByAction(ctx);
    if (s.yes === true) return { outcome: 'completed', detail: s.detail };
    // Start is a no-op on a running process, so continuing can never start a second one.
    return { outcome: 'continue', detail: s.detail };
  },
  timeoutMs: () => 15_000,
};

const restart: ActionKind = {
  async run(ctx, signal) {
    const recreate = ctx.action.params.recreate === 'true';
    const { pid } = await ctx.driver.restart(ctx.spec, { signal, actionId: ctx.action.id, recreate });
    return `${recreate ? 'recreated' : 'restarted'}${pid ? `, pid ${pid}` : ''}`;
  },
  resume(ctx) {
    const s = startedByAction(ctx);
    // Not knowing whether it restarted, restarting again could be the duplicate: stop and say so.
    if (s.yes === null) return { outcome: 'unknown', detail: s.detail };
    return s.yes ? { outcome: 'completed', detail: s.detail } : { outcome: 'continue', detail: s.detail };
  },
  timeoutMs: (ctx) => ctx.spec.stopGraceMs + 15_000,
};

const stop: ActionKind = {
  async run(ctx, signal) {
    await ctx.driver.stop(ctx.spec, { signal, actionId: ctx.action.id });
    return 'stopped';
  },
  resume(ctx) {
    const st = ctx.driver.state(ctx.spec);
    return st.running ? { outcome: 'continue', detail: `pid ${st.pid} still running` } : { outcome: 'completed', detail: 'not running' };
  },
  timeoutMs: (ctx) => ctx.spec.stopGraceMs + 5_000,
};

const runRunbook: ActionKind = {
  async run(ctx, signal) {
    signal.throwIfAborted();
    const rb = runbookOf(ctx);
    if (rb.workflow) return runWorkflow(ctx, rb, rb.workflow, { start, restart, stop }, signal);
    await runCommand({
      argv: rb.argv, cwd: rb.cwd, timeoutMs: rb.timeoutMs, label: `runbook ${rb.name}`,
      logFile: join(ctx.dataDir, 'logs', `runbook-${ctx.spec.name}-${rb.name}.log`),
      // The runbook learns what it acts on: the action, the service, and its current main pid.
      env: { ...rb.env, WARDEN_ACTION: ctx.action.id, WARDEN_SERVICE: ctx.spec.name, WARDEN_PID: String(ctx.driver.state(ctx.spec).pid ?? '') },
    }, signal);
    return `runbook ${rb.name} exited 0`;
  },
  resume(ctx) {
    // A workflow carries on from its step records (the step that was running is found out first).
    const wf = ctx.spec.runbooks.find((r) => r.name === ctx.action.params.runbook)?.workflow;
    if (wf) {
      const at = ctx.action.steps?.find((r) => r.state === 'running');
      return { outcome: 'continue', detail: at ? `workflow resumes at step ${at.name}, which was running` : 'workflow resumes after its last recorded step' };
    }
    // A runbook's effect cannot be observed from outside: never run it a second time.
    return { outcome: 'unknown', detail: 'interrupted by a Warden restart; runbook outcome unknown, not re-run' };
  },
  timeoutMs: (ctx) => {
    const rb = runbookOf(ctx);
    return (rb.workflow ? workflowTimeoutMs(rb.workflow) : rb.timeoutMs) + 1_000;
  },
};

function runbookOf(ctx: ActionContext): ServiceSpec['runbooks'][number] {
  const name = ctx.action.params.runbook;
  const rb = ctx.spec.runbooks.find((r) => r.name === name);
  if (!rb) throw Object.assign(new Error(`service ${ctx.spec.name} declares no runbook ${name ?? '(none given)'}`), { retryable: false });
  return rb;
}

export const actionKinds: Record<CoreActionType, ActionKind> = {
  start,
  restart,
  stop,
  'run-runbook': runRunbook,
};
