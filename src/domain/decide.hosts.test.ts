// A host Warden cannot reach (issue 10, points 3-4): its services are unknown, not missing; one
// ticket for the host, whose cause says offline or partitioned; nothing is done to the host.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Driver, dead, makeConfig, service } from '../testing/domain.js';
import type { HostFacts, ResolvedConfig, World } from './types.js';

function fleet(): ResolvedConfig {
  const cfg = makeConfig({ services: [service('api', { host: 'b' }), service('db', { host: 'c' }), service('queue', { host: 'c' })] });
  const ssh = (name: string) => ({
    name, transport: 'ssh' as const, address: `${name}.lab`, user: null, port: null, identityFile: null,
    knownHostsFile: null, connectTimeoutMs: 3000, intervalMs: 2000, mounts: ['/'],
  });
  cfg.hosts = [{ name: 'local', transport: 'local' }, ssh('b'), ssh('c')];
  return cfg;
}

const up: HostFacts = { at: 0, reachable: true, reason: 'answered in 3 ms', tcp: 'connected' };

function withHosts(world: World, hosts: Record<string, HostFacts>): World {
  return { ...world, hosts };
}

describe('decide: hosts', () => {
  it('a host no peer reaches: one node_offline ticket, its services unknown, no action', () => {
    const d = new Driver(fleet());
    const off: HostFacts = { at: d.now, reachable: false, verdict: 'offline', reason: 'c does not answer (timed out) and no managed host reaches it (b: timed out after 2 s)', tcp: 'timed out', peers: [{ host: 'b', reaches: false, detail: 'timed out after 2 s' }] };
    // What the drivers last saw of c's services is stale: the units read as gone.
    const out = d.pass(withHosts(d.world({ db: dead(), queue: dead() }), { b: up, c: off }));
    assert.equal(out.detection.health.db?.health, 'unknown');
    assert.match(out.detection.health.db?.reason ?? '', /^host c is offline/);
    assert.equal(out.detection.health.queue?.health, 'unknown');
    assert.deepEqual(out.detection.problems.map((p) => p.fingerprint), ['host:c']);
    const t = d.onlyTicket();
    assert.equal(t.cause, 'node_offline');
    assert.equal(t.findings[0]?.kind, 'offline_node');
    // Nothing Warden can do but wait: the ticket stays open, saying what a person may do meanwhile.
    assert.equal(t.status, 'open');
    assert.match(t.reason ?? '', /c is offline/);
    assert.equal(d.actions.size, 0, 'nothing is done to an offline host or its services');
  });

  it('a host a peer still reaches: network_partition of Warden\'s path, no action on it', () => {
    const d = new Driver(fleet());
    const cut: HostFacts = { at: d.now, reachable: false, verdict: 'partitioned', reason: "Warden cannot reach b, but c does: the fault is on Warden's path", tcp: 'timed out', peers: [{ host: 'c', reaches: true, detail: 'connected' }] };
    d.pass(withHosts(d.world({ api: dead() }), { b: cut, c: up }));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'network_partition');
    assert.equal(t.findings[0]?.kind, 'network_partition');
    assert.deepEqual(t.diagnosis?.alternatives.map((a) => a.cause).sort(), ['config_drift', 'node_offline']);
    assert.equal(d.actions.size, 0);
  });

  it('the host answering again: its ticket is verified and resolved, and its services are judged again', () => {
    const d = new Driver(fleet());
    const off: HostFacts = { at: d.now, reachable: false, verdict: 'offline', reason: 'gone', tcp: 'timed out' };
    d.pass(withHosts(d.world(), { b: up, c: off }));
    assert.equal(d.onlyTicket().status, 'open');
    const out = d.advance(1000).pass(withHosts(d.world({ db: dead() }), { b: up, c: up }));
    assert.equal(out.detection.health.db?.health, 'missing');
    assert.ok(out.detection.problems.some((p) => p.fingerprint === 'service:c/db'));
    const host = (): string | undefined => [...d.tickets.values()].find((t) => t.service === 'c')?.status;
    assert.equal(host(), 'verifying', 'a host that came back may go again: it is verified like a repair');
    d.advance(100).pass(withHosts(d.world(), { b: up, c: up }));
    d.advance(1000).pass(withHosts(d.world(), { b: up, c: up }));
    assert.equal(host(), 'resolved');
    assert.equal([...d.actions.values()].filter((a) => a.target === 'c').length, 0);
  });

  it('a partition that heals resolves its ticket, with nothing done to the host', () => {
    const d = new Driver(fleet());
    const cut: HostFacts = { at: d.now, reachable: false, verdict: 'partitioned', reason: 'cut', tcp: 'timed out', peers: [{ host: 'c', reaches: true, detail: 'connected' }] };
    d.pass(withHosts(d.world(), { b: cut, c: up }));
    assert.equal(d.onlyTicket().status, 'open');
    assert.match(d.onlyTicket().reason ?? '', /path to b is cut/);
    for (const ms of [1000, 100, 1000]) d.advance(ms).pass(withHosts(d.world(), { b: up, c: up }));
    assert.equal(d.onlyTicket().status, 'resolved');
    assert.equal(d.actions.size, 0);
  });
});
