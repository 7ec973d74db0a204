import { fakeWall } from '../testing/clock.js';
import { createServer } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckSpec, CheckState, ProbeResult, ServiceSpec } from '../domain/types.js';
import { systemClock } from '../lib/clock.js';
import { CheckScheduler } from './checks.js';
import { sleep } from '../lib/wait.js';


function check(over: Partial<CheckSpec> = {}): CheckSpec {
  return {
    id: 'tcp#0', probe: { type: 'tcp', address: '127.0.0.1:1' },
    intervalMs: 60_000, timeoutMs: 100, failures: 2, successes: 2, ...over,
  };
}

function service(name: string, checks: CheckSpec[]): ServiceSpec {
  return {
    name, host: 'local', kind: 'process', start: ['true'], unit: null, cwd: '/', env: {}, stopSignal: 'SIGTERM',
    stopGraceMs: 1000, dependsOn: [], checks, runbooks: [], logMaxBytes: 1e6, logKeep: 1,
  };
}

const result = (ok: boolean): ProbeResult => ({ ok, message: ok ? 'ok' : 'fail', latencyMs: 1, timedOut: false });

/** A probe runner the test answers by hand: each call waits until the test settles it. */
function manualRunner() {
  const pending: ((r: ProbeResult) => void)[] = [];
  let calls = 0;
  return {
    run: () => { calls++; return new Promise<ProbeResult>((r) => pending.push(r)); },
    get calls() { return calls; },
    get waiting() { return pending.length; },
    answer(ok: boolean) { const r = pending.shift(); assert.ok(r, 'no probe in flight'); r(result(ok)); },
  };
}

/** A probe runner that answers from a script, immediately. */
function scripted(answers: boolean[]) {
  let calls = 0;
  return { run: () => Promise.resolve(result(answers[calls++] ?? true)), get calls() { return calls; } };
}

function fakeClock(start = 1_000) {
  let now = start;
  return Object.assign(fakeWall(() => now), { advance: (ms: number) => { now += ms; } });
}

test('thresholds: first success is healthy; failures then successes debounce', async () => {
  const answers = [true, false, false, true, true, false];
  const runner = scripted(answers);
  const clock = fakeClock();
  const seen: CheckState[] = [];
  const s = new CheckScheduler(clock, (svc, st) => { assert.equal(svc, 'api'); seen.push(st); }, { runProbe: runner.run });
  s.setServices([service('api', [check()])]);
  assert.deepEqual(s.states('api').map((c) => c.healthy), [null]);

  const expect: [boolean | null, number, number, number | null][] = [
    // healthy, consecutiveFailures, consecutiveSuccesses, since
    [true, 0, 1, 1_000], [true, 1, 0, 1_000], [false, 2, 0, 1_020], [false, 0, 1, 1_020], [true, 0, 2, 1_040], [true, 1, 0, 1_040],
  ];
  for (const [healthy, f, ok, since] of expect) {
    await s.kick('api');
    const [st] = s.states('api');
    assert.ok(st);
    assert.deepEqual([st.healthy, st.consecutiveFailures, st.consecutiveSuccesses, st.since], [healthy, f, ok, since]);
    assert.equal(st.last?.at, clock.now());
    clock.advance(10);
  }
  // onChange fired on every result, not only on changes.
  assert.equal(seen.length, answers.length);
  // states() hands out copies.
  const copy = s.states('api')[0];
  assert.ok(copy?.last);
  copy.last.ok = !copy.last.ok;
  assert.notEqual(s.states('api')[0]?.last?.ok, copy.last.ok);
});

test('a probe Warden could not run (its own EMFILE) is not counted: the check stays as it was, blocked() says why', async () => {
  const answers: ProbeResult[] = [result(true), ...Array.from({ length: 5 }, () => ({ ...result(false), message: 'connect EMFILE 127.0.0.1:1', inconclusive: 'EMFILE' })), result(true)];
  let calls = 0;
  const s = new CheckScheduler(fakeClock(), () => {}, { runProbe: () => Promise.resolve(answers[calls++]!) });
  s.setServices([service('api', [check()])]);
  await s.kick('api');
  const before = s.states('api');
  assert.equal(s.blocked(), null);
  for (let i = 0; i < 5; i++) await s.kick('api');
  assert.deepEqual(s.states('api'), before, 'five inconclusive results changed nothing');
  assert.equal(s.blocked()?.code, 'EMFILE');
  assert.match(s.blocked()?.message ?? '', /checks cannot run: api\/tcp#0: connect EMFILE/);
  await s.kick('api');
  assert.equal(s.blocked(), null, 'a probe that ran clears it');
  assert.equal(s.states('api')[0]?.consecutiveSuccesses, 2);
});

test('a fresh check turns unhealthy only after `failures` failures', async () => {
  const s = new CheckScheduler(fakeClock(), () => {}, { runProbe: scripted([false, false, false]).run });
  s.setServices([service('api', [check({ failures: 3 })])]);
  await s.kick('api');
  await s.kick('api');
  assert.equal(s.states('api')[0]?.healthy, null);
  await s.kick('api');
  assert.equal(s.states('api')[0]?.healthy, false);
});

test('one probe in flight per check; kick waits for it instead of starting another', async (t) => {
  const runner = manualRunner();
  const s = new CheckScheduler(systemClock, () => {}, { runProbe: runner.run });
  t.after(() => s.stop());
  s.setServices([service('api', [check({ intervalMs: 5 })])]);
  s.start();
  assert.equal(runner.calls, 1, 'first run is immediate on start');
  let kicked = false;
  const k = s.kick('api').then(() => { kicked = true; });
  await sleep(30); // several intervals pass while the probe hangs
  assert.equal(runner.calls, 1);
  assert.equal(kicked, false);
  runner.answer(true);
  await k;
  assert.equal(s.states('api')[0]?.healthy, true);
});

test('each check runs on its own interval', async (t) => {
  const fast = scripted([]);
  const slowCalls: number[] = [];
  const s = new CheckScheduler(systemClock, () => {}, {
    runProbe: (p) => { if (p.type === 'exec') slowCalls.push(1); return fast.run(); },
  });
  t.after(() => s.stop());
  s.setServices([service('api', [
    check({ id: 'fast', intervalMs: 20 }),
    check({ id: 'slow', intervalMs: 1000, probe: { type: 'exec', argv: ['true'], cwd: '/' } }),
  ])]);
  s.start();
  await sleep(210);
  s.stop();
  const fastCalls = fast.calls - slowCalls.length;
  assert.ok(fastCalls >= 7 && fastCalls <= 12, `fast check ran ${fastCalls} times`);
  assert.equal(slowCalls.length, 1);
});

test('boost probes faster until the deadline, then falls back', async (t) => {
  const runner = scripted([]);
  const s = new CheckScheduler(systemClock, () => {}, { runProbe: runner.run });
  t.after(() => s.stop());
  s.setServices([service('api', [check({ intervalMs: 10_000 })]), service('other', [check({ intervalMs: 10_000 })])]);
  s.start();
  assert.equal(runner.calls, 2);
  s.boost('api', 20, 150);
  await sleep(300);
  const boosted = runner.calls - 2;
  assert.ok(boosted >= 5 && boosted <= 9, `boosted probes: ${boosted}`);
  const after = runner.calls;
  await sleep(100);
  assert.equal(runner.calls, after, 'boost ended');
});

test('reset forgets health, counts and an in-flight result from before it', async () => {
  const runner = manualRunner();
  const clock = fakeClock();
  const s = new CheckScheduler(clock, () => {}, { runProbe: runner.run });
  s.setServices([service('api', [check({ failures: 1 })])]);
  let k = s.kick('api');
  runner.answer(false);
  await k;
  assert.equal(s.states('api')[0]?.healthy, false);

  k = s.kick('api'); // started before the restart: its answer is about the old process
  clock.advance(5);
  s.reset('api');
  const st = s.states('api')[0];
  assert.deepEqual([st?.healthy, st?.consecutiveFailures, st?.consecutiveSuccesses, st?.since], [null, 0, 0, 1_005]);
  runner.answer(false);
  await k;
  assert.equal(s.states('api')[0]?.healthy, null, 'stale result ignored');
  k = s.kick('api');
  runner.answer(true);
  await k;
  assert.equal(s.states('api')[0]?.healthy, true);
});

test('stop clears timers and ignores results still in flight', async () => {
  const runner = manualRunner();
  let changes = 0;
  const s = new CheckScheduler(systemClock, () => { changes++; }, { runProbe: runner.run });
  s.setServices([service('api', [check({ intervalMs: 5 })])]);
  s.start();
  s.stop();
  runner.answer(true);
  await sleep(30);
  assert.equal(changes, 0);
  assert.equal(runner.calls, 1);
  assert.equal(s.states('api')[0]?.last, null);
});

test('setServices keeps unchanged checks, replaces changed ones, drops removed ones', async () => {
  const s = new CheckScheduler(fakeClock(), () => {}, { runProbe: scripted([]).run });
  const a = check({ id: 'a' });
  const b = check({ id: 'b' });
  s.setServices([service('api', [a, b]), service('db', [check()])]);
  await s.kick('api');
  await s.kick('db');
  s.setServices([service('api', [a, { ...b, failures: 5 }, check({ id: 'c' })])]);
  assert.deepEqual(s.states('api').map((c) => [c.id, c.healthy]), [['a', true], ['b', null], ['c', null]]);
  assert.deepEqual(s.states('db'), []);
  await s.kick('db'); // unknown service: nothing to do
});

test('a throwing onChange is reported and the scheduler keeps going', async () => {
  const errors: unknown[] = [];
  const s = new CheckScheduler(fakeClock(), () => { throw new Error('boom'); }, {
    runProbe: scripted([]).run, onError: (e) => errors.push(e),
  });
  s.setServices([service('api', [check()])]);
  await s.kick('api');
  await s.kick('api');
  assert.equal(errors.length, 2);
  assert.equal(s.states('api')[0]?.consecutiveSuccesses, 2);
});

test('with real probes: a tcp check goes healthy then unhealthy when the port closes', async (t) => {
  const server = createServer((c) => c.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const changes: CheckState[] = [];
  const s = new CheckScheduler(systemClock, (_svc, st) => changes.push(st));
  t.after(() => s.stop());
  s.setServices([service('cache', [check({ probe: { type: 'tcp', address: `127.0.0.1:${port}` }, intervalMs: 20, failures: 2 })])]);
  s.start();
  await sleep(50);
  assert.equal(s.states('cache')[0]?.healthy, true);
  await new Promise((r) => server.close(r));
  await sleep(80);
  const st = s.states('cache')[0];
  assert.equal(st?.healthy, false);
  assert.match(st?.last?.message ?? '', /ECONNREFUSED/);
  assert.ok(changes.length >= 4);
});

test('slowerThan: an expected answer later than the bound fails as slow, saying the bound; within it, it passes', async () => {
  const { applyResult } = await import('./checks.js');
  const spec = check({ failures: 1, slowerThanMs: 50 });
  const fresh: CheckState = { id: 'tcp#0', type: 'tcp', healthy: null, consecutiveFailures: 0, consecutiveSuccesses: 0, last: null, since: null };
  const answered = (latencyMs: number): ProbeResult => ({ ok: true, message: 'answered "+PONG"', latencyMs, timedOut: false });

  const quick = applyResult(fresh, spec, answered(12), 1_000);
  assert.deepEqual([quick.healthy, quick.last?.ok, quick.last?.slowerThanMs], [true, true, undefined]);
  const slow = applyResult(quick, spec, answered(123.4), 1_200);
  assert.deepEqual([slow.healthy, slow.consecutiveFailures, slow.last?.ok, slow.last?.timedOut, slow.last?.slowerThanMs, slow.last?.latencyMs], [false, 1, false, false, 50, 123.4]);
  // The message carries the bound (configuration), not the time measured: the same world, the same text.
  assert.equal(slow.last?.message, 'answered "+PONG", but slower than 50 ms');
  // A failure is a failure whatever its time; no bound, no slowness.
  assert.equal(applyResult(quick, spec, { ...answered(500), ok: false, message: 'refused' }, 1_300).last?.slowerThanMs, undefined);
  assert.equal(applyResult(quick, check({ failures: 1 }), answered(5_000), 1_300).healthy, true);
});
