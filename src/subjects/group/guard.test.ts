// The group's blast radius, through the executor: a restart of a healthy replica that would leave
// fewer than minHealthy healthy is refused inside the action (whatever the policy said), and
// nothing is done; one that leaves enough, or of a member already down, runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Refusal } from '../../domain/policy.js';
import type { Health, ProcessState, SubjectSpec } from '../../domain/types.js';
import type { ServiceDriver } from '../../kinds/driver.js';
import { Executor } from '../../loop/executor.js';
import { action } from '../../runtime/testing.js';
import { Store } from '../../store/store.js';
import { SimulatedClock } from '../../testing/clock.js';
import { makeConfig, running, service } from '../../testing/domain.js';

class CountingDriver implements ServiceDriver {
  restarts: string[] = [];
  state(): ProcessState { return running(); }
  logTail(): string[] { return []; }
  start(): Promise<{ pid: number | null }> { return Promise.resolve({ pid: 1 }); }
  stop(): Promise<void> { return Promise.resolve(); }
  restart(spec: { name: string }): Promise<{ pid: number | null }> {
    this.restarts.push(spec.name);
    return Promise.resolve({ pid: 2 });
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

function setup(t: { after(fn: () => void): void }, health: Record<string, Health>, minHealthy: number | null): { store: Store; driver: CountingDriver; executor: Executor; refused: Refusal[] } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-guard-'));
  const group: SubjectSpec = { name: 'replicas', type: 'group', host: 'local', members: ['r1', 'r2', 'r3'], params: { minHealthy }, intervalMs: 1000 };
  const config = makeConfig({ services: [service('r1'), service('r2'), service('r3')], subjects: [group], agent: { dataDir: dir } });
  const store = Store.open(dir);
  t.after(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });
  for (const [name, h] of Object.entries(health)) store.putServiceState({ name, host: 'local', health: h, since: 0, detail: '' });
  const driver = new CountingDriver();
  const refused: Refusal[] = [];
  const executor = new Executor({ store, clock: new SimulatedClock(), boot: 'b', config: () => config, driverFor: () => driver, actor: 'otto', onSettled: () => undefined, log: () => undefined, refused: (r) => refused.push(r) });
  return { store, driver, executor, refused };
}

test('a healthy replica is not restarted when that would leave fewer than minHealthy healthy', async (t) => {
  const { store, driver, executor, refused } = setup(t, { r1: 'healthy', r2: 'missing', r3: 'healthy' }, 2);
  store.putAction(action({ id: 'A1', ticketId: null, type: 'restart', target: 'r1', state: 'validated', attempts: 0, startedAt: null, finishedAt: null }));
  executor.run('A1');
  await flush();
  const a = store.getAction('A1');
  assert.equal(a?.state, 'failed');
  assert.match(a?.error ?? '', /refused by subject replicas: r1 is healthy and taking it down would leave 1 of 3 members healthy, 2 needed/);
  assert.deepEqual(driver.restarts, []);
  assert.deepEqual(refused, [{ by: 'blast_radius', type: 'restart', target: 'r1', ticketId: null }], 'reported once, for warden_actions_blocked_total');
});

test('a member already down, or one whose loss leaves enough, is restarted', async (t) => {
  const { store, driver, executor, refused } = setup(t, { r1: 'healthy', r2: 'missing', r3: 'healthy' }, 1);
  store.putAction(action({ id: 'A1', ticketId: null, type: 'restart', target: 'r2', state: 'validated', attempts: 0, idempotencyKey: 'k1', startedAt: null, finishedAt: null }));
  store.putAction(action({ id: 'A2', ticketId: null, type: 'restart', target: 'r1', state: 'validated', attempts: 0, idempotencyKey: 'k2', startedAt: null, finishedAt: null }));
  executor.run('A1');
  executor.run('A2');
  await flush();
  assert.equal(store.getAction('A1')?.state, 'completed');
  assert.equal(store.getAction('A2')?.state, 'completed', 'minHealthy 1: r3 stays');
  assert.deepEqual(driver.restarts.sort(), ['r1', 'r2']);
  assert.deepEqual(refused, []);
});
