// The dead man's switch against a local HTTP server standing in for healthchecks.io (it records
// each ping's method and path, as the hosted service would): bounded to one ping per `every` on the
// monotonic clock, one at a time, never waited for by the pass that starts it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SimulatedClock } from '../testing/clock.js';
import type { HeartbeatSpec } from '../domain/types.js';
import { Heartbeat } from './heartbeat.js';

async function receiver(t: { after: (fn: () => Promise<void>) => void }, answer: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => { r.end('OK'); }): Promise<{ url: string; pings: { method: string; path: string; body: string }[] }> {
  const pings: { method: string; path: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => { pings.push({ method: req.method ?? '', path: req.url ?? '', body }); answer(req, res); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping/4b1a0c2e`, pings };
}

function heartbeat(spec: HeartbeatSpec | null, clock: SimulatedClock, lines: string[] = []): Heartbeat {
  return new Heartbeat({ clock, spec: () => spec, agent: () => 'otto', log: (l) => lines.push(l) });
}

test('at most one ping per `every`: passes in between start none', async (t) => {
  const r = await receiver(t);
  const clock = new SimulatedClock();
  const hb = heartbeat({ url: r.url, method: 'GET', everyMs: 60_000, timeoutMs: 2000 }, clock);
  assert.equal(hb.passed(), true, 'the first healthy pass pings');
  await hb.idle();
  for (const ms of [1000, 30_000, 28_999]) {
    clock.advance(ms);
    assert.equal(hb.passed(), false, `${clock.mono()}: within every`);
  }
  clock.advance(1);
  assert.equal(hb.passed(), true, 'every has passed');
  await hb.idle();
  assert.deepEqual(r.pings.map((p) => `${p.method} ${p.path}`), ['GET /ping/4b1a0c2e', 'GET /ping/4b1a0c2e']);
});

test('POST carries a one-line body; a slow receiver holds one ping in flight, never two', async (t) => {
  const held: ServerResponse[] = [];
  const r = await receiver(t, (_q, res) => { held.push(res); });
  const clock = new SimulatedClock();
  const hb = heartbeat({ url: r.url, method: 'POST', everyMs: 1000, timeoutMs: 60_000 }, clock);
  assert.equal(hb.passed(), true);
  await waitUntil(() => r.pings.length === 1);
  clock.advance(5000);
  assert.equal(hb.passed(), false, 'the first is still in flight');
  for (const res of held) res.end('OK');
  await hb.idle();
  assert.equal(hb.passed(), true);
  await waitUntil(() => r.pings.length === 2);
  for (const res of held) if (!res.writableEnded) res.end('OK');
  await hb.idle();
  assert.equal(r.pings[0]!.method, 'POST');
  assert.match(r.pings[0]!.body, /^otto: pass completed at \d{4}-/);
});

test('a failing receiver is logged once when it starts failing and once when it recovers; the URL path is never logged', async (t) => {
  let status = 500;
  const r = await receiver(t, (_q, res) => { res.statusCode = status; res.end(); });
  const clock = new SimulatedClock();
  const lines: string[] = [];
  const hb = heartbeat({ url: r.url, method: 'GET', everyMs: 10, timeoutMs: 2000 }, clock, lines);
  for (let i = 0; i < 3; i++) { hb.passed(); await hb.idle(); clock.advance(10); }
  status = 200;
  hb.passed();
  await hb.idle();
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0]!, /^heartbeat: ping to http:\/\/127\.0\.0\.1:\d+ failed: HTTP 500; pinging on/);
  assert.match(lines[1]!, /^heartbeat: ping to http:\/\/127\.0\.0\.1:\d+ answered again/);
  assert.ok(lines.every((l) => !l.includes('4b1a0c2e')), 'the check id in the URL is a secret');
});

test('no heartbeat configured: nothing is sent', () => {
  assert.equal(heartbeat(null, new SimulatedClock()).passed(), false);
});

async function waitUntil(fn: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !fn(); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 100 && !fn(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(fn(), 'condition never held');
}
