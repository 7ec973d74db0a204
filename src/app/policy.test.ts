// Policy in people's commands, on a real store: approving takes the action's tier on its target,
// and a freeze --for lifts by itself, audited.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALLOW_ALL, BOOT, M0, makeConfig, T0 } from '../testing/domain.js';
import { makeFixture } from '../runtime/testing.js';
import { applyCommand, FROZEN_FLAG, settleFreeze } from './commands.js';

const at = (wallMs: number) => ({ wall: T0 + wallMs, mono: M0 + wallMs, boot: BOOT });
const ANY = { service: '*', host: '*', group: '*', labels: {} };

test('an identity without the tier on the target cannot approve; one with it can', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const config = makeConfig({
    agent: fx.config.agent, rules: [{ ...ALLOW_ALL, approval: 'required' }],
    people: [{ name: 'alice', unix: 'alice', roles: ['viewer'] }, { name: 'bob', unix: 'bob', roles: ['oncall'] }, { name: 'carol', unix: 'carol', roles: ['viewer'] }],
    policy: { actionTiers: { restart: 'repair-service' }, tiers: [{ who: ['role:viewer'], scope: ANY, tier: 'propose' }, { who: ['role:oncall'], scope: ANY, tier: 'repair-service' }] },
  });
  // carol holds propose: she may ask (a person's request takes their tier too), not decide.
  const req = applyCommand(fx.store, { kind: 'service', op: 'restart', service: 'web', by: 'person:carol' }, at(0), config);
  assert.ok(req.ok, JSON.stringify(req));
  const id = /action (A\d+)/.exec(req.message)![1]!;
  const no = applyCommand(fx.store, { kind: 'approve', actionId: id, by: 'person:alice' }, at(1), config);
  assert.deepEqual(no, { ok: false, code: 'APPROVAL_REFUSED', message: 'person:alice holds propose on web (by policy.tiers[0]); approving restart needs repair-service; a person with that tier approves it' });
  assert.equal(fx.store.getAction(id)!.state, 'awaiting_approval');
  const yes = applyCommand(fx.store, { kind: 'approve', actionId: id, by: 'person:bob' }, at(2), config);
  assert.ok(yes.ok, JSON.stringify(yes));
  assert.equal(fx.store.getAction(id)!.state, 'validated');
});

test('freeze --for lifts by itself when it runs out, audited as the agent', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const r = applyCommand(fx.store, { kind: 'freeze', by: 'person:bob', reason: 'deploy', forMs: 60_000 }, at(0), fx.config);
  assert.deepEqual(r, { ok: true, message: 'frozen: no action will start (deploy); until 2025-01-01T00:01:00.000Z, or "warden unfreeze"' });
  assert.deepEqual(settleFreeze(fx.store, at(59_999), 'otto'), { reason: 'deploy', until: T0 + 60_000 });
  assert.equal(settleFreeze(fx.store, at(60_000), 'otto'), null);
  assert.equal(fx.store.getFlag(FROZEN_FLAG), null);
  const audit = fx.store.listAudit({ limit: 10 }).filter((a) => a.kind.startsWith('agent.'));
  assert.deepEqual(audit.map((a) => [a.kind, a.actor]), [['agent.frozen', 'person:bob'], ['agent.unfrozen', 'otto']]);
});
