// The lab rate limiter (lab/ratelimiter.mjs) and its load generator (lab/loadgen.mjs), the subject
// Warden's rate-limiter invariants will be tried on: three real nodes sharing a real redis-server,
// under a known offered rate. Healthy, they allow exactly the limit per window; with one node's
// cache stale, the load generator and the nodes' own metrics both measure ghost allowing; with
// Redis gone, every node says so on /healthz and recovers by itself when it returns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../src/lib/wait.js';
import { get, loadgen, post, Redis, samples, startNodes, type LimiterNode } from './limiter-lab.js';

const LIMIT = 5;
const WINDOW_MS = 500;
// 2 keys at 120 checks/s: 30 checks per key per window against a limit of 5, spread over 3 nodes.
const LOAD = ['--rate', '120', '--keys', '2'];

const metrics = async (n: LimiterNode): Promise<string> => (await get(n.port, '/metrics')).text;
const gauge = (text: string, metric: string): number => samples(text, metric)[0]!.value;

test('three healthy nodes allow the limit per window and no more; /admin/limit changes it', async (t) => {
  const redis = await Redis.start(t);
  const nodes = await startNodes(t, redis, LIMIT, WINDOW_MS);

  const { windows, summary } = await loadgen(nodes, [...LOAD, '--duration', '2500ms']);
  const perKey = (full: boolean): number[] => windows.filter((w) => w.partial !== full).flatMap((w) => Object.values(w.keys).map((k) => k.allowed));
  const shown = JSON.stringify(windows.map((w) => [w.partial, Object.values(w.keys).map((k) => k.allowed)]));
  assert.equal(summary.errors, 0);
  assert.ok(summary.sent >= 290, `offered ${summary.sent} checks`);
  assert.equal(summary.excess, 0, `no ghost allowing: ${shown}`);
  assert.ok(Math.max(...perKey(true), ...perKey(false)) <= LIMIT, shown);
  assert.equal(summary.maxAllowedPerKey, LIMIT);
  // Saturated, the allows come in bursts one window apart. A window edge that cuts a burst moves
  // the allows after it into the next window (each next allow waits for a check to arrive after
  // an expiry), so a full window can fall short of the limit; on average it does not by much.
  const full = perKey(true);
  assert.ok(full.length >= 6, shown);
  assert.ok(full.reduce((a, b) => a + b, 0) / full.length >= LIMIT - 1, shown);

  // Raised on every node, the new limit is what each one allows (cached denials are dropped).
  for (const n of nodes) assert.deepEqual(await post(n.port, '/admin/limit?value=8'), { node: n.id, limit: 8, previous: LIMIT });
  for (const n of nodes) assert.equal(gauge(await metrics(n), 'ratelimiter_limit'), 8);
  const raised = await loadgen(nodes, [...LOAD, '--duration', '1500ms']);
  assert.equal(raised.summary.limit, 8);
  // More than the old limit gets through, never more than the new one (a loaded machine may not
  // offer a key eight checks in every window, so reaching exactly 8 is not required).
  const most = raised.summary.maxAllowedPerKey;
  assert.ok(most > LIMIT && most <= 8, `at most ${most} allowed per key and window`);
  assert.equal(raised.summary.excess, 0);
});

test('a node with a stale cache: ghost allowing measured by the load generator and in the metrics, gone after a flush', async (t) => {
  const redis = await Redis.start(t);
  const nodes = await startNodes(t, redis, LIMIT, WINDOW_MS);
  const stale = nodes[2]!;
  assert.deepEqual(await post(stale.port, '/admin/stale?ms=1500'), { node: 'n3', staleMs: 1500 });

  // While the load runs, scrape the three nodes until, for one window they all report, the allows
  // they made together for a key exceed the limit.
  const run = loadgen(nodes, [...LOAD, '--duration', '2500ms']);
  const seen = await waitFor(async () => {
    const texts = await Promise.all(nodes.map(metrics));
    const starts = new Set(texts.map((x) => gauge(x, 'ratelimiter_window_start_seconds')));
    if (starts.size !== 1) return undefined;
    const total = new Map<string, number>();
    for (const x of texts) for (const s of samples(x, 'ratelimiter_allowed_in_window')) total.set(s.labels.key!, (total.get(s.labels.key!) ?? 0) + s.value);
    const over = [...total].find(([, n]) => n > LIMIT);
    return over && { key: over[0], allowed: over[1], unsynced: gauge(texts[2]!, 'ratelimiter_unsynced_allows') };
  }, 4000, 'the nodes together allowing more than the limit in one window');
  const { windows, summary } = await run;
  assert.ok(seen.allowed > LIMIT, JSON.stringify(seen));
  assert.ok(summary.excess > 0, `measured excess: ${JSON.stringify(summary)}`);
  assert.ok(summary.ghostWindows >= 2, JSON.stringify(windows.map((w) => w.excess)));
  assert.ok(summary.maxAllowedPerKey > LIMIT);

  // Flushing the stale node writes its unsynced allows back to Redis and ends the staleness.
  const flushed = await post<{ syncedAllows: number; lostAllows: number }>(stale.port, '/admin/flush');
  assert.ok(flushed.syncedAllows > 0, JSON.stringify(flushed));
  assert.equal(flushed.lostAllows, 0);
  assert.equal(gauge(await metrics(stale), 'ratelimiter_unsynced_allows'), 0);
  const after = await loadgen(nodes, [...LOAD, '--duration', '1500ms']);
  assert.equal(after.summary.excess, 0, JSON.stringify(after.windows.map((w) => w.keys)));
  assert.equal(after.summary.maxAllowedPerKey, LIMIT);
});

test('Redis killed: every node answers /healthz 503 saying why, then 200 when Redis returns, not restarted', async (t) => {
  const redis = await Redis.start(t);
  const nodes = await startNodes(t, redis, LIMIT, WINDOW_MS);
  const pids = nodes.map((n) => n.proc.pid);
  for (const n of nodes) assert.equal((await get(n.port, '/healthz')).status, 200);

  await redis.kill();
  for (const n of nodes) {
    const h = await get(n.port, '/healthz');
    assert.equal(h.status, 503);
    assert.match(h.text, new RegExp(`^${n.id}: cannot reach Redis: redis 127\\.0\\.0\\.1:${redis.port}: ECONNREFUSED`));
    const c = await get(n.port, '/check?key=k');
    assert.equal(c.status, 503, 'fails closed');
    assert.match(c.text, /"error":"cannot decide: redis 127\.0\.0\.1:\d+: ECONNREFUSED"/);
    const m = await metrics(n);
    assert.ok(gauge(m, 'ratelimiter_redis_errors_total') >= 1);
    assert.equal(samples(m, 'ratelimiter_requests_total').find((s) => s.labels.decision === 'error')!.value, 1);
  }

  // The same nodes (same processes) come back by themselves: they reconnect, and Redis, which
  // forgot the Lua script, is sent it again.
  await redis.restart();
  for (const n of nodes) await waitFor(async () => (await get(n.port, '/healthz')).status === 200, 5000, `${n.id} healthy again`);
  for (const n of nodes) {
    const c = await get(n.port, '/check?key=k');
    assert.equal(c.status, 200, c.text);
  }
  assert.deepEqual(nodes.map((n) => n.proc.pid), pids);
  assert.ok(nodes.every((n) => n.proc.exitCode === null));
});

test('admin: a counter reset lets the key through again; added latency shows in the check histogram', async (t) => {
  const redis = await Redis.start(t);
  const [n1] = await startNodes(t, redis, LIMIT, 60_000);
  const check = async (): Promise<number> => (await get(n1!.port, '/check?key=reset-me')).status;
  for (let i = 0; i < LIMIT; i++) assert.equal(await check(), 200);
  assert.equal(await check(), 429);
  assert.deepEqual(await post(n1!.port, '/admin/reset?key=reset-me'), { node: 'n1', key: 'reset-me', removed: true });
  assert.equal(await check(), 200, 'the window is empty again, and the cached denial is gone');

  // With 60 ms added, a check cannot be answered within the 50 ms bucket.
  const bucket = async (): Promise<{ fast: number; all: number }> => {
    const m = await metrics(n1!);
    const b = samples(m, 'ratelimiter_check_duration_seconds_bucket');
    return { fast: b.find((s) => s.labels.le === '0.05')!.value, all: gauge(m, 'ratelimiter_check_duration_seconds_count') };
  };
  const before = await bucket();
  assert.deepEqual(await post(n1!.port, '/admin/delay?ms=60'), { node: 'n1', delayMs: 60 });
  await check();
  const after = await bucket();
  assert.equal(after.all, before.all + 1);
  assert.equal(after.fast, before.fast);
});
