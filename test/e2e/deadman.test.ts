// The dead man's switch and the mutual watch on real daemons (issue 13 point 5). Warden A pings a
// heartbeat receiver — a local HTTP server standing in for healthchecks.io, recording each ping as
// the hosted service would — and Warden B watches A through A's /healthz (config `peers`). A's pass
// loop is wedged with the test-only WARDEN_WEDGE_FILE (lib/fault.ts) while A's process, API and
// timers go on: the pings stop, and B reports A unreachable. A fresh A: pings resume, B reports it back.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { cliJson, Daemon, morePasses, statusJson, waitFor } from './harness.js';

interface AuditJson { kind: string; data: { peer?: string; reason?: string } }

test('the heartbeat stops when the loop wedges, and the peer Warden reports it unreachable', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'warden-deadman-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // The stand-in for healthchecks.io: GET /ping/<uuid> → 200 "OK", each ping recorded.
  const pings: { at: number; path: string }[] = [];
  const hc = createServer((req, res) => { pings.push({ at: Date.now(), path: req.url ?? '' }); res.end('OK'); });
  await new Promise<void>((r) => hc.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { hc.closeAllConnections(); hc.close(() => r(undefined)); }));
  const hcUrl = `http://127.0.0.1:${(hc.address() as AddressInfo).port}/ping/5f3c1b2a-0000-4000-8000-000000000001`;

  const pa = await freePort();
  const [a, b] = [join(root, 'a'), join(root, 'b')];
  for (const d of [a, b]) mkdirSync(d);
  writeFileSync(join(a, 'token'), 'a-token\n', { mode: 0o600 });
  writeFileSync(join(a, 'warden.yaml'), `version: 1
agent: { name: warden-a, mode: observe, dataDir: ./data, interval: 100ms, api: { listen: "127.0.0.1:${pa}", tokenFile: ./token } }
heartbeat: { url: "${hcUrl}", every: 200ms, timeout: 1s }
`);
  writeFileSync(join(b, 'warden.yaml'), `version: 1
agent: { name: warden-b, mode: observe, dataDir: ./data, interval: 100ms }
peers:
  - { name: warden-a, url: "http://127.0.0.1:${pa}/healthz", interval: 200ms, timeout: 500ms, failures: 2 }
`);
  const wedge = join(root, 'wedge');
  let wa = new Daemon(join(a, 'warden.yaml'), [], { WARDEN_WEDGE_FILE: wedge });
  const wb = new Daemon(join(b, 'warden.yaml'));
  t.after(async () => { await wa.signal('SIGKILL'); await wb.signal('SIGKILL'); });
  await wa.start();
  await wb.start();
  const bConfig = join(b, 'warden.yaml');
  const peerEvents = async (): Promise<AuditJson[]> => cliJson<AuditJson[]>(['audit', 'list', '--kind', 'peer'], bConfig);
  const healthz = (): Promise<number | string> => fetch(`http://127.0.0.1:${pa}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status, (e: Error) => e.message);

  await waitFor(async () => pings.length >= 3, 15_000, 'three heartbeat pings');
  assert.ok(pings.every((p) => p.path === '/ping/5f3c1b2a-0000-4000-8000-000000000001'));
  // Bounded: one per `every` (200 ms) at most, though passes run every 100 ms or faster.
  for (let i = 1; i < pings.length; i++) assert.ok(pings[i]!.at - pings[i - 1]!.at >= 150, `pings ${i - 1} and ${i} ${pings[i]!.at - pings[i - 1]!.at} ms apart`);
  await waitFor(async () => (await statusJson<{ peers?: { name: string; reachable: boolean | null }[] }>(bConfig)).status.peers?.[0]?.reachable === true, 15_000, 'B reaches A');
  assert.doesNotMatch(wa.output, /5f3c1b2a/, 'the check id in the heartbeat URL is never logged');

  // Wedge A's loop: its process and API go on, no pass completes.
  writeFileSync(wedge, '');
  await waitFor(async () => wa.output.includes('the pass loop is wedged'), 10_000, 'A wedged');
  await waitFor(async () => (await healthz()) === 503, 20_000, 'A\'s /healthz says its loop is stuck');
  const afterWedge = pings.length;
  const down = await waitFor(async () => (await peerEvents()).find((e) => e.kind === 'peer.unreachable'), 20_000, 'B reports A unreachable');
  assert.equal(down.data.peer, 'warden-a');
  assert.match(down.data.reason ?? '', /^HTTP 503: no reconcile pass for \d+ ms/);
  // Counted in B's passes, not slept: no ping came while A stayed wedged.
  await morePasses(bConfig, 10);
  assert.equal(await healthz(), 503, 'A is still alive and wedged');
  assert.equal(pings.length, afterWedge, 'no ping since the loop wedged');
  const text = await statusJson<{ peers?: { reachable: boolean | null; reason: string | null }[] }>(bConfig);
  assert.equal(text.status.peers?.[0]?.reachable, false);

  // A fresh A (no wedge): pings resume and B reports A back.
  await wa.signal('SIGKILL');
  rmSync(wedge);
  wa = new Daemon(join(a, 'warden.yaml'), [], { WARDEN_WEDGE_FILE: wedge });
  await wa.start();
  await waitFor(async () => pings.length > afterWedge, 15_000, 'pings resume');
  await waitFor(async () => (await peerEvents()).some((e) => e.kind === 'peer.recovered'), 20_000, 'B reports A back');
  assert.deepEqual((await peerEvents()).map((e) => e.kind), ['peer.unreachable', 'peer.recovered']);
});
