// Runbook workflows run by the real executor with real commands: each step recorded on the action,
// a failing step (or a failing verification) stops the workflow and runs the on-failure steps, an
// action step acts under its own identity, and a workflow that Warden stopped mid-step resumes at
// that step without running it blindly again.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ProcessState, RunbookSpec, ServiceSpec, StepRecord, WorkflowStep } from '../domain/types.js';
import type { ActOptions, ServiceDriver } from '../kinds/driver.js';
import { Executor } from '../loop/executor.js';
import { action } from '../runtime/testing.js';
import { Store } from '../store/store.js';
import { SimulatedClock } from '../testing/clock.js';
import { makeConfig, running } from '../testing/domain.js';
import { waitFor } from '../lib/wait.js';

/** Records which actions restarted the service (its identity), and starts nothing real. */
class Driver implements ServiceDriver {
  proc: ProcessState = running({ pid: 100, startedBy: null });
  restarts: string[] = [];
  state(): ProcessState { return this.proc; }
  logTail(): string[] { return []; }
  start(): Promise<{ pid: number | null }> { return Promise.reject(new Error('not used')); }
  stop(): Promise<void> { return Promise.reject(new Error('not used')); }
  restart(_spec: ServiceSpec, opts: ActOptions = {}): Promise<{ pid: number | null }> {
    this.restarts.push(opts.actionId ?? '?');
    this.proc = running({ pid: 200 + this.restarts.length, startedBy: opts.actionId ?? null });
    return Promise.resolve({ pid: this.proc.pid });
  }
}

/** A step that appends its name to the trace file (and exits with `code`). */
function sh(name: string, code = 0, over: Partial<WorkflowStep> = {}): WorkflowStep {
  return { name, run: ['sh', '-c', `echo ${name} >> trace; exit ${code}`], action: null, needs: [], if: null, verify: null, timeoutMs: 5000, ...over };
}

function setup(t: { after(fn: () => void): void }, rb: Omit<RunbookSpec, 'cwd' | 'env' | 'argv' | 'timeoutMs' | 'for'>, rules = makeConfig().policy.rules) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-wf-'));
  const config = makeConfig({ agent: { dataDir: dir }, rules, override: { web: { runbooks: [{ argv: [], cwd: dir, env: {}, timeoutMs: 60_000, for: [], ...rb }] } } });
  const store = Store.open(dir);
  t.after(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });
  const driver = new Driver();
  const executor = new Executor({ store, clock: new SimulatedClock(), boot: 'boot-1', config: () => config, driverFor: () => driver, actor: 'otto', onSettled: () => undefined, log: () => undefined });
  const trace = (): string[] => (existsSync(join(dir, 'trace')) ? readFileSync(join(dir, 'trace'), 'utf8').trim().split('\n') : []);
  const settled = (): Promise<ReturnType<Store['getAction']>> => waitFor(() => {
    const a = store.getAction('A1');
    return a && (a.state === 'completed' || a.state === 'failed') ? a : null;
  }, 10_000, 'A1 to settle');
  return { dir, store, driver, executor, trace, settled };
}

const steps = (rs: StepRecord[] | undefined): string[] => (rs ?? []).map((r) => `${r.branch === 'onFailure' ? 'onFailure ' : ''}${r.name} ${r.state}`);

test('a workflow runs its steps in order, each recorded on the one action', async (t) => {
  const { store, executor, trace, settled } = setup(t, { name: 'fix', workflow: { steps: [sh('b', 0, { needs: ['a'] }), sh('a')], onFailure: [sh('undo')] } });
  store.putAction(action({ id: 'A1', ticketId: null, type: 'run-runbook', params: { runbook: 'fix' }, state: 'validated', attempts: 0, startedAt: null, finishedAt: null }));
  executor.run('A1');
  const a = await settled();
  assert.equal(a?.state, 'completed', a?.error ?? '');
  assert.deepEqual(trace(), ['a', 'b']);
  assert.deepEqual(steps(a?.steps), ['a succeeded', 'b succeeded']);
  assert.match(a?.steps?.[0]?.detail ?? '', /exited 0/);
});

test('a failing step stops the workflow: the steps after it never run, the on-failure steps do, and the action fails saying which', async (t) => {
  const { store, executor, trace, settled } = setup(t, {
    name: 'fix',
    workflow: {
      steps: [sh('drain'), sh('migrate', 3, { needs: ['drain'] }), sh('restart', 0, { needs: ['migrate'] })],
      onFailure: [sh('undrain', 0, { if: { stepFailed: 'migrate' } }), sh('page', 0, { if: { stepFailed: 'drain' } })],
    },
  });
  store.putAction(action({ id: 'A1', ticketId: null, type: 'run-runbook', params: { runbook: 'fix' }, state: 'validated', attempts: 0, startedAt: null, finishedAt: null }));
  executor.run('A1');
  const a = await settled();
  assert.equal(a?.state, 'failed');
  assert.deepEqual(trace(), ['drain', 'migrate', 'undrain']);
  assert.deepEqual(steps(a?.steps), ['drain succeeded', 'migrate failed', 'onFailure undrain succeeded', 'onFailure page skipped']);
  assert.equal(a?.error, 'workflow fix: step migrate failed: step migrate of runbook fix exited with 3; on failure: undrain succeeded, page skipped');
  assert.equal(a?.attempts, 1, 'a failed workflow is not retried');
});

test("a step whose verification does not hold fails before its dependents run", async (t) => {
  const { store, executor, trace, settled } = setup(t, {
    name: 'fix',
    workflow: {
      steps: [
        sh('write', 0, { verify: { argv: ['sh', '-c', 'test -e ready'], probe: null, timeoutMs: 300, intervalMs: 100 } }),
        sh('after', 0, { needs: ['write'] }),
      ],
      onFailure: [sh('undo')],
    },
  });
  store.putAction(action({ id: 'A1', ticketId: null, type: 'run-runbook', params: { runbook: 'fix' }, state: 'validated', attempts: 0, startedAt: null, finishedAt: null }));
  executor.run('A1');
  const a = await settled();
  assert.deepEqual(trace(), ['write', 'undo']);
  assert.match(a?.steps?.[0]?.detail ?? '', /^verification failed after \d+ tries in 300 ms: verification of step write exited with 1$/);
});

test('an action step acts under an identity of its own, and only where the rules allow it', async (t) => {
  const { store, executor, driver, settled } = setup(t, {
    name: 'fix',
    workflow: { steps: [{ ...sh('bounce'), run: null, action: { type: 'restart', params: {} } }, sh('after', 0, { needs: ['bounce'] })], onFailure: [] },
  });
  store.putAction(action({ id: 'A1', ticketId: null, type: 'run-runbook', params: { runbook: 'fix' }, state: 'validated', attempts: 0, startedAt: null, finishedAt: null }));
  executor.run('A1');
  const a = await settled();
  assert.equal(a?.state, 'completed', a?.error ?? '');
  assert.deepEqual(driver.restarts, ['A1:bounce']);

  const denied = setup(t, { name: 'fix', workflow: { steps: [{ ...sh('bounce'), run: null, action: { type: 'restart', params: {} } }], onFailure: [] } },
    [{ match: { service: '*', host: '*' }, allow: ['run-runbook'], approval: 'none' }]);
  denied.store.putAction(action({ id: 'A1', ticketId: null, type: 'run-runbook', params: { runbook: 'fix' }, state: 'validated', attempts: 0, startedAt: null, finishedAt: null }));
  denied.executor.run('A1');
  const b = await denied.settled();
  assert.equal(b?.state, 'failed');
  assert.match(b?.steps?.[0]?.detail ?? '', /restart web refused: policy allows no restart on web/);
  assert.deepEqual(denied.driver.restarts, []);
});

test('after a crash mid-step: a step that verifies is counted done and the workflow goes on; earlier steps are not run again', async (t) => {
  const { dir, store, executor, trace, settled } = setup(t, {
    name: 'fix',
    workflow: {
      steps: [sh('a'), sh('b', 0, { needs: ['a'], verify: { argv: ['test', '-e', 'b-done'], probe: null, timeoutMs: 1000, intervalMs: 100 } }), sh('c', 0, { needs: ['b'] })],
      onFailure: [sh('undo')],
    },
  });
  // As Warden left it: executing, a done, b started (and, as it happens, done: its marker is there).
  writeFileSync(join(dir, 'b-done'), '');
  const rec = (name: string, state: StepRecord['state']): StepRecord => ({ name, branch: 'steps', state, startedAt: 1, finishedAt: state === 'running' ? null : 2, detail: null });
  store.putAction(action({ id: 'A1', ticketId: null, type: 'run-runbook', params: { runbook: 'fix' }, state: 'executing', attempts: 1, finishedAt: null, steps: [rec('a', 'succeeded'), rec('b', 'running')] }));
  executor.resume();
  const a = await settled();
  assert.equal(a?.state, 'completed', a?.error ?? '');
  assert.deepEqual(trace(), ['c'], 'neither a nor b ran again');
  assert.match(a?.steps?.[1]?.detail ?? '', /^interrupted by a Warden restart; verified/);
});

test('after a crash mid-step: a command step that cannot be verified is not run again; it failed, and the on-failure steps run', async (t) => {
  const { store, executor, trace, settled } = setup(t, { name: 'fix', workflow: { steps: [sh('a'), sh('b', 0, { needs: ['a'] })], onFailure: [sh('undo')] } });
  const rec = (name: string, state: StepRecord['state']): StepRecord => ({ name, branch: 'steps', state, startedAt: 1, finishedAt: null, detail: null });
  store.putAction(action({ id: 'A1', ticketId: null, type: 'run-runbook', params: { runbook: 'fix' }, state: 'executing', attempts: 1, finishedAt: null, steps: [rec('a', 'running')] }));
  executor.resume();
  const a = await settled();
  assert.equal(a?.state, 'failed');
  assert.deepEqual(trace(), ['undo']);
  assert.match(a?.error ?? '', /step a failed: interrupted by a Warden restart; its outcome cannot be observed, so it is not run again/);
});
