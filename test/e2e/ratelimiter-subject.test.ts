// The rate-limiter subject through the real daemon: a real redis-server and three real
// lab/ratelimiter.mjs nodes, all started and supervised by Warden as `kind: process` services, and
// the real load generator. Redis killed: one ticket whose root cause is Redis, Redis restarted, the
// nodes back by themselves (same pids). A stale node: drift, flushed, verified. A node enforcing a
// higher limit: ghost allowing, with the measured excess in the evidence, the limit set back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, requireRedis } from '../../src/demo/lab.js';
import { LIMIT, LIMITER_POLICY, limiterServices, limiterSubject, NODES } from '../../src/demo/scenarios/ratelimiter.js';
import { startLab, waitFor, type LabRun, type TicketJson } from './harness.js';
import { get, loadgen, post } from './limiter-lab.js';


interface Limiter { run: LabRun; ports: Record<string, number>; redisPort: number }

/** Redis and three nodes as Warden services, one `limiter` subject over them; healthy and settled. */
async function startLimiter(t: { after(fn: () => Promise<void>): void }): Promise<Limiter> {
  requireRedis();
  const redisPort = await freePort();
  const ports: Record<string, number> = {};
  for (const n of NODES) ports[n] = await freePort();
  const run = await startLab({
    noWorker: true,
    extraServices: limiterServices(redisPort, ports),
    subjects: limiterSubject(ports),
    policy: LIMITER_POLICY,
  });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['redis', ...NODES]);
  return { run, ports, redisPort };
}

const limiterTicket = async (run: LabRun, cause: string): Promise<TicketJson> =>
  waitFor(async () => (await run.tickets()).find((x) => x.service === 'limiter' && x.status === 'resolved' && x.cause === cause), 30_000, `the limiter ticket (${cause}) resolved`);

interface Diagnosed { diagnosis: { evidence: { source: string; fact: string }[] } | null; findings: { kind: string; invariant?: string; value?: number; blame?: string[] }[] }

test('Redis killed: one ticket, root cause Redis, Redis restarted, the nodes healthy again without a restart', async (t) => {
  const { run } = await startLimiter(t);
  const pids = NODES.map((n) => run.pid(n));
  const before = new Set((await run.actions()).map((a) => a.id));
  process.kill(run.pid('redis'), 'SIGKILL');

  const ticket = await limiterTicket(run, 'dependency_down');
  assert.deepEqual(ticket.rootCause && [ticket.rootCause.service, ticket.rootCause.cause], ['redis', 'dependency_down']);
  const actions = (await run.actions()).filter((a) => !before.has(a.id));
  assert.deepEqual(actions.map((a) => `${a.type} ${a.target} ${a.state}`), ['restart redis completed'], 'Redis only, never a node');
  await run.waitSettled(['redis', ...NODES]);
  // (The lab's own cache and web run beside it; only the limiter's services count here.)
  const tickets = (await run.tickets()).filter((x) => ['limiter', 'redis', ...NODES].includes(x.service));
  assert.deepEqual(tickets.map((x) => x.service), ['limiter'], `one ticket: ${JSON.stringify(tickets.map((x) => [x.service, x.cause]))}`);
  assert.deepEqual(NODES.map((n) => run.pid(n)), pids, 'the same node processes');
});

test('a stale node: counter drift detected, the node flushed, verified', async (t) => {
  const { run, ports } = await startLimiter(t);
  assert.deepEqual(await post(ports.n3!, '/admin/stale?ms=5000'), { node: 'n3', staleMs: 5000 });
  // A load well under the limit: the stale node's allows drift from Redis, and no window goes over.
  const load = loadgen(NODES.map((n) => ({ port: ports[n]! })), ['--rate', '12', '--keys', '3', '--duration', '6s']);

  const ticket = await limiterTicket(run, 'data_inconsistency');
  const drift = (ticket as unknown as Diagnosed).findings.find((f) => f.invariant === 'drift');
  assert.deepEqual(drift?.blame, ['n3']);
  const actions = (await run.actions()).filter((a) => a.ticketId === ticket.id);
  assert.deepEqual(actions.map((a) => `${a.type} ${a.target} ${a.state}`), ['ratelimiter.flush n3 completed']);
  // Flushed: the node asks Redis again and holds nothing Redis has not seen.
  assert.equal((JSON.parse((await get(ports.n3!, '/admin/state')).text) as { staleMs: number }).staleMs, 0);
  assert.match((await get(ports.n3!, '/metrics')).text, /^ratelimiter_unsynced_allows\{node="n3"\} 0$/m);
  assert.equal((await load).summary.errors, 0);
});

test('a node enforcing a higher limit: ghost allowing with the measured excess in the evidence, the limit set back', async (t) => {
  const { run, ports } = await startLimiter(t);
  await post(ports.n1!, '/admin/limit?value=15');
  // Saturating: 60 checks per key per window against a limit of 5.
  const load = loadgen(NODES.map((n) => ({ port: ports[n]! })), ['--rate', '240', '--keys', '2', '--duration', '8s', '--limit', String(LIMIT)]);

  const ticket = await limiterTicket(run, 'data_inconsistency') as TicketJson & Diagnosed;
  const fact = ticket.diagnosis?.evidence.find((e) => e.source === 'invariant:ghost-allowing')?.fact ?? '';
  const excess = Number(/ghost allowing: (\d+) allowed beyond the limit of 5 per 500 ms/.exec(fact)?.[1]);
  assert.ok(excess > 0, `the measured excess in the evidence: ${JSON.stringify(ticket.diagnosis?.evidence)}`);
  assert.match(fact, /n1 enforces 15 per 500 ms/);
  const actions = (await run.actions()).filter((a) => a.ticketId === ticket.id);
  assert.deepEqual(actions.map((a) => `${a.type} ${a.target} ${a.state}`), ['ratelimiter.set-limit n1 completed']);
  assert.equal((JSON.parse((await get(ports.n1!, '/admin/state')).text) as { limit: number }).limit, LIMIT);
  // The load generator measured the same fault from outside, and its end is within the limit again.
  const { windows, summary } = await load;
  assert.ok(summary.excess > 0, JSON.stringify(summary));
  assert.equal(windows.filter((w) => !w.partial).at(-1)?.excess, 0, JSON.stringify(windows.map((w) => w.excess)));
});
