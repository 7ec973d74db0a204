// Watching the watcher: two Wardens list each other as a service, checked through /healthz. Kill
// one and its peer brings it back; then the other way round.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { Store } from '../../src/store/store.js';
import { cliJson, gone, WARDEN, waitFor, type TicketJson } from './harness.js';

function peerConfig(me: string, myPort: number, peer: string, peerPort: number, peerConfigPath: string, dir: string): string {
  return `version: 1
agent:
  name: ${me}
  mode: execute
  dataDir: ${join(dir, 'data')}
  interval: 500ms
  verify: { stable: 500ms, deadline: 20s }
  api: { listen: "127.0.0.1:${myPort}", tokenFile: ${join(dir, 'token')} }
services:
  - name: ${peer}
    kind: process
    start: [node, ${WARDEN}, --config, ${peerConfigPath}, run]
    stopGrace: 5s
    checks:
      - http: { url: "http://127.0.0.1:${peerPort}/healthz" }
        interval: 250ms
        timeout: 200ms
        failures: 2
policy:
  rules: [{ match: { service: "*" }, allow: [start, restart] }]
`;
}

const healthy = (port: number): Promise<boolean> =>
  fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(300) }).then((r) => r.status === 200, () => false);

function pidOf(dataDir: string, service: string): number | null {
  const s = Store.open(dataDir, { readonly: true });
  try { return s.getProcess(service)?.pid ?? null; } finally { s.close(); }
}

test('two Wardens watching each other: kill one, the other brings it back', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'warden-peers-'));
  const [pa, pb] = [await freePort(), await freePort()];
  const a = { dir: join(root, 'a'), cfg: join(root, 'a', 'warden.yaml'), port: pa };
  const b = { dir: join(root, 'b'), cfg: join(root, 'b', 'warden.yaml'), port: pb };
  for (const x of [a, b]) { mkdirSync(x.dir); writeFileSync(join(x.dir, 'token'), 'peer-token\n', { mode: 0o600 }); }
  writeFileSync(a.cfg, peerConfig('warden-a', pa, 'warden-b', pb, b.cfg, a.dir));
  writeFileSync(b.cfg, peerConfig('warden-b', pb, 'warden-a', pa, a.cfg, b.dir));
  t.after(() => {
    // Each Warden's store knows the pid of its peer: kill both, then remove everything.
    for (const [d, svc] of [[join(a.dir, 'data'), 'warden-b'], [join(b.dir, 'data'), 'warden-a']] as const) {
      try { const pid = pidOf(d, svc); if (pid) process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(root, { recursive: true, force: true });
  });

  // Start A by hand, exactly as its peer would; A starts B; B finds A running and adopts it.
  const first = spawn('node', [WARDEN, '--config', a.cfg, 'run'], { stdio: 'ignore', detached: true });
  first.unref();
  t.after(() => { try { process.kill(first.pid!, 'SIGKILL'); } catch { /* gone */ } });
  await waitFor(async () => (await healthy(pa)) && (await healthy(pb)), 20_000, 'both Wardens healthy');
  await waitFor(async () => pidOf(join(b.dir, 'data'), 'warden-a') === first.pid, 10_000, 'B adopted A');

  // Kill A: B sees it die, restarts it, verifies it through its /healthz.
  process.kill(first.pid!, 'SIGKILL');
  const tb = await waitFor(async () => (await cliJson<TicketJson[]>(['tickets', 'list', '--all'], b.cfg)).find((x) => x.service === 'warden-a' && x.status === 'resolved'), 20_000, 'B repaired A');
  assert.equal(tb.cause, 'process_exited');
  assert.ok(await healthy(pa), 'A answers again');
  const newA = pidOf(join(b.dir, 'data'), 'warden-a')!;
  assert.notEqual(newA, first.pid);

  // Kill B: the new A (which adopted B from its store) brings it back.
  const oldB = pidOf(join(a.dir, 'data'), 'warden-b')!;
  process.kill(oldB, 'SIGKILL');
  const ta = await waitFor(async () => (await cliJson<TicketJson[]>(['tickets', 'list', '--all'], a.cfg)).find((x) => x.service === 'warden-b' && x.status === 'resolved'), 20_000, 'A repaired B');
  assert.equal(ta.cause, 'process_exited');
  assert.ok(await healthy(pb));
  assert.ok(gone(oldB));
});
