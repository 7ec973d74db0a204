import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Manager, type Runnable } from './manager.js';

function part(name: string, calls: string[], opts: { failStart?: boolean; failStop?: boolean } = {}): Runnable {
  return {
    name,
    start: async () => {
      await Promise.resolve();
      calls.push(`start ${name}`);
      if (opts.failStart) throw new Error(`${name} cannot start`);
    },
    stop: () => {
      calls.push(`stop ${name}`);
      if (opts.failStop) throw new Error(`${name} cannot stop`);
    },
  };
}

test('starts in order and stops in reverse order', async () => {
  const calls: string[] = [];
  const m = new Manager();
  await m.start([part('lock', calls), part('store', calls), part('api', calls)]);
  assert.deepEqual(m.running, ['lock', 'store', 'api']);
  await m.stop();
  assert.deepEqual(calls, ['start lock', 'start store', 'start api', 'stop api', 'stop store', 'stop lock']);
  assert.deepEqual(m.running, []);
});

test('a failed start stops what had started, in reverse, and rethrows; the failed part is not stopped', async () => {
  const calls: string[] = [];
  const m = new Manager();
  await assert.rejects(m.start([part('lock', calls), part('store', calls), part('api', calls, { failStart: true }), part('watchdog', calls)]), /api cannot start/);
  assert.deepEqual(calls, ['start lock', 'start store', 'start api', 'stop store', 'stop lock']);
  assert.deepEqual(m.running, []);
});

test('a part that fails to stop is logged and the others still stop', async () => {
  const calls: string[] = [];
  const logged: string[] = [];
  const m = new Manager((l) => logged.push(l));
  await m.start([part('lock', calls), part('store', calls, { failStop: true }), part('api', calls)]);
  await m.stop();
  assert.deepEqual(calls.slice(3), ['stop api', 'stop store', 'stop lock']);
  assert.deepEqual(logged, ['stopping store: store cannot stop']);
});
