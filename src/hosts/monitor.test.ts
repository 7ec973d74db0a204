// The host monitor against a real sshd: a reading, and a host that stops answering.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SshHostSpec } from '../domain/types.js';
import { systemClock } from '../lib/clock.js';
import { sshdUnavailable, TestSshd } from '../testing/sshd.js';
import { SshTransport } from '../transport/ssh.js';
import { HOST_FAILURES, HostMonitor } from './monitor.js';

describe('host monitor', { skip: sshdUnavailable() ?? false }, () => {
  let sshd: TestSshd;
  let dir: string;
  let t: SshTransport;
  let spec: SshHostSpec;
  const boots: [string | null, string][] = [];
  const changes: string[] = [];
  let monitor: HostMonitor;
  before(async () => {
    sshd = await TestSshd.start();
    dir = mkdtempSync(join(tmpdir(), 'warden-mon-'));
    spec = { name: 'h1', transport: 'ssh', address: '127.0.0.1', user: sshd.user, port: sshd.port, identityFile: sshd.identityFile, knownHostsFile: sshd.knownHostsFile, connectTimeoutMs: 1000, intervalMs: 60_000, mounts: ['/'] };
    t = new SshTransport(spec, { controlDir: join(dir, 'ctl') });
    monitor = new HostMonitor({
      clock: systemClock, transport: () => t, log: () => undefined, lastBoot: () => null,
      onChange: (h) => changes.push(h), onBoot: (_h, from, to) => boots.push([from, to]),
    });
    monitor.setHosts([spec]);
  });
  after(async () => {
    await t.close();
    await sshd.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads boot id, load, memory, disks and clock offset in one round trip', async () => {
    await monitor.probeNow('h1');
    const f = monitor.snapshot().h1;
    assert.ok(f?.reachable, f?.reason);
    assert.match(f.tcp, /connected in \d+ ms/);
    assert.match(f.bootId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(boots, [[null, f.bootId]], 'the first boot id is handed over to be remembered');
    assert.equal(f.load?.length, 3);
    assert.ok((f.memory?.availableKb ?? 0) > 0);
    assert.equal(f.disks?.[0]?.mount, '/');
    // The same machine's clock: off by less than the round trip.
    assert.ok(Math.abs(f.clockOffsetMs ?? Infinity) <= (f.rttMs ?? 0) + 1, `offset ${f.clockOffsetMs} rtt ${f.rttMs}`);
  });

  it(`a host that stops answering is offline after ${HOST_FAILURES} failed round trips, with nobody to ask`, async () => {
    await sshd.stop();
    await t.close();
    t = new SshTransport(spec, { controlDir: join(dir, 'ctl2') });
    await monitor.probeNow('h1');
    assert.equal(monitor.snapshot().h1?.reachable, true, 'one failure is not an outage');
    await monitor.probeNow('h1');
    const f = monitor.snapshot().h1;
    assert.equal(f?.reachable, false);
    assert.equal(f.verdict, 'offline');
    assert.match(f.reason, /does not answer .*refused.* and no other managed host could be asked/i);
    assert.deepEqual(changes, ['h1', 'h1']);
  });
});
