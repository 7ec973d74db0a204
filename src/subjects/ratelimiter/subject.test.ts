// The rate-limiter subject's judgement over recorded readings (no nodes needed here;
// test/e2e/ratelimiter-subject.test.ts runs real ones): which invariant breaks, whom it blames and
// names as the root, and the repair it chooses — Redis restarted, never the nodes, when Redis dies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW_ALL, Driver, dead, makeConfig, running, service, stopped } from '../../testing/domain.js';
import type { SubjectSpec, World } from '../../domain/types.js';
import type { LimiterFacts, LimiterParams, NodeView } from './index.js';

const PARAMS: LimiterParams = {
  nodes: { n1: 'http://127.0.0.1:8091', n2: 'http://127.0.0.1:8092', n3: 'http://127.0.0.1:8093' },
  redis: 'redis', limit: 5, windowMs: 1000, p99Ms: 50, driftTolerance: 2,
};
const SPEC: SubjectSpec = { name: 'limiter', type: 'ratelimiter', host: 'local', members: ['redis', 'n1', 'n2', 'n3'], intervalMs: 250, params: { ...PARAMS } };
/** The window the nodes' per-key gauges describe. */
const W0 = Date.UTC(2025, 0, 1) - 2000;

type Answering = Extract<NodeView, { ok: true }>;
interface NodeOpts { healthz?: string | null; unsynced?: number; limit?: number; counts?: Record<string, number>; allowed?: Record<string, number>; windows?: Answering['windows']; latency?: Answering['latency'] }

/** A node that answered: healthy unless told otherwise. */
function node(name: string, o: NodeOpts = {}): NodeView {
  const window = { start: W0, allowed: o.allowed ?? { k1: 1 } };
  return {
    askedAt: Date.UTC(2025, 0, 1), ok: true, pid: 100, healthz: o.healthz ? { ok: false, text: o.healthz } : { ok: true, text: `${name}: ok` },
    metrics: { unsynced: o.unsynced ?? 0, limit: o.limit ?? 5, windowMs: 1000, window, counts: o.counts ?? { k1: 5 }, buckets: [] },
    windows: o.windows ?? [window], latency: o.latency ?? null,
  };
}
const silent: NodeView = { askedAt: Date.UTC(2025, 0, 1), ok: false, error: 'http://127.0.0.1:8092/admin/state: connect ECONNREFUSED 127.0.0.1:8092' };

const RULES = [{ ...ALLOW_ALL, allow: [...ALLOW_ALL.allow, 'ratelimiter.flush', 'ratelimiter.set-limit', 'ratelimiter.reset-counter'] }] as typeof ALLOW_ALL[];

function driver(): Driver {
  const nodes = ['n1', 'n2', 'n3'].map((n) => service(n, { dependsOn: ['redis'] }));
  return new Driver(makeConfig({ services: [service('redis'), ...nodes], subjects: [SPEC], rules: RULES }));
}

/** The world with these node views as the subject's last reading, taken (and asked) `readAgo` ms ago. */
function world(d: Driver, nodes: Record<string, NodeView>, views: Parameters<Driver['world']>[0] = {}, readAgo = 0): World {
  const asked = Object.fromEntries(Object.entries(nodes).map(([n, v]) => [n, { ...v, askedAt: d.now - readAgo }]));
  return { ...d.world(views), subjects: { limiter: { at: d.now - readAgo, facts: { nodes: asked } satisfies LimiterFacts } } };
}
const healthy = (): Record<string, NodeView> => ({ n1: node('n1'), n2: node('n2'), n3: node('n3') });
const shown = (d: Driver): string[] => [...d.actions.values()].map((a) => `${a.type} ${a.target}${Object.keys(a.params).length ? ` ${JSON.stringify(a.params)}` : ''}`);

void describe('subject: ratelimiter', () => {
  it('healthy nodes sharing a live Redis: every invariant holds', () => {
    const d = driver();
    const out = d.pass(world(d, healthy()));
    assert.equal(out.detection.subjects.limiter?.health, 'healthy');
    assert.equal(d.tickets.size, 0);
  });

  it('Redis killed: one ticket, dependency_down, root cause Redis, only Redis restarted', () => {
    const d = driver();
    const cannot = (n: string): NodeView => node(n, { healthz: `${n}: cannot reach Redis: redis 127.0.0.1:6390: ECONNREFUSED` });
    // The nodes' own checks fail too: their symptoms belong to the same ticket.
    d.pass(world(d, { n1: cannot('n1'), n2: cannot('n2'), n3: cannot('n3') }, { redis: dead(), n1: { process: running(), checks: 'failing' }, n2: { process: running(), checks: 'failing' } }));
    const t = d.onlyTicket();
    assert.equal(t.service, 'limiter');
    assert.equal(t.cause, 'dependency_down');
    assert.deepEqual(t.rootCause, { service: 'redis', host: 'local', cause: 'dependency_down' });
    const inv = t.findings.find((f) => f.kind === 'invariant_violated')!;
    assert.equal(inv.invariant, 'redis-reachable');
    assert.deepEqual(inv.blame, ['redis', 'n1', 'n2', 'n3']);
    assert.match(inv.reason, /Redis \(redis\) is down: process killed by SIGKILL; n1: n1: cannot reach Redis/);
    assert.deepEqual(t.findings.filter((f) => f.kind !== 'invariant_violated').map((f) => f.service), ['redis', 'n1', 'n2']);
    assert.deepEqual(shown(d), ['restart redis'], 'never a node');
  });

  it('Redis running but reached by no node (hung): Redis restarted; one node cut off alone: escalated, nothing restarted', () => {
    const d = driver();
    const timeout = (n: string): NodeView => node(n, { healthz: `${n}: cannot reach Redis: redis 127.0.0.1:6390: no PONG within 200 ms` });
    d.pass(world(d, { n1: timeout('n1'), n2: timeout('n2'), n3: timeout('n3') }));
    assert.equal(d.onlyTicket().rootCause?.service, 'redis');
    assert.deepEqual(shown(d), ['restart redis']);

    const e = driver();
    e.pass(world(e, { n1: node('n1'), n2: timeout('n2'), n3: node('n3') }));
    const t = e.onlyTicket();
    assert.equal(t.status, 'escalated');
    assert.equal(t.rootCause?.service, 'limiter');
    assert.match(t.reason ?? '', /n2 cannot reach Redis while the other nodes can/);
    assert.equal(e.actions.size, 0);
  });

  it('a reading from before Redis restarted says nothing of the new Redis', () => {
    const d = driver();
    const cannot = (n: string): NodeView => node(n, { healthz: `${n}: cannot reach Redis: ECONNREFUSED` });
    // Redis runs again, started after the reading was taken: that reading does not count.
    const out = d.pass(world(d, { n1: cannot('n1'), n2: cannot('n2'), n3: cannot('n3') }, { redis: running({ startedAt: d.now - 100 }) }, 200));
    assert.equal(out.detection.subjects.limiter?.health, 'healthy');
  });

  it('a node asked before it started (a deploy, a restart) is not down for having been silent then', () => {
    const d = driver();
    // The reading finished after n2 started, but n2 was asked before: its silence was the deploy's.
    const w = world(d, { n1: node('n1'), n2: silent, n3: node('n3') }, { n2: running({ startedAt: d.now - 100 }) }, 300);
    w.subjects!.limiter!.at = d.now;
    const out = d.pass(w);
    assert.equal(out.detection.subjects.limiter?.health, 'healthy');
  });

  it('a node killed, or hung and silent: that node restarted', () => {
    const d = driver();
    d.pass(world(d, { n1: node('n1'), n2: silent, n3: node('n3') }, { n2: dead() }));
    assert.equal(d.onlyTicket().cause, 'process_exited');
    assert.deepEqual(shown(d), ['restart n2']);

    const e = driver();
    e.pass(world(e, { n1: node('n1'), n2: silent, n3: node('n3') }, { n2: { process: stopped(), checks: 'timedOut' } }));
    assert.deepEqual(shown(e), ['restart n2']);
  });

  it('one node slow: performance_degraded, that node restarted; every node slow: escalated', () => {
    const slow = { lowMs: 50, highMs: 100, checks: 120 };
    const d = driver();
    d.pass(world(d, { n1: node('n1'), n2: node('n2', { latency: slow }), n3: node('n3', { latency: { lowMs: 2.5, highMs: 5, checks: 120 } }) }));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'performance_degraded');
    assert.match(t.findings[0]!.reason, /p99 over 50 ms: n2 50–100 ms over 120 checks/);
    assert.deepEqual(shown(d), ['restart n2']);

    const e = driver();
    e.pass(world(e, { n1: node('n1', { latency: slow }), n2: node('n2', { latency: slow }), n3: node('n3', { latency: slow }) }));
    assert.equal(e.onlyTicket().status, 'escalated');
    assert.equal(e.actions.size, 0);
  });

  it('a stale node: drift, data_inconsistency, the node flushed once and verified on a reading taken after the flush', () => {
    const d = driver();
    const stale = (): Record<string, NodeView> => ({ n1: node('n1', { counts: { k1: 9 } }), n2: node('n2', { counts: { k1: 9 } }), n3: node('n3', { unsynced: 4, counts: { k1: 3 } }) });
    d.pass(world(d, stale()));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'data_inconsistency');
    const f = t.findings.find((x) => x.invariant === 'drift')!;
    assert.deepEqual(f.blame, ['n3']);
    assert.equal(f.value, 6);
    assert.match(f.reason, /n3 holds 4 allows Redis has not seen, counts 3 in k1's window where the nodes' median is 9/);
    assert.deepEqual(shown(d), ['ratelimiter.flush n3']);
    d.executeAll();
    // The last reading predates the flush: it cannot tell whether the flush held. No second flush.
    d.advance(50).pass(world(d, stale(), {}, 100));
    d.advance(50).pass(world(d, stale(), {}, 150));
    assert.deepEqual(shown(d), ['ratelimiter.flush n3'], 'one flush');
    assert.equal(d.ticket(t.id).status, 'verifying');
    d.advance(250).pass(world(d, healthy()));
    d.advance(600).pass(world(d, healthy()));
    assert.equal(d.ticket(t.id).status, 'resolved');
  });

  it('counts read a moment apart within the tolerance are no drift', () => {
    const d = driver();
    const out = d.pass(world(d, { n1: node('n1', { counts: { k1: 4 } }), n2: node('n2', { counts: { k1: 5 } }), n3: node('n3', { counts: { k1: 6 } }) }));
    assert.equal(out.detection.subjects.limiter?.health, 'healthy');
  });

  it('ghost allowing: the excess measured, in the value and the evidence; a node enforcing more gets the limit back', () => {
    const d = driver();
    d.pass(world(d, {
      n1: node('n1', { limit: 15, allowed: { k1: 12, k2: 6 } }), n2: node('n2', { allowed: { k1: 1 } }), n3: node('n3', { allowed: { k1: 1, k2: 1 } }),
    }));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'data_inconsistency');
    const f = t.findings.find((x) => x.invariant === 'ghost-allowing')!;
    assert.equal(f.value, 11, 'k1 14 − 5, k2 7 − 5');
    assert.deepEqual(f.blame, ['n1']);
    assert.ok(t.diagnosis!.evidence.some((e) => e.source === 'invariant:ghost-allowing' && /ghost allowing: 11 allowed beyond the limit of 5 per 1000 ms in the window from .*: k1 14 \(n1 12, n2 1, n3 1\), k2 7 \(n1 6, n3 1\); n1 enforces 15 per 1000 ms/.test(e.fact)), JSON.stringify(t.diagnosis!.evidence));
    assert.deepEqual(shown(d), ['ratelimiter.set-limit n1 {"limit":"5"}']);
  });

  it('ghost allowing is judged on a window every node reported: nodes read across a window edge share the one before', () => {
    const d = driver();
    const older = { start: W0 - 1000, allowed: { k1: 3 } };
    const newer = { start: W0, allowed: { k1: 1 } };
    const out = d.pass(world(d, {
      n1: node('n1', { windows: [newer, older] }), n2: node('n2', { windows: [older] }), n3: node('n3', { windows: [newer, older] }),
    }));
    // In W0 − 1000 the three allowed 3 each: 9, over 5.
    const f = out.detection.findings.find((x) => x.invariant === 'ghost-allowing')!;
    assert.equal(f.value, 4);
    assert.deepEqual(f.blame, []);
    assert.equal(d.onlyTicket().status, 'escalated', 'no node to blame: a person must look');
  });
});
