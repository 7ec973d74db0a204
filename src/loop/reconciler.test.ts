// The reconciler with a real store (SQLite in a temp dir), a scripted world and the simulated
// clock: commands reach the one writer, diagnosis is an asynchronous effect, and `reconcile --once`
// reads the store the way the daemon does.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCommand } from '../app/commands.js';
import { rulesDiagnoser, type Diagnoser } from '../diagnosis/diagnoser.js';
import { diagnose } from '../diagnosis/rules.js';
import { decideSettled } from '../domain/settle.js';
import { dead, makeConfig, running, worldOf, type ServiceView } from '../testing/domain.js';
import type { ProcessState, ResolvedConfig, World } from '../domain/types.js';
import { Store } from '../store/store.js';
import { SimulatedClock } from '../testing/clock.js';
import { DiagnosisRunner } from './diagnosis.js';
import { Reconciler, readDecideInput } from './reconciler.js';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

interface Rig {
  store: Store;
  clock: SimulatedClock;
  config: ResolvedConfig;
  views: Record<string, ProcessState | ServiceView>;
  reconciler: Reconciler;
  runner: DiagnosisRunner;
  calls: string[];
  /** One pass and its effects, as the daemon runs them. */
  pass: () => ReturnType<Reconciler['pass']>;
  world: () => World;
}

function rig(config: ResolvedConfig, diagnoser: Diagnoser = rulesDiagnoser): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'warden-reconciler-'));
  dirs.push(dir);
  const store = Store.open(dir);
  const clock = new SimulatedClock();
  const calls: string[] = [];
  const r = { store, clock, config, views: {}, calls } as unknown as Rig;
  r.world = () => worldOf(config, clock.now(), r.views);
  r.runner = new DiagnosisRunner({
    diagnoser: { name: diagnoser.name, diagnose: (b, s) => { calls.push(b.problem.service); return diagnoser.diagnose(b, s); } },
    clock, timeoutMs: 60_000,
    gather: (req) => ({ ticketId: req.ticketId, key: req.key, config, world: r.world(), problem: req.problem, now: clock.now(), logTail: [] }),
    onAnswer: (a) => r.reconciler.answer(a),
  });
  r.reconciler = new Reconciler({ store, config: () => config, now: () => ({ wall: clock.now(), mono: clock.mono(), boot: 'boot-1' }), observe: r.world, diagnosing: () => r.runner.diagnosing });
  r.pass = () => {
    const res = r.reconciler.pass();
    for (const req of res.out.diagnose) r.runner.run(req);
    return res;
  };
  return r;
}

/** Lets promise callbacks (a diagnoser's answer) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('reconciler', () => {
  it('diagnosis is an effect: the ticket is diagnosing until the answer, then planned', async () => {
    const r = rig(makeConfig());
    r.views = { cache: dead() };
    const first = r.pass();
    assert.equal(first.out.execute.length, 0, 'nothing runs before the diagnosis');
    assert.equal(r.store.getTicket('T1')?.status, 'diagnosing');
    await settle();
    const second = r.pass();
    assert.equal(r.store.getTicket('T1')?.cause, 'process_exited');
    assert.equal(second.out.execute.length, 1);
    assert.equal(r.store.getAction(second.out.execute[0]!)?.type, 'restart');
  });

  it('asks the diagnoser again only when the evidence changes', async () => {
    const r = rig(makeConfig({ mode: 'observe' }));
    r.views = { cache: dead() };
    for (let i = 0; i < 10; i++) { r.pass(); await settle(); r.clock.advance(100); }
    assert.deepEqual(r.calls, ['cache'], 'ten passes over the same evidence: one diagnosis');
    r.views = { cache: running(), web: { process: running(), checks: 'timedOut' } };
    r.pass(); await settle(); r.pass();
    assert.deepEqual(r.calls, ['cache', 'web'], 'new evidence (another root): asked again');
  });

  it('a diagnoser that takes 5 s slows neither passes nor other tickets', async () => {
    const config = makeConfig({ services: ['a', 'b'].map((n) => ({ ...makeConfig().services[0]!, name: n })) });
    let release: () => void = () => undefined;
    const slow: Diagnoser = {
      name: 'slow',
      diagnose: (bundle) => bundle.problem.service === 'a'
        ? new Promise((resolve) => { release = () => resolve(diagnose(bundle)); })
        : Promise.resolve(diagnose(bundle)),
    };
    const r = rig(config, slow);
    r.clock.setTimeout(() => release(), 5000);
    r.views = { a: dead(), b: dead() };
    r.pass();
    await settle();
    // b is answered at once and repaired while a is still being diagnosed; passes keep completing.
    const passes: number[] = [];
    let bAction: string | undefined;
    for (let i = 0; i < 20; i++) {
      const res = r.pass();
      passes.push(i);
      bAction ??= res.out.execute.find((id) => r.store.getAction(id)?.target === 'b');
      r.clock.advance(100);
      await settle();
    }
    assert.equal(passes.length, 20);
    assert.ok(bAction, 'b is planned while a waits');
    assert.equal(r.store.getTicket('T1')?.service, 'a');
    assert.equal(r.store.getTicket('T1')?.status, 'diagnosing', 'a waits for its diagnoser (2 s in)');
    r.clock.advance(3000);
    await settle();
    const res = r.pass();
    assert.equal(r.store.getTicket('T1')?.cause, 'process_exited');
    assert.ok(res.out.execute.some((id) => r.store.getAction(id)?.target === 'a'), 'a is planned once answered');
  });

  it('a command queued while the daemon runs is applied at the start of its next pass', async () => {
    const r = rig(makeConfig());
    r.store.enqueueCommand(JSON.stringify({ kind: 'freeze', by: 'person:alice', reason: 'maintenance' }), r.clock.now());
    r.views = { cache: dead() };
    const res = r.pass();
    assert.deepEqual(res.commands.map((c) => [c.cmd.kind, c.result.ok]), [['freeze', true]]);
    await settle();
    const next = r.pass();
    assert.deepEqual(next.out.execute, [], 'frozen in the same pass the command was applied');
    assert.equal(r.store.pendingCommands().length, 0);
  });

  it('reconcile --once agrees with the daemon after a person resolves a ticket', async () => {
    const r = rig(makeConfig({ limits: [{ action: 'restart', per: 'service', max: 1, windowMs: 600_000 }] }));
    // One repair uses up the limit; the service dies again; the ticket escalates.
    r.views = { cache: dead() };
    r.pass(); await settle();
    const planned = r.pass().out.execute[0]!;
    r.store.transaction(() => {
      const a = r.store.getAction(planned)!;
      r.store.putAction({ ...a, state: 'executing', attempts: 1, startedAt: r.clock.now() });
    });
    r.store.transaction(() => r.store.putAction({ ...r.store.getAction(planned)!, state: 'completed', finishedAt: r.clock.now() }));
    r.clock.advance(100);
    r.views = { cache: dead([{ at: r.clock.now(), code: null, signal: 'SIGKILL', uptimeMs: 50 }]) };
    for (let i = 0; i < 4; i++) { r.pass(); await settle(); r.clock.advance(10); }
    assert.equal(r.store.getTicket('T1')?.status, 'escalated');
    const once = (): string[] => decideSettled(readDecideInput(r.store, { ...r.config, agent: { ...r.config.agent, mode: 'recommend' } }, r.world(), { wall: r.clock.now(), mono: r.clock.mono(), boot: 'boot-1' }), (req) => ({
      ticketId: req.ticketId, key: req.key, diagnosis: diagnose({ config: r.config, world: r.world(), problem: req.problem, now: r.clock.now(), logTail: [] }),
    })).report.recommendations.filter((x) => x.target === 'cache').map((x) => `${x.event} ${x.action ?? '-'}`);
    assert.deepEqual(once(), ['reconcile_blocked -']);
    // A person looked at it and resolved it: the count restarts, so the daemon acts again...
    assert.ok(applyCommand(r.store, { kind: 'resolve', ticketId: 'T1', by: 'person:alice', reason: 'fixed the disk' }, { wall: r.clock.now(), mono: r.clock.mono(), boot: 'boot-1' }).ok);
    r.clock.advance(10);
    // ...and reconcile --once says the same instead of "limit reached".
    assert.deepEqual(once(), ['reconcile_required restart']);
    r.pass(); await settle();
    const acted = r.pass();
    assert.ok(acted.out.execute.some((id) => r.store.getAction(id)?.target === 'cache'), 'the daemon restarts cache');
  });
});
