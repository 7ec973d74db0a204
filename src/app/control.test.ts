// People's control of one service, applied to a real store: policy decides, pauses run out on
// monotonic time (a wall-clock step neither ends nor extends them), and each change is audited.
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { actions } from '../actions/index.js';
import type { TierGrant } from '../domain/types.js';
import { ALLOW_ALL, BOOT, M0, makeConfig, T0 } from '../testing/domain.js';
import { makeFixture } from '../runtime/testing.js';
import { applyCommand, endSettled, settlePauses } from './commands.js';
import type { ControlCommand } from './control.js';

const at = (wallMs: number, monoMs: number) => ({ wall: T0 + wallMs, mono: M0 + monoMs, boot: BOOT });

test('pause --for ends on monotonic time, whatever the wall clock does, audited as the agent', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const r = applyCommand(fx.store, { kind: 'pause', service: 'web', by: 'person:bob', forMs: 2000 }, at(0, 0), fx.config);
  assert.deepEqual(r, { ok: true, message: 'web paused: Warden observes it but will not act on it for 2s' });
  // The wall clock jumps an hour ahead: still paused.
  assert.deepEqual([...settlePauses(fx.store, at(3_600_000, 1000), 'otto').keys()], ['web']);
  // Two seconds of monotonic time later, with the wall clock stepped back: over.
  assert.deepEqual([...settlePauses(fx.store, at(-3_600_000, 2000), 'otto').keys()], []);
  const audit = fx.store.listAudit({ limit: 10 }).filter((a) => a.kind.startsWith('service.'));
  assert.deepEqual(audit.map((a) => [a.kind, a.actor, a.data.reason]), [['service.paused', 'person:bob', null], ['service.resumed', 'otto', 'the pause ran out']]);
});

test('a control command is under policy: denied refuses and changes nothing; approval required waits', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const deny = makeConfig({ agent: fx.config.agent, rules: [ALLOW_ALL, { match: { service: 'web', host: '*' }, allow: [], deny: ['restart'], approval: 'none' }] });
  const before = fx.store.listActions({ limit: 100 }).length;
  const r = applyCommand(fx.store, { kind: 'service', op: 'restart', service: 'web', by: 'person:alice' }, at(0, 0), deny);
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.message, /policy\.rules\[1\] \(service: web\) denies restart on web: refused/);
  assert.equal(fx.store.listActions({ limit: 100 }).length, before);

  const approve = makeConfig({ agent: fx.config.agent, rules: [{ ...ALLOW_ALL, approval: 'required' }] });
  const ok = applyCommand(fx.store, { kind: 'service', op: 'restart', service: 'web', by: 'person:alice' }, at(0, 0), approve);
  assert.ok(ok.ok);
  const id = /action (A\d+)/.exec(ok.message)![1]!;
  const a = fx.store.getAction(id)!;
  assert.equal(a.state, 'awaiting_approval');
  assert.equal(a.requestedBy, 'person:alice');
  assert.equal(a.ticketId, null);
  assert.equal(applyCommand(fx.store, { kind: 'service', op: 'restart', service: 'nope', by: 'person:alice' }, at(0, 0), approve).ok, false);
});

test('a restart settles: paused until its action completed and the service is healthy', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const r = applyCommand(fx.store, { kind: 'service', op: 'restart', service: 'web', by: 'person:alice' }, at(0, 0), fx.config);
  assert.ok(r.ok);
  const id = /action (A\d+)/.exec(r.message)![1]!;
  endSettled(fx.store, at(100, 100), 'otto', () => true);
  assert.notEqual(fx.store.getFlag('paused:web'), null, 'not done while the restart has not run');
  fx.store.putAction({ ...fx.store.getAction(id)!, state: 'completed', finishedAt: T0 + 200 });
  endSettled(fx.store, at(300, 300), 'otto', () => false);
  assert.notEqual(fx.store.getFlag('paused:web'), null, 'not done while unhealthy');
  endSettled(fx.store, at(400, 400), 'otto', () => true);
  assert.equal(fx.store.getFlag('paused:web'), null);
});

// Issue 12 point 2 and issue 7 point 9: a person's own request is under the whole policy — the
// rules and the tier that person holds on the service (people: gives the roles). Pausing or resuming
// runs nothing, so no rule names it; it takes the service out of (or back into) automation, which
// needs `propose` on its scope. A refusal changes nothing and is audited with what refused.
const CATALOG_TIERS = Object.fromEntries(Object.values(actions).map((a) => [a.name, a.tier]));
const ANYWHERE = { service: '*', host: '*', group: '*', labels: {} };
const people = [{ name: 'olive', unix: 'olive', roles: ['viewer'] }, { name: 'pat', unix: 'pat', roles: [] }, { name: 'rex', unix: 'rex', roles: ['oncall'] }];
const tiers: TierGrant[] = [
  { who: ['otto'], scope: ANYWHERE, tier: 'repair-service' },
  { who: ['pat'], scope: { ...ANYWHERE, service: 'web' }, tier: 'propose' },
  { who: ['role:oncall'], scope: { ...ANYWHERE, service: 'web' }, tier: 'repair-service' },
];

type Want = { ok: true; state?: 'validated' | 'awaiting_approval'; paused?: boolean; says?: RegExp } | { ok: false; says: RegExp };
const TIER_ROWS: { name: string; cmd: ControlCommand; want: Want; untiered?: true }[] = [
  { name: 'observe may not restart', cmd: { kind: 'service', op: 'restart', service: 'web', by: 'person:olive' }, want: { ok: false, says: /^tier: person:olive holds observe on web \(no grant in policy.tiers names it here\); restart needs repair-service; grant it in policy.tiers, or ask someone who holds it: refused$/ } },
  { name: 'observe may not start', cmd: { kind: 'service', op: 'start', service: 'web', by: 'person:olive' }, want: { ok: false, says: /holds observe on web .*start needs repair-service/ } },
  { name: 'observe may not submit an action now', cmd: { kind: 'submit', type: 'run-runbook', service: 'web', params: { runbook: 'flush' }, at: null, by: 'person:olive' }, want: { ok: false, says: /run-runbook needs repair-service/ } },
  { name: 'observe may not pause', cmd: { kind: 'pause', service: 'web', by: 'person:olive' }, want: { ok: false, says: /^tier: person:olive holds observe on web \(no grant in policy.tiers names it here\); pause needs propose; grant it in policy.tiers, or ask someone who holds it: refused$/ } },
  { name: 'observe may not resume', cmd: { kind: 'resume', service: 'web', by: 'person:olive' }, want: { ok: false, says: /resume needs propose/ } },
  { name: 'the tier is per scope: oncall holds nothing on cache', cmd: { kind: 'pause', service: 'cache', by: 'person:rex' }, want: { ok: false, says: /person:rex holds observe on cache/ } },
  { name: 'propose: a restart waits for approval, and says why', cmd: { kind: 'service', op: 'restart', service: 'web', by: 'person:pat' }, want: { ok: true, state: 'awaiting_approval', says: /awaits approval \("warden actions approve A\d+"\): person:pat holds propose on web \(policy.tiers\[1\]\); restart needs repair-service/ } },
  { name: 'propose: a submitted action waits for approval', cmd: { kind: 'submit', type: 'run-runbook', service: 'web', params: { runbook: 'flush' }, at: null, by: 'person:pat' }, want: { ok: true, state: 'awaiting_approval' } },
  { name: 'propose may pause', cmd: { kind: 'pause', service: 'web', by: 'person:pat' }, want: { ok: true, paused: true } },
  { name: 'repair-service (by role) restarts at once', cmd: { kind: 'service', op: 'restart', service: 'web', by: 'person:rex' }, want: { ok: true, state: 'validated' } },
  { name: 'repair-service (by role) submits at once', cmd: { kind: 'submit', type: 'run-runbook', service: 'web', params: { runbook: 'flush' }, at: null, by: 'person:rex' }, want: { ok: true, state: 'validated' } },
  { name: 'repair-service may pause', cmd: { kind: 'pause', service: 'web', by: 'person:rex' }, want: { ok: true, paused: true } },
  { name: 'tiers not enforced: the rules alone decide', untiered: true, cmd: { kind: 'pause', service: 'web', by: 'person:olive' }, want: { ok: true, paused: true } },
];

void describe('a person\'s request under the rules and their tier', () => {
  for (const row of TIER_ROWS) {
    it(row.name, (t) => {
      const fx = makeFixture();
      t.after(() => fx.cleanup());
      const config = makeConfig({ agent: fx.config.agent, people, policy: { actionTiers: CATALOG_TIERS, tiers: row.untiered ? [] : tiers } });
      const before = fx.store.listActions({ limit: 100 }).length;
      const auditBefore = fx.store.listAudit({ limit: 1000 }).length;
      const r = applyCommand(fx.store, row.cmd, at(0, 0), config);
      if (!row.want.ok) {
        assert.equal(r.ok, false, r.message);
        assert.match(r.message, row.want.says);
        assert.equal(fx.store.listActions({ limit: 100 }).length, before, 'no action');
        assert.equal(fx.store.getFlag(`paused:${row.cmd.service}`), null, 'not paused');
        const audit = fx.store.listAudit({ limit: 1000 }).slice(auditBefore);
        assert.deepEqual(audit.map((a) => [a.kind, a.actor, a.subject, a.data.blockedBy, a.data.manual]), [['policy.denied', row.cmd.by, row.cmd.service, 'tier', true]], 'the refusal alone is audited');
        assert.equal(audit[0]!.data.reason, r.message.replace(/: refused$/, ''));
        return;
      }
      assert.ok(r.ok, r.message);
      if (row.want.says) assert.match(r.message, row.want.says);
      if (row.want.state) assert.equal(fx.store.getAction(/action (A\d+)/.exec(r.message)![1]!)!.state, row.want.state);
      if (row.want.paused) assert.notEqual(fx.store.getFlag(`paused:${row.cmd.service}`), null);
    });
  }

  it('a rule\'s denial of a person\'s request is audited too, naming the rule', (t) => {
    const fx = makeFixture();
    t.after(() => fx.cleanup());
    const deny = makeConfig({ agent: fx.config.agent, rules: [ALLOW_ALL, { match: { service: 'web', host: '*' }, allow: [], deny: ['restart'], approval: 'none' }] });
    const r = applyCommand(fx.store, { kind: 'service', op: 'restart', service: 'web', by: 'person:alice', override: 'person:root' }, at(0, 0), deny);
    assert.equal(r.ok, false);
    const last = fx.store.listAudit({ limit: 1000 }).at(-1)!;
    assert.deepEqual([last.kind, last.actor, last.subject, last.data.blockedBy, last.data.rule, last.data.override], ['policy.denied', 'person:alice', 'web', 'policy', 'policy.rules[1] (service: web)', 'person:root']);
  });
});
