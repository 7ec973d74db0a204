// The executor's timeout path on a simulated clock: an attempt that outlasts its timeout is
// aborted, its target stays locked until the effect has really ended, and the world (which action
// started the running process?) decides between done and retry.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dead, makeConfig, running } from '../testing/domain.js';
import type { ProcessState, ServiceSpec } from '../domain/types.js';
import type { ActOptions, ServiceDriver } from '../kinds/driver.js';
import { action } from '../runtime/testing.js';
import { Store } from '../store/store.js';
import { SimulatedClock } from '../testing/clock.js';
import { ABORT_GRACE_MS, Executor, type ExecutorDeps } from './executor.js';

/** A restart that never finishes by itself: it ends when the test says, after it was aborted. */
class SlowDriver implements ServiceDriver {
  proc: ProcessState = running({ pid: 100, startedBy: null });
  calls = 0;
  aborted = 0;
  /** Ends the effect in flight: `spawnFor` set means it started a process for that action first. */
  end: ((spawnFor: string | null) => void) | null = null;

  state(): ProcessState { return this.proc; }
  logTail(): string[] { return []; }
  start(): Promise<{ pid: number | null }> { return Promise.reject(new Error('not used')); }
  stop(): Promise<void> { return Promise.reject(new Error('not used')); }
  restart(_spec: ServiceSpec, opts: ActOptions = {}): Promise<{ pid: number | null }> {
    this.calls += 1;
    return new Promise((_resolve, reject) => {
      opts.signal?.addEventListener('abort', () => {
        this.aborted += 1;
        this.proc = dead(); // the old process is killed first
        this.end = (spawnFor) => {
          if (spawnFor !== null) this.proc = running({ pid: 200, startedBy: spawnFor });
          reject(opts.signal?.reason);
        };
      });
    });
  }
}

/** Lets promise callbacks and the store's synchronous writes run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

function setup(t: { after(fn: () => void): void }, more: Partial<ExecutorDeps> = {}): { clock: SimulatedClock; store: Store; driver: SlowDriver; executor: Executor; timeoutMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-exec-'));
  const config = makeConfig({ agent: { dataDir: dir } });
  const store = Store.open(dir);
  t.after(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });
  const clock = new SimulatedClock();
  const driver = new SlowDriver();
  const executor = new Executor({ store, clock, boot: 'boot-1', config: () => config, driverFor: () => driver, actor: 'otto', onSettled: () => undefined, log: () => undefined, ...more });
  store.putAction(action({ id: 'A1', ticketId: null, type: 'restart', target: 'web', state: 'validated', attempts: 0, startedAt: null, finishedAt: null }));
  const web = config.services.find((s) => s.name === 'web')!;
  return { clock, store, driver, executor, timeoutMs: web.stopGraceMs + 15_000 };
}

test('a restart past its timeout is aborted, holds its target until it ends, and is retried only when it did not happen', async (t) => {
  const { clock, store, driver, executor, timeoutMs } = setup(t);
  executor.run('A1');
  await flush();
  assert.equal(store.getAction('A1')?.state, 'executing');
  clock.advance(timeoutMs - 1);
  await flush();
  assert.equal(driver.aborted, 0, 'not aborted before its timeout');

  clock.advance(1);
  await flush();
  assert.equal(driver.aborted, 1, 'aborted at its timeout');
  assert.equal(store.getAction('A1')?.state, 'executing', 'no verdict while the effect still runs');
  // Another action on the same target must wait for the aborted effect to end.
  store.putAction(action({ id: 'A5', ticketId: null, type: 'restart', target: 'web', state: 'validated', attempts: 0, idempotencyKey: 'k5', startedAt: null, finishedAt: null }));
  executor.run('A5');
  await flush();
  assert.equal(driver.calls, 1, 'the target is still locked');
  assert.deepEqual([...executor.inFlight], ['A1']);

  driver.end!(null); // the aborted restart ended without starting anything
  await flush();
  const a = store.getAction('A1')!;
  assert.equal(a.state, 'validated', `retried: the world shows the restart did not happen (${a.error ?? ''})`);
  assert.match(a.error ?? '', /timed out after \d+ ms/);
  assert.ok((a.notBefore ?? 0) > clock.now(), 'after a backoff');
  assert.deepEqual([...executor.inFlight], [], 'the target is free once the effect ended');
  executor.run('A5');
  await flush();
  assert.equal(driver.calls, 2, 'the next action on the target may now run');
});

test('a restart that timed out but did start this action\'s process completes without a retry', async (t) => {
  const { clock, store, driver, executor, timeoutMs } = setup(t);
  executor.run('A1');
  await flush();
  clock.advance(timeoutMs);
  await flush();
  driver.end!('A1');
  await flush();
  const a = store.getAction('A1')!;
  assert.equal(a.state, 'completed');
  assert.equal(a.attempts, 1);
  assert.equal(driver.calls, 1, 'never run a second time');
});

test('a process started by another action does not count as this one\'s effect', async (t) => {
  const { clock, store, driver, executor, timeoutMs } = setup(t);
  executor.run('A1');
  await flush();
  clock.advance(timeoutMs);
  await flush();
  driver.end!('A0');
  await flush();
  assert.equal(store.getAction('A1')?.state, 'validated');
});

test('an aborted effect that never ends fails its action but keeps its target locked', async (t) => {
  const { clock, store, driver, executor, timeoutMs } = setup(t);
  executor.run('A1');
  await flush();
  clock.advance(timeoutMs);
  await flush();
  clock.advance(ABORT_GRACE_MS);
  await flush();
  const a = store.getAction('A1')!;
  assert.equal(a.state, 'failed');
  assert.match(a.error ?? '', /did not end within/);
  assert.deepEqual([...executor.inFlight], ['A1'], 'still locked: the effect may yet act');
  driver.end!(null);
  await flush();
  assert.deepEqual([...executor.inFlight], []);
});

test('halted (the store found damaged): an action already executing finishes, no new one starts', async (t) => {
  let halted: string | null = null;
  const lines: string[] = [];
  const { clock, store, driver, executor, timeoutMs } = setup(t, { halted: () => halted, log: (l) => lines.push(l) });
  executor.run('A1');
  await flush();
  assert.equal(store.getAction('A1')?.state, 'executing');

  halted = 'store damaged: /d/warden.db: is corrupt (SQLITE_CORRUPT: x); acting stopped; restore a backup or run warden store recover';
  store.putAction(action({ id: 'A5', ticketId: null, type: 'restart', target: 'cache', state: 'validated', attempts: 0, idempotencyKey: 'k5', startedAt: null, finishedAt: null }));
  executor.run('A5');
  await flush();
  assert.equal(store.getAction('A5')?.state, 'validated', 'not started');
  assert.ok(lines.includes(`action A5 not started: ${halted}`), lines.join('\n'));

  clock.advance(timeoutMs);
  await flush();
  driver.end!('A1');
  await flush();
  assert.equal(store.getAction('A1')?.state, 'completed', 'the one under way finished and was recorded');
  assert.equal(driver.calls, 1);
  halted = null;
  executor.run('A5');
  await flush();
  assert.equal(driver.calls, 2, 'the same action starts when not halted');
});

test('an action the catalog no longer has (its subject gone) fails with why, and nothing runs', async (t) => {
  const { store, driver, executor } = setup(t);
  store.putAction(action({ id: 'A7', ticketId: null, type: 'gone.compact', target: 'cache', state: 'validated', attempts: 0, idempotencyKey: 'k7', startedAt: null, finishedAt: null }));
  store.putAction(action({ id: 'A8', ticketId: null, type: 'gone.compact', target: 'web', state: 'executing', attempts: 1, idempotencyKey: 'k8', startedAt: 1, finishedAt: null }));
  executor.resume();
  assert.equal(store.getAction('A8')?.state, 'failed');
  assert.match(store.getAction('A8')?.error ?? '', /no action "gone.compact" in the catalog/);
  executor.run('A7');
  await flush();
  assert.equal(store.getAction('A7')?.state, 'failed');
  assert.match(store.getAction('A7')?.error ?? '', /no action "gone.compact" in the catalog/);
  assert.equal(driver.calls, 0);
});
