// warden reboot HOST, applied to a real store: human-only by default (it waits for a person), a
// rule naming host.reboot decides otherwise, a rule denying it refuses, and the boot id it is to
// leave comes with the action.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PolicyRule, ResolvedConfig } from '../domain/types.js';
import { ALLOW_ALL, BOOT, M0, makeConfig, T0 } from '../testing/domain.js';
import { makeFixture } from '../runtime/testing.js';
import { applyCommand } from './commands.js';

const now = { wall: T0, mono: M0, boot: BOOT };
const BOOT_B = '6f1c0a52-3b8e-4c1e-9a55-0d9f6c2b7e11';

function withHostB(agent: ResolvedConfig['agent'], rules: PolicyRule[]): ResolvedConfig {
  const cfg = makeConfig({ agent, rules });
  return { ...cfg, hosts: [...cfg.hosts, { name: 'b', transport: 'ssh', address: '10.0.0.2', user: 'warden', port: null, identityFile: null, knownHostsFile: null, connectTimeoutMs: 2000, intervalMs: 1000, mounts: ['/'] }] };
}

test('a reboot asked for by hand waits for approval unless a rule allows host.reboot by name', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  fx.store.setFlag('host.boot:b', BOOT_B);
  // Allowing every service action is not allowing a reboot: it waits for a person.
  const r = applyCommand(fx.store, { kind: 'host', op: 'reboot', host: 'b', by: 'person:alice', reason: 'kernel update' }, now, withHostB(fx.config.agent, [ALLOW_ALL]));
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.match(r.message, /^action (A\d+) \(host\.reboot b\) awaits approval \("warden actions approve A\d+"\); it is done when b answers with a boot id other than 6f1c0a52/);
  const a = fx.store.getAction(/action (A\d+)/.exec(r.message)![1]!)!;
  assert.deepEqual([a.type, a.target, a.state, a.requestedBy, a.ticketId, a.params], ['host.reboot', 'b', 'awaiting_approval', 'person:alice', null, { bootId: BOOT_B }]);
  // A rule naming it on that host, without approval: it runs.
  const allow = withHostB(fx.config.agent, [{ match: { service: 'b', host: 'b' }, allow: ['host.reboot'], approval: 'none' }]);
  const ok = applyCommand(fx.store, { kind: 'host', op: 'reboot', host: 'b', by: 'person:alice' }, now, allow);
  assert.match(ok.ok ? ok.message : '', /\(host\.reboot b\) runs within one pass/);
});

test('a rule denying host.reboot refuses it; an unknown host is named with the known ones', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const deny = withHostB(fx.config.agent, [{ match: { service: '*', host: '*' }, allow: [], deny: ['host.reboot'], approval: 'none' }]);
  const before = fx.store.listActions({ limit: 100 }).length;
  const r = applyCommand(fx.store, { kind: 'host', op: 'reboot', host: 'b', by: 'person:alice' }, now, deny);
  assert.deepEqual(r.ok ? null : [r.code, r.message], ['POLICY_DENIED', 'policy.rules[0] (service: *) denies host.reboot on b: refused']);
  const unknown = applyCommand(fx.store, { kind: 'host', op: 'reboot', host: 'z', by: 'person:alice' }, now, deny);
  assert.deepEqual(unknown.ok ? null : unknown.message, 'no host "z" in the inventory; hosts are: local, b');
  assert.equal(fx.store.listActions({ limit: 100 }).length, before);
});

test('a reboot by hand takes the person\'s tier on the host: observe refuses (audited), repair-host follows the rules', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const allow = withHostB(fx.config.agent, [{ match: { service: 'b', host: 'b' }, allow: ['host.reboot'], approval: 'none' }]);
  const cfg: ResolvedConfig = {
    ...allow, people: [{ name: 'olive', unix: 'olive', roles: [] }, { name: 'hal', unix: 'hal', roles: ['ops'] }],
    policy: { ...allow.policy, actionTiers: { 'host.reboot': 'repair-host' }, tiers: [{ who: ['role:ops'], scope: { service: '*', host: 'b', group: '*', labels: {} }, tier: 'repair-host' }] },
  };
  const before = fx.store.listActions({ limit: 100 }).length;
  const no = applyCommand(fx.store, { kind: 'host', op: 'reboot', host: 'b', by: 'person:olive' }, now, cfg);
  assert.deepEqual(no.ok ? null : no.message, 'tier: person:olive holds observe on b (no grant in policy.tiers names it here); host.reboot needs repair-host; grant it in policy.tiers, or ask someone who holds it: refused');
  assert.equal(fx.store.listActions({ limit: 100 }).length, before);
  const last = fx.store.listAudit({ limit: 1000 }).at(-1)!;
  assert.deepEqual([last.kind, last.subject, last.data.blockedBy], ['policy.denied', 'b', 'tier']);
  const yes = applyCommand(fx.store, { kind: 'host', op: 'reboot', host: 'b', by: 'person:hal' }, now, cfg);
  assert.match(yes.ok ? yes.message : yes.message, /\(host\.reboot b\) runs within one pass/);
});
