// Hosts as status and debug show them: from the facts the daemon keeps in the store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyCommand } from '../app/commands.js';
import type { HostFacts, ResolvedConfig } from '../domain/types.js';
import { apiStatus } from '../runtime/diagnostics.js';
import { hostBundle, renderHostBundle } from '../runtime/hostdebug.js';
import { makeFixture } from '../runtime/testing.js';
import { BOOT, M0, T0 } from '../testing/domain.js';
import { HOST_FACTS_PREFIX, hostLine } from './hosts.js';

const BOOT_B = '6f1c0a52-3b8e-4c1e-9a55-0d9f6c2b7e11';

function withHostB(cfg: ResolvedConfig): ResolvedConfig {
  return {
    ...cfg,
    hosts: [...cfg.hosts, { name: 'b', transport: 'ssh', address: '10.0.0.2', user: 'warden', port: null, identityFile: null, knownHostsFile: null, connectTimeoutMs: 2000, intervalMs: 1000, mounts: ['/'] }],
    services: cfg.services.map((s) => (s.name === 'web' ? { ...s, host: 'b' } : s)),
  };
}

const FACTS: HostFacts = {
  at: T0, reachable: true, reason: 'answered in 3 ms', tcp: '10.0.0.2:22: connected in 1 ms', bootId: BOOT_B, load: [0.5, 0.25, 0.1],
  memory: { totalKb: 1000, availableKb: 250 }, disks: [{ mount: '/', usedPct: 41, inodesUsedPct: 7 }], clockOffsetMs: -12, rttMs: 3,
};

test('status lists the hosts (when there is more than the local one) with what their probe last read', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  assert.equal(apiStatus({ config: fx.config, store: fx.store, now: T0 }).hosts, undefined, 'only Warden\'s own host: no host section');
  const cfg = withHostB(fx.config);
  fx.store.setFlag(HOST_FACTS_PREFIX + 'b', JSON.stringify(FACTS));
  const hosts = apiStatus({ config: cfg, store: fx.store, now: T0 }).hosts!;
  assert.deepEqual(hosts.map((h) => [h.name, h.transport, h.reachable]), [['local', 'local', null], ['b', 'ssh', true]]);
  assert.deepEqual(hosts[1], {
    name: 'b', transport: 'ssh', address: '10.0.0.2', reachable: true, verdict: null, reason: 'answered in 3 ms', seenAt: new Date(T0).toISOString(),
    bootId: BOOT_B, load: [0.5, 0.25, 0.1], memory: { totalKb: 1000, availableKb: 250, availablePct: 25 }, disks: [{ mount: '/', usedPct: 41, inodesUsedPct: 7 }],
    clockOffsetMs: -12, rttMs: 3, ticket: null, findings: [],
  });
  assert.equal(hostLine(hosts[1]!), 'load 0.50 0.25 0.10, mem 25% free, / 41% (inodes 7%), clock -12 ms, boot 6f1c0a52');
});

test('debug HOST: its facts, the services on it and the actions on it', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const cfg = withHostB(fx.config);
  fx.store.setFlag(HOST_FACTS_PREFIX + 'b', JSON.stringify({ ...FACTS, reachable: false, verdict: 'offline', reason: 'b does not answer' }));
  assert.ok(applyCommand(fx.store, { kind: 'host', op: 'reboot', host: 'b', by: 'person:alice' }, { wall: T0, mono: M0, boot: BOOT }, cfg).ok);
  const b = hostBundle(cfg, fx.store, 'b')!;
  assert.deepEqual([b.host.reachable, b.host.verdict], [false, 'offline']);
  assert.deepEqual(b.services.map((s) => s.name), ['web']);
  assert.deepEqual(b.actions.map((a) => [a.type, a.state, a.requestedBy]), [['host.reboot', 'awaiting_approval', 'person:alice']]);
  assert.match(renderHostBundle(b), /^host b \(ssh 10\.0\.0\.2\): UNREACHABLE .*\n {2}offline: b does not answer\n/);
  assert.equal(hostBundle(cfg, fx.store, 'nope'), null);
});
