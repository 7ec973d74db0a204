// People's control of one service, applied to a real store: policy decides, pauses run out on
// monotonic time (a wall-clock step neither ends nor extends them), and each change is audited.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALLOW_ALL, BOOT, M0, makeConfig, T0 } from '../testing/domain.js';
import { makeFixture } from '../runtime/testing.js';
import { applyCommand, endSettled, settlePauses } from './commands.js';

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
