// The action catalog: one typed table, names derived from it. Each kind says how to perform its
// effect and how to tell, after a crash, whether the effect already happened (so an interrupted
// action is re-verified, never blindly run twice).
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceDriver } from '../kinds/driver.js';
import type { Action, ActionType, ServiceSpec } from '../domain/types.js';

export interface ActionContext {
  spec: ServiceSpec;
  action: Action;
  /** Drives the service according to its kind (process, systemd). */
  driver: ServiceDriver;
  dataDir: string;
}

/** What an interrupted action's effect looks like on the world now. */
export type ResumeVerdict =
  | { outcome: 'completed'; detail: string }
  | { outcome: 'continue'; detail: string }
  | { outcome: 'unknown'; detail: string };

export interface ActionKind {
  /** Performs the effect; resolves with a one-line detail, rejects with an Error on failure. */
  run(ctx: ActionContext): Promise<string>;
  /** Decides, after Warden restarted mid-action, whether the effect happened. */
  resume(ctx: ActionContext): ResumeVerdict;
  /** Upper bound on one attempt. */
  timeoutMs(ctx: ActionContext): number;
}

// A process started at or after the action began is the action's effect. /proc start times are
// in clock ticks (10 ms), so allow that much rounding.
const TICK_SLACK_MS = 20;

function startedByAction(ctx: ActionContext): { yes: boolean; detail: string } {
  const st = ctx.driver.state(ctx.spec);
  const began = ctx.action.startedAt ?? 0;
  if (st.running && st.startedAt != null && st.startedAt + TICK_SLACK_MS >= began) {
    return { yes: true, detail: `pid ${st.pid} started after the action began` };
  }
  return { yes: false, detail: st.running ? `pid ${st.pid} predates the action` : 'not running' };
}

const start: ActionKind = {
  async run(ctx) {
    const { pid } = await ctx.driver.start(ctx.spec);
    return `started${pid ? ` pid ${pid}` : ''}`;
  },
  resume(ctx) {
    const s = startedByAction(ctx);
    if (s.yes) return { outcome: 'completed', detail: s.detail };
    // Start is a no-op on a running process, so continuing can never start a second one.
    return { outcome: 'continue', detail: s.detail };
  },
  timeoutMs: () => 15_000,
};

const restart: ActionKind = {
  async run(ctx) {
    const { pid } = await ctx.driver.restart(ctx.spec);
    return `restarted${pid ? `, pid ${pid}` : ''}`;
  },
  resume(ctx) {
    const s = startedByAction(ctx);
    return s.yes ? { outcome: 'completed', detail: s.detail } : { outcome: 'continue', detail: s.detail };
  },
  timeoutMs: (ctx) => ctx.spec.stopGraceMs + 15_000,
};

const stop: ActionKind = {
  async run(ctx) {
    await ctx.driver.stop(ctx.spec);
    return 'stopped';
  },
  resume(ctx) {
    const st = ctx.driver.state(ctx.spec);
    return st.running ? { outcome: 'continue', detail: `pid ${st.pid} still running` } : { outcome: 'completed', detail: 'not running' };
  },
  timeoutMs: (ctx) => ctx.spec.stopGraceMs + 5_000,
};

const runRunbook: ActionKind = {
  async run(ctx) {
    const rb = runbookOf(ctx);
    const logs = join(ctx.dataDir, 'logs');
    mkdirSync(logs, { recursive: true });
    const fd = openSync(join(logs, `runbook-${ctx.spec.name}-${rb.name}.log`), 'a');
    try {
      const child = spawn(rb.argv[0]!, rb.argv.slice(1), {
        // The runbook learns what it acts on: the action, the service, and its current main pid.
        cwd: rb.cwd, env: { ...process.env, ...rb.env, WARDEN_ACTION: ctx.action.id, WARDEN_SERVICE: ctx.spec.name, WARDEN_PID: String(ctx.driver.state(ctx.spec).pid ?? '') },
        stdio: ['ignore', fd, fd], detached: true,
      });
      const code = await new Promise<number | string>((resolve, reject) => {
        const timer = setTimeout(() => {
          try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
          reject(Object.assign(new Error(`runbook ${rb.name} timed out after ${rb.timeoutMs} ms`), { retryable: false }));
        }, rb.timeoutMs);
        child.once('error', (e) => { clearTimeout(timer); reject(Object.assign(e, { retryable: false })); });
        child.once('exit', (c, sig) => { clearTimeout(timer); resolve(sig ?? c ?? -1); });
      });
      if (code !== 0) throw Object.assign(new Error(`runbook ${rb.name} exited with ${code}`), { retryable: false });
      return `runbook ${rb.name} exited 0`;
    } finally {
      closeSync(fd);
    }
  },
  // A runbook's effect cannot be observed from outside: never run it a second time.
  resume: () => ({ outcome: 'unknown', detail: 'interrupted by a Warden restart; runbook outcome unknown, not re-run' }),
  timeoutMs: (ctx) => runbookOf(ctx).timeoutMs + 1_000,
};

function runbookOf(ctx: ActionContext): ServiceSpec['runbooks'][number] {
  const name = ctx.action.params.runbook;
  const rb = ctx.spec.runbooks.find((r) => r.name === name);
  if (!rb) throw Object.assign(new Error(`service ${ctx.spec.name} declares no runbook ${name ?? '(none given)'}`), { retryable: false });
  return rb;
}

export const actionKinds: Record<ActionType, ActionKind> = {
  start,
  restart,
  stop,
  'run-runbook': runRunbook,
};
