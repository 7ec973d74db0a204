// The promql probe against a real Prometheus scraping a metric this test serves and changes;
// `for` runs on a simulated monotonic clock, so time is the test's to move.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { startPrometheus } from '../../demo/prometheus.js';
import { waitFor } from '../../lib/wait.js';
import { SimulatedClock } from '../../testing/clock.js';
import { advance, promql, type PromqlProbeSpec } from './promql.js';
import { instantQuery, queryUrl, samplesOf, seriesText } from './query.js';

async function listen(t: { after(fn: () => void): void }, server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.closeAllConnections());
  t.after(() => server.close());
  return (server.address() as { port: number }).port;
}

test('advance: each series pends from its first answer, fires after for, and is forgotten when gone', () => {
  const a = { labels: { __name__: 'x', i: 'a' }, value: 1 };
  const b = { labels: { __name__: 'x', i: 'b' }, value: 2 };
  let p = new Map<string, number>();
  let r = advance(p, [a], 100, 50);
  assert.deepEqual([...r.next], [['x{i="a"}', 100]]);
  assert.deepEqual([...r.firing], []);
  p = r.next;
  r = advance(p, [a, b], 150, 50);
  assert.deepEqual([...r.firing], ['x{i="a"}'], 'a has held 50 ms, b only appeared');
  p = r.next;
  r = advance(p, [b], 160, 50);
  assert.deepEqual([...r.next], [['x{i="b"}', 150]]);
  r = advance(r.next, [a], 170, 50);
  assert.deepEqual([...r.next], [['x{i="a"}', 170]], 'a left and came back: it starts over');
  assert.deepEqual([...advance(new Map(), [a], 0, 0).firing], ['x{i="a"}'], 'without for it fires at once');
});

test('series read as Prometheus prints them; a scalar is one sample, a range vector an error', () => {
  assert.equal(seriesText({ __name__: 'up', job: 'x', instance: 'a:1' }), 'up{instance="a:1",job="x"}');
  assert.equal(seriesText({ __name__: 'up' }), 'up');
  assert.equal(seriesText({ job: 'x' }), '{job="x"}');
  assert.equal(seriesText({}), '{}');
  assert.deepEqual(samplesOf({ resultType: 'scalar', result: [1, '3'] }), [{ labels: {}, value: 3 }]);
  assert.deepEqual(samplesOf({ resultType: 'vector', result: [{ metric: { a: 'b' }, value: [1, '+Inf'] }] }), [{ labels: { a: 'b' }, value: Infinity }]);
  assert.throws(() => samplesOf({ resultType: 'matrix', result: [] }), /expr gives a matrix, not an instant vector/);
  assert.equal(queryUrl('http://p:9090/prom/', 'up == 0').href, 'http://p:9090/prom/api/v1/query?query=up+%3D%3D+0');
});

test('promql: no Prometheus there, one that does not answer, and an answer too large fail with the reason', async (t) => {
  const closed = createServer();
  const closedPort = await listen(t, closed);
  closed.close();
  const spec = (url: string): PromqlProbeSpec => ({ type: 'promql', url, expr: 'up == 0', forMs: 0 });
  const refused = await promql(spec(`http://127.0.0.1:${closedPort}`), 500);
  assert.equal(refused.ok, false);
  assert.match(refused.message, new RegExp(`^cannot query Prometheus at http://127\\.0\\.0\\.1:${closedPort}: fetch failed: connect ECONNREFUSED`));

  const silent = createServer(() => undefined);
  const hung = await promql(spec(`http://127.0.0.1:${await listen(t, silent)}`), 200);
  assert.deepEqual([hung.ok, hung.timedOut, hung.message], [false, true, 'timed out after 200 ms']);

  const huge = createServer((_req, res) => res.end(`{"status":"success","data":{"resultType":"vector","result":[${'{"metric":{},"value":[1,"1"]},'.repeat(40_000)}]}}`));
  const big = await promql(spec(`http://127.0.0.1:${await listen(t, huge)}`), 2000);
  assert.equal(big.ok, false);
  assert.match(big.message, /answer is over 1 MiB: make expr select fewer series/);

  const html = createServer((_req, res) => res.end('<html>hello</html>'));
  assert.match((await promql(spec(`http://127.0.0.1:${await listen(t, html)}`), 500)).message, /answered HTTP 200 that is not JSON \(is it Prometheus\?\): <html>hello/);
});

test('promql against a real Prometheus: fires after for, clears when the condition ends, starts over', async (t) => {
  let depth = 3;
  const target = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`# TYPE lab_queue_depth gauge\nlab_queue_depth{queue="jobs"} ${depth}\n`);
  });
  const port = await listen(t, target);
  const prom = await startPrometheus([{ job: 'lab', address: `127.0.0.1:${port}` }]);
  t.after(() => prom.stop());
  const expr = 'lab_queue_depth > 10';
  /** Waits until Prometheus has scraped the new value: the probe then sees what a pass would. */
  const scraped = (n: number) => waitFor(async () => (await instantQuery(prom.url, `lab_queue_depth == ${n}`, 1000)).length === 1, 15_000, `Prometheus to scrape ${n}`, { retryErrors: true, everyMs: 100 });
  await scraped(3);

  const clock = new SimulatedClock();
  const spec: PromqlProbeSpec = { type: 'promql', url: prom.url, expr, forMs: 5000 };
  const quiet = await promql(spec, 1000, clock);
  assert.deepEqual([quiet.ok, quiet.message, quiet.value], [true, 'no series: the condition does not hold', {}]);

  depth = 50;
  await scraped(50);
  const series = `lab_queue_depth{instance="127.0.0.1:${port}",job="lab",queue="jobs"}`;
  const pending = await promql(spec, 1000, clock);
  assert.deepEqual([pending.ok, pending.message, pending.value], [true, `pending (1 series for less than 5s): ${series} 50`, { [series]: 50 }]);
  clock.advance(4999);
  assert.equal((await promql(spec, 1000, clock)).ok, true, 'still pending 1 ms before for');
  clock.advance(1);
  const firing = await promql(spec, 1000, clock);
  assert.deepEqual([firing.ok, firing.message, firing.value], [false, `firing (1 series for 5s or more): ${series} 50`, { [series]: 50 }]);

  depth = 3;
  await scraped(3);
  assert.deepEqual(await promql(spec, 1000, clock).then((r) => [r.ok, r.message]), [true, 'no series: the condition does not hold']);
  depth = 60;
  await scraped(60);
  clock.advance(60_000);
  assert.equal((await promql(spec, 1000, clock)).ok, true, 'back again: pending from the start, however long it was away');

  // Another check with the same expr keeps its own pending time; without for it fires at once.
  assert.equal((await promql({ ...spec, forMs: 0 }, 1000, clock)).ok, false);
  const bad = await promql({ ...spec, expr: 'lab_queue_depth >' }, 1000, clock);
  assert.equal(bad.ok, false);
  assert.match(bad.message, /^Prometheus answered HTTP 400: bad_data: .*parse error/);
  const range = await promql({ ...spec, expr: 'lab_queue_depth[1m]' }, 1000, clock);
  assert.match(range.message, /expr gives a matrix, not an instant vector/);
});
