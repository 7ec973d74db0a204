// The check scheduler on simulated time: intervals, the timeout backstop and boosts run on the
// injected clock's monotonic time, so a wall-clock step neither fires nor starves a probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckSpec, ProbeResult, ServiceSpec } from '../domain/types.js';
import { SimulatedClock } from '../testing/clock.js';
import { BACKSTOP_GRACE_MS, CheckScheduler } from './checks.js';

const HOUR = 3_600_000;

function check(over: Partial<CheckSpec> = {}): CheckSpec {
  return {
    id: 'tcp#0', probe: { type: 'tcp', address: '127.0.0.1:1' },
    intervalMs: 1_000, timeoutMs: 100, failures: 1, successes: 1, ...over,
  };
}

function service(name: string, checks: CheckSpec[]): ServiceSpec {
  return {
    name, host: 'local', kind: 'process', start: ['true'], unit: null, cwd: '/', env: {}, stopSignal: 'SIGTERM',
    stopGraceMs: 1000, dependsOn: [], checks, runbooks: [], logMaxBytes: 1e6, logKeep: 1,
  };
}

/** Probes that answer at once (ok), counted. */
function instant() {
  let calls = 0;
  return {
    run: (): Promise<ProbeResult> => { calls++; return Promise.resolve({ ok: true, message: 'ok', latencyMs: 0, timedOut: false }); },
    get calls() { return calls; },
  };
}

/** Lets the probe's promise chain settle (it re-arms the next timer) without moving time. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Moves simulated time in small steps, letting each probe's result re-arm its timer. */
async function run(clock: SimulatedClock, ms: number, step = 10): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await settle();
  }
}

function setup(checks: CheckSpec[], runProbe = instant().run) {
  const clock = new SimulatedClock();
  const s = new CheckScheduler(clock, () => {}, { runProbe });
  s.setServices([service('api', checks)]);
  return { clock, s };
}

test('intervals are start-to-start on monotonic time', async () => {
  const probe = instant();
  const { clock, s } = setup([check({ intervalMs: 1_000 })], probe.run);
  s.start();
  await settle();
  assert.equal(probe.calls, 1, 'first probe at start');
  await run(clock, 990);
  assert.equal(probe.calls, 1);
  await run(clock, 10);
  assert.equal(probe.calls, 2, 'second probe one interval after the first');
  await run(clock, 10_000);
  assert.equal(probe.calls, 12);
  s.stop();
  assert.equal(clock.pending, 0, 'stop clears the clock timers');
});

test('a probe that never answers is timed out by the clock, and the check runs again', async () => {
  let calls = 0;
  const hang = (): Promise<ProbeResult> => { calls++; return new Promise<ProbeResult>(() => {}); };
  const { clock, s } = setup([check({ intervalMs: 5_000, timeoutMs: 300 })], hang);
  s.start();
  await run(clock, 300 + BACKSTOP_GRACE_MS - 10);
  assert.equal(s.states('api')[0]?.last, null, 'still waiting within timeout + grace');
  await run(clock, 10);
  const st = s.states('api')[0];
  assert.deepEqual([st?.healthy, st?.last?.timedOut, st?.last?.message], [false, true, 'timed out after 300 ms']);
  assert.equal(calls, 1);
  await run(clock, 5_000 - 300 - BACKSTOP_GRACE_MS);
  assert.equal(calls, 2, 'the next probe starts an interval after the hung one started');
  s.stop();
});

test('boost probes faster for its length of monotonic time, then falls back', async () => {
  const probe = instant();
  const { clock, s } = setup([check({ intervalMs: 10_000 })], probe.run);
  s.start();
  await settle();
  s.boost('api', 100, 1_000);
  await settle();
  // The boost pulls the waiting timer forward: probes at 0 (start), 100, 200, ... 1000.
  await run(clock, 1_000);
  assert.equal(probe.calls, 11);
  await run(clock, 9_000);
  assert.equal(probe.calls, 11, 'back to the 10 s interval, counted from the last boosted probe');
  await run(clock, 1_000);
  assert.equal(probe.calls, 12);
  s.stop();
});

for (const step of [HOUR, -HOUR]) {
  test(`a wall step of ${step > 0 ? '+' : '-'}1h neither fires nor starves a probe (nor ends a boost)`, async () => {
    const probe = instant();
    const { clock, s } = setup([check({ intervalMs: 1_000 })], probe.run);
    const other = instant();
    const s2 = new CheckScheduler(clock, () => {}, { runProbe: other.run });
    s2.setServices([service('web', [check({ intervalMs: 60_000 })])]);
    s.start();
    s2.start();
    s2.boost('web', 100, 1_000);
    await run(clock, 500);
    const [a0, b0] = [probe.calls, other.calls];
    assert.deepEqual([a0, b0], [1, 6]);
    clock.stepWall(step);
    await settle();
    assert.deepEqual([probe.calls, other.calls], [a0, b0], 'the step fired nothing');
    await run(clock, 490);
    assert.deepEqual([probe.calls, other.calls], [1, 10], 'the boost still runs at its pace');
    await run(clock, 10);
    assert.deepEqual([probe.calls, other.calls], [2, 11], 'the probe fires at its interval, as without a step');
    await run(clock, 2_000);
    assert.deepEqual([probe.calls, other.calls], [4, 11], 'the boost ended on time');
    // Results are stamped with the stepped wall time for records, and the monotonic time besides.
    const last = s.states('api')[0]?.last;
    assert.equal(last?.at, clock.now());
    assert.equal(last?.mono, clock.mono());
    s.stop();
    s2.stop();
  });
}
