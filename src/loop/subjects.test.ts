// The subject observer on the simulated clock: one reading per interval, never two at once, a
// change wakes the loop and a repeat does not, a reading that hangs is cut at its timeout, and a
// reload (start again) drops what an old reading brings back late.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from '../testing/clock.js';
import { makeConfig, service } from '../testing/domain.js';
import { subjects } from '../subjects/index.js';
import type { ResolvedConfig } from '../domain/types.js';
import { SubjectObserver } from './subjects.js';

/** A config with one etcd subject whose readings the test answers by hand (its observe is replaced). */
function setup(t: { after(fn: () => void): void }) {
  const config: ResolvedConfig = makeConfig({
    services: [service('e1')],
    subjects: [{ name: 'etcd', type: 'etcd', host: 'local', members: ['e1'], intervalMs: 1000, params: { endpoints: {}, maxLag: 1000, joinMs: 5000 } }],
  });
  const clock = new SimulatedClock();
  const calls: { resolve: (v: unknown) => void; reject: (e: Error) => void; signal: AbortSignal }[] = [];
  const real = subjects.etcd.observe;
  subjects.etcd.observe = (_spec, o) => new Promise((resolve, reject) => {
    calls.push({ resolve, reject, signal: o.signal });
    o.signal.addEventListener('abort', () => reject(o.signal.reason instanceof Error ? o.signal.reason : new Error('aborted')), { once: true });
  });
  t.after(() => { subjects.etcd.observe = real; });
  let changes = 0;
  const logs: string[] = [];
  const obs = new SubjectObserver({ clock, config: () => config, onChange: () => { changes++; }, log: (l) => logs.push(l) });
  return { clock, calls, obs, logs, changes: () => changes };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('one reading per interval; a change wakes the loop, a repeat does not; a hang is cut at its timeout', async (t) => {
  const s = setup(t);
  s.obs.start();
  assert.equal(s.calls.length, 1);
  s.calls[0]!.resolve({ members: { e1: 'a' } });
  await settle();
  assert.deepEqual(s.obs.snapshot().etcd, { at: s.clock.now(), facts: { members: { e1: 'a' } } });
  assert.equal(s.changes(), 1);
  s.clock.advance(999);
  assert.equal(s.calls.length, 1, 'not before the interval');
  s.clock.advance(1);
  assert.equal(s.calls.length, 2);
  s.calls[1]!.resolve({ members: { e1: 'a' } });
  await settle();
  assert.equal(s.changes(), 1, 'the same facts again are no change');

  // The next one hangs: cut at 1 s (the interval, under the 2 s cap), reported once, and it wakes the loop.
  s.clock.advance(1000);
  assert.equal(s.calls.length, 3);
  s.clock.advance(1000);
  await settle();
  const read = s.obs.snapshot().etcd!;
  assert.ok('error' in read && /no answer within 1000 ms/.test(read.error));
  assert.equal(s.changes(), 2);
  assert.deepEqual(s.logs, ['subject etcd: cannot read it: no answer within 1000 ms']);
  s.obs.stop();
});

test('after a reload, what an old reading brings back late is dropped', async (t) => {
  const s = setup(t);
  s.obs.start();
  const old = s.calls[0]!;
  s.obs.start(); // a reload: the old reading is aborted, a new one starts
  assert.equal(old.signal.aborted, true);
  assert.equal(s.calls.length, 2);
  s.calls[1]!.resolve({ members: { e1: 'new' } });
  await settle();
  assert.deepEqual((s.obs.snapshot().etcd as { facts: unknown }).facts, { members: { e1: 'new' } });
  s.obs.stop();
});
