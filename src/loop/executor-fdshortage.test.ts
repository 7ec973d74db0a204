// A restart whose spawn fails for want of file descriptors is retried for as long as the shortage
// lasts, past the attempts any other failure gets: for this process (EMFILE, reproduced for real in
// test/e2e/api-abuse.test.ts) and for the whole system (ENFILE, which a shared host's file table
// cannot safely be run out of, so it is injected here where the e2e test injects nothing).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dead, makeConfig, running } from '../testing/domain.js';
import type { ProcessState, ServiceSpec } from '../domain/types.js';
import type { ActOptions, ServiceDriver } from '../kinds/driver.js';
import { SpawnError } from '../kinds/process/supervisor.js';
import { action } from '../runtime/testing.js';
import { Store } from '../store/store.js';
import { SimulatedClock } from '../testing/clock.js';
import { Executor } from './executor.js';

/** A restart that fails with `code` for its first `failures` calls, then starts the service. */
class ShortDriver implements ServiceDriver {
  proc: ProcessState = dead();
  calls = 0;
  constructor(private readonly code: string, private readonly failures: number) {}
  state(): ProcessState { return this.proc; }
  logTail(): string[] { return []; }
  start(): Promise<{ pid: number | null }> { return Promise.reject(new Error('not used')); }
  stop(): Promise<void> { return Promise.reject(new Error('not used')); }
  restart(_spec: ServiceSpec, opts: ActOptions = {}): Promise<{ pid: number | null }> {
    this.calls += 1;
    if (this.calls <= this.failures) {
      const cause = Object.assign(new Error(`spawn node ${this.code}`), { code: this.code });
      return Promise.reject(new SpawnError(`cannot start web: ${cause.message}`, { cause }));
    }
    this.proc = running({ pid: 200, startedBy: opts.actionId ?? null });
    return Promise.resolve({ pid: 200 });
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

/** Runs action A1 until it settles, each attempt once its backoff has passed on the simulated clock. */
async function settle(code: string, failures: number, t: { after(fn: () => void): void }): Promise<{ state: string; attempts: number; calls: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-exec-fd-'));
  const config = makeConfig({ agent: { dataDir: dir } });
  const store = Store.open(dir);
  t.after(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });
  const clock = new SimulatedClock();
  const driver = new ShortDriver(code, failures);
  const executor = new Executor({ store, clock, boot: 'boot-1', config: () => config, driverFor: () => driver, actor: 'otto', onSettled: () => undefined, log: () => undefined });
  store.putAction(action({ id: 'A1', ticketId: null, type: 'restart', target: 'web', state: 'validated', attempts: 0, startedAt: null, finishedAt: null }));
  for (let i = 0; i < 20; i++) {
    const a = store.getAction('A1')!;
    if (a.state !== 'validated') return { state: a.state, attempts: a.attempts, calls: driver.calls };
    clock.advance(Math.max(0, (a.notBefore ?? 0) - clock.now()));
    executor.run('A1');
    await flush();
  }
  throw new Error('A1 never settled');
}

for (const code of ['EMFILE', 'ENFILE']) {
  test(`${code}: a restart is retried past its attempts while descriptors are short, then completes`, async (t) => {
    assert.deepEqual(await settle(code, 6, t), { state: 'completed', attempts: 7, calls: 7 });
  });
}

test('any other spawn failure fails the action: the shortage is the exception', async (t) => {
  const r = await settle('ENOENT', 6, t);
  assert.equal(r.state, 'failed');
  assert.ok(r.calls < 7, `${r.calls} attempts`);
});
