// Scheduled actions through the store, the people's command path and the reconciler, on a
// simulated clock: submitted for a time, kept across a restart of the daemon (a new reconciler on
// the same store), gated by the policy as it is when they are due, and never run once cancelled.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCommand, type Command } from '../app/commands.js';
import { ALLOW_ALL, makeConfig, running, worldOf } from '../testing/domain.js';
import type { ResolvedConfig } from '../domain/types.js';
import { Store } from '../store/store.js';
import { SimulatedClock } from '../testing/clock.js';
import { Reconciler } from './reconciler.js';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function rig(): { store: Store; clock: SimulatedClock; cfg: { config: ResolvedConfig }; daemon: () => Reconciler; submit: (cmd: Command) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-schedule-'));
  dirs.push(dir);
  const store = Store.open(dir);
  const clock = new SimulatedClock();
  const cfg = { config: makeConfig({ agent: { dataDir: dir } }) };
  const now = (): { wall: number; mono: number; boot: string } => ({ wall: clock.now(), mono: clock.mono(), boot: 'boot-1' });
  // Every service healthy: nothing but the schedule acts.
  const world = (): ReturnType<typeof worldOf> => worldOf(cfg.config, clock.now(), { cache: running(), web: running() });
  const daemon = (): Reconciler => new Reconciler({ store, config: () => cfg.config, now, observe: world, diagnosing: () => new Set() });
  const submit = (cmd: Command): string => {
    const r = applyCommand(store, cmd, now(), cfg.config);
    if (!r.ok) throw new Error(r.message);
    return r.message;
  };
  return { store, clock, cfg, daemon, submit };
}

const restartWeb = (at: { inMs: number } | { wall: number }): Command => ({ kind: 'submit', type: 'restart', service: 'web', params: {}, at, by: 'person:alice' });

void describe('scheduled actions', () => {
  it('run when due and not before, across a restart of the daemon', () => {
    const { store, clock, daemon, submit } = rig();
    assert.match(submit(restartWeb({ inMs: 10 * 60_000 })), /^action A1 \(restart web\) scheduled for 2025-01-01T00:10:00\.000Z/);
    let d = daemon();
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      assert.deepEqual(d.pass().out.execute, [], `not due after ${i + 1} min`);
    }
    assert.equal(store.getAction('A1')?.state, 'scheduled');
    d = daemon(); // Warden restarted: the schedule is in the store
    clock.advance(5 * 60_000 - 1);
    assert.deepEqual(d.pass().out.execute, []);
    clock.advance(1);
    const out = d.pass().out;
    assert.deepEqual(out.execute, ['A1']);
    assert.equal(store.getAction('A1')?.state, 'validated');
    assert.ok(out.audit.some((i) => i.kind === 'action.due' && i.subject === 'A1'));
  });

  it('an ISO time is a wall-clock instant; a time that has passed is refused', () => {
    const { store, clock, daemon, submit } = rig();
    assert.throws(() => submit(restartWeb({ wall: clock.now() - 1 })), /has passed; give a later time/);
    submit(restartWeb({ wall: clock.now() + 60_000 }));
    clock.advance(60_000);
    daemon().pass();
    assert.equal(store.getAction('A1')?.state, 'validated');
  });

  it('a cancelled schedule never runs', () => {
    const { store, clock, daemon, submit } = rig();
    submit(restartWeb({ inMs: 60_000 }));
    assert.match(submit({ kind: 'cancel', actionId: 'A1', by: 'person:bob', reason: 'not tonight' }), /A1 \(restart web\) cancelled/);
    const d = daemon();
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      assert.deepEqual(d.pass().out.execute, []);
    }
    assert.equal(store.getAction('A1')?.state, 'cancelled');
    assert.equal(store.getAction('A1')?.error, 'cancelled by person:bob: not tonight');
  });

  it('is gated by the policy as it is when due: a rule that now denies cancels it, a freeze defers it', () => {
    const { store, clock, cfg, daemon, submit } = rig();
    submit(restartWeb({ inMs: 60_000 }));
    submit({ kind: 'submit', type: 'restart', service: 'cache', params: {}, at: { inMs: 60_000 }, by: 'person:alice' });
    cfg.config = makeConfig({ agent: { dataDir: cfg.config.agent.dataDir }, rules: [ALLOW_ALL, { ...ALLOW_ALL, match: { service: 'web', host: '*' }, allow: [], deny: ['restart'] }] });
    submit({ kind: 'freeze', by: 'person:carol', reason: 'release' });
    clock.advance(60_000);
    const d = daemon();
    const out = d.pass().out;
    assert.deepEqual(out.execute, []);
    assert.equal(store.getAction('A1')?.state, 'cancelled');
    assert.match(store.getAction('A1')?.error ?? '', /^due, but not allowed now: policy\.rules\[1\] \(service: web\) denies restart on web/);
    assert.ok(out.audit.some((i) => i.kind === 'policy.denied' && i.subject === 'A1'));
    assert.deepEqual(out.refused.map((r) => [r.by, r.target]).sort(), [['freeze', 'cache'], ['rule', 'web']], 'each refusal reported once');
    assert.deepEqual(d.pass().out.refused, [], 'not again while the freeze stands');
    assert.equal(store.getAction('A2')?.state, 'scheduled', 'frozen: it waits');
    assert.match(store.getAction('A2')?.error ?? '', /^due; deferred: frozen/);
    submit({ kind: 'unfreeze', by: 'person:carol' });
    assert.deepEqual(d.pass().out.execute, ['A2']);
  });

  it('a bad action or bad params are refused when submitted', () => {
    const { submit } = rig();
    assert.throws(() => submit({ kind: 'submit', type: 'restart', service: 'web', params: { recreate: 'maybe' }, at: { inMs: 1000 }, by: 'person:alice' }), /invalid params for restart: recreate: /);
    assert.throws(() => submit({ kind: 'submit', type: 'restart', service: 'nope', params: {}, at: { inMs: 1000 }, by: 'person:alice' }), /no service "nope"/);
  });
});
