// Mutual watch: a peer Warden's /healthz, probed over real HTTP (a local server answering as a
// Warden's /healthz does: 200, or 503 with the reason), and the pure state machine that turns
// probes into one peer.unreachable and one peer.recovered per outage.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SimulatedClock } from '../testing/clock.js';
import type { PeerSpec } from '../domain/types.js';
import { nextPeerState, PeerWatcher, probePeer, type PeerEvent, type PeerState } from './peers.js';

const spec = (url: string): PeerSpec => ({ name: 'warden-b', url, intervalMs: 1000, timeoutMs: 500, failures: 3 });

test('nextPeerState: unreachable after `failures` consecutive failures, once; recovered once when it answers', () => {
  const s0: PeerState = { name: 'warden-b', url: 'u', reachable: null, since: null, failures: 0, reason: null };
  const fail = { ok: false as const, reason: 'HTTP 503: no reconcile pass for 9000 ms' };
  let s = nextPeerState(s0, { ok: true }, 3, 100);
  assert.equal(s.event, null, 'first contact is not news');
  assert.equal(s.state.reachable, true);
  s = nextPeerState(s.state, fail, 3, 200);
  s = nextPeerState(s.state, fail, 3, 300);
  assert.equal(s.event, null, 'two failures are not an outage yet');
  s = nextPeerState(s.state, fail, 3, 400);
  assert.equal(s.event, 'peer.unreachable');
  assert.deepEqual([s.state.reachable, s.state.since, s.state.reason], [false, 400, fail.reason]);
  s = nextPeerState(s.state, fail, 3, 500);
  assert.equal(s.event, null, 'reported once per outage');
  s = nextPeerState(s.state, { ok: true }, 3, 600);
  assert.equal(s.event, 'peer.recovered');
  assert.deepEqual([s.state.reachable, s.state.since, s.state.failures], [true, 600, 0]);
});

test('probePeer: 200 is ok; 503 gives the peer\'s own reason; nobody listening gives the error', async (t) => {
  let status = 200;
  const server = createServer((_q, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(status === 200 ? { ok: true, reason: 'last pass 3 ms ago' } : { ok: false, reason: 'no reconcile pass for 9000 ms (budget 3000 ms)' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
  assert.deepEqual(await probePeer(spec(url)), { ok: true });
  status = 503;
  assert.deepEqual(await probePeer(spec(url)), { ok: false, reason: 'HTTP 503: no reconcile pass for 9000 ms (budget 3000 ms)' });
  await new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  // The first probe may meet the pooled connection closing ("other side closed"); then nobody listens.
  const first = await probePeer(spec(url));
  assert.ok(!first.ok && first.reason !== '', JSON.stringify(first));
  const down = await probePeer(spec(url));
  assert.ok(!down.ok && /ECONNREFUSED/.test(down.reason), JSON.stringify(down));
  t.diagnostic('probes go through the real network stack');
});

test('PeerWatcher probes on its own clock and reports each change', async () => {
  const clock = new SimulatedClock();
  const events: PeerEvent[] = [];
  let answer: { ok: true } | { ok: false; reason: string } = { ok: true };
  const w = new PeerWatcher({ clock, peers: () => [{ ...spec('http://peer.invalid/healthz'), failures: 2 }], onChange: (e) => events.push(e), log: () => undefined, probe: () => Promise.resolve(answer) });
  w.start();
  const step = async (): Promise<void> => { clock.advance(1000); await w.idle(); };
  await step();
  answer = { ok: false, reason: 'connect ECONNREFUSED' };
  await step();
  await step();
  answer = { ok: true };
  await step();
  w.stop();
  assert.deepEqual(events.map((e) => `${e.kind ?? 'first answer'} ${e.peer.name} ${e.peer.reason ?? ''}`.trim()), ['first answer warden-b', 'peer.unreachable warden-b connect ECONNREFUSED', 'peer.recovered warden-b']);
  assert.equal(w.states()[0]?.reachable, true);
});
