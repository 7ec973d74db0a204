// Subjects' PromQL invariants on the simulated clock, against a local server that speaks
// Prometheus's query API (test/e2e/subject-promql.test.ts runs a real Prometheus): a series
// returned for `for` fires, a failed query keeps the verdict and says why, an empty answer clears,
// and only a verdict that turns wakes the loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { SimulatedClock } from '../testing/clock.js';
import { makeConfig, service } from '../testing/domain.js';
import { waitFor } from '../lib/wait.js';
import { PromqlInvariants } from './promql.js';

test('a PromQL invariant pends, fires after for, keeps its verdict through a failed query, and clears', async (t) => {
  let answer: { status: number; samples: { metric: Record<string, string>; value: number }[] } = { status: 200, samples: [] };
  const exprs: string[] = [];
  const server = createServer((req, res) => {
    exprs.push(new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '');
    res.statusCode = answer.status;
    res.setHeader('content-type', 'application/json');
    res.end(answer.status === 200
      ? JSON.stringify({ status: 'success', data: { resultType: 'vector', result: answer.samples.map((s) => ({ metric: s.metric, value: [0, String(s.value)] })) } })
      : JSON.stringify({ status: 'error', errorType: 'internal', error: 'storage is down' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => { server.closeAllConnections(); server.close(); });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const config = makeConfig({
    services: [service('r1')],
    subjects: [{ name: 'rs', type: 'group', host: 'local', members: ['r1'], params: { minHealthy: null }, intervalMs: 250,
      promql: [{ id: 'backlog', expr: 'queue_depth > 10', forMs: 1000, cause: 'performance_degraded', description: 'the queue drains' }] }],
    agent: { prometheus: url },
  });
  const clock = new SimulatedClock();
  let wakes = 0;
  const logs: string[] = [];
  const q = new PromqlInvariants({ clock, config: () => config, onChange: () => { wakes++; }, log: (l) => logs.push(l) });
  t.after(() => q.stop());
  const reading = (): { firing: boolean; message: string; value: number | null; error?: string; at: number } | undefined => q.snapshot().rs?.backlog;
  /** Moves the clock one interval and waits for that round's answer. */
  const tick = async (): Promise<void> => {
    const before = exprs.length;
    clock.advance(250);
    await waitFor(() => Promise.resolve(exprs.length > before && reading()?.at === clock.now()), 5000, 'a round answered');
  };

  q.start();
  await waitFor(() => Promise.resolve(reading() !== undefined), 5000, 'the first round');
  assert.deepEqual(exprs, ['queue_depth > 10']);
  assert.deepEqual(reading(), { at: clock.now(), firing: false, message: 'no series: the condition does not hold', value: null });
  const first = wakes;

  answer = { status: 200, samples: [{ metric: { __name__: 'queue_depth', queue: 'jobs' }, value: 50 }] };
  await tick();
  assert.equal(reading()?.firing, false);
  assert.match(reading()?.message ?? '', /^pending \(1 series for less than 1s\): queue_depth\{queue="jobs"\} 50$/);
  for (let i = 0; i < 3; i++) await tick();
  assert.equal(reading()?.firing, false, '750 ms: still pending');
  assert.equal(wakes, first, 'no verdict turned: the loop is not woken');
  await tick();
  assert.deepEqual(reading(), { at: clock.now(), firing: true, message: 'firing (1 series for 1s or more): queue_depth{queue="jobs"} 50', value: 50 });
  assert.equal(wakes, first + 1);

  answer = { status: 503, samples: [] };
  await tick();
  assert.equal(reading()?.firing, true, 'a failed query keeps the verdict');
  assert.match(reading()?.error ?? '', /^Prometheus answered HTTP 503: internal: storage is down$/);
  assert.deepEqual(logs, ['subject rs: PromQL invariant backlog: cannot ask Prometheus: Prometheus answered HTTP 503: internal: storage is down']);

  answer = { status: 200, samples: [] };
  await tick();
  assert.deepEqual(reading(), { at: clock.now(), firing: false, message: 'no series: the condition does not hold', value: null });
  assert.equal(wakes, first + 2);
});
