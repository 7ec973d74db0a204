import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_FAILED_REPAIRS, decide } from './decide.js';
import {
  ALLOW_ALL, Driver, T0, dead, exitAt, makeConfig, neverRan, running, runbook, service, spawnFailed, stopped,
  type ConfigOptions, type ServiceView,
} from '../testing/domain.js';
import type { ProcessState, Ticket } from './types.js';

type Views = Record<string, ProcessState | ServiceView>;

const failing: ServiceView = { process: running(), checks: 'failing' };
const pending: ServiceView = { process: running(), checks: 'pending' };

function driver(opts: ConfigOptions = {}): Driver {
  return new Driver(makeConfig(opts));
}

/**
 * Steps one whole repair: a pass that sees `broken` and plans, the executor runs what it was asked,
 * the service comes back, verification holds for the stable period and the ticket resolves.
 */
function repairOnce(d: Driver, broken: Views, step = 10): Ticket {
  const out = d.pass(broken);
  assert.equal(out.execute.length, 1, `one action to execute, got ${JSON.stringify(out.execute)}`);
  d.executeAll();
  d.advance(step).pass(); // remediating → verifying
  d.advance(step).pass(); // healthy: stability starts
  d.advance(d.config.agent.verifyStableMs).pass();
  const t = d.ticket(d.action(out.execute[0]!).ticketId!);
  assert.equal(t.status, 'resolved', `resolved after the stable period (${t.status}: ${t.reason ?? ''})`);
  return t;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

void describe('decide: a dead process', () => {
  it('opens one ticket (process_exited) with a validated restart to execute now', () => {
    const d = driver();
    const out = d.pass({ cache: dead() });
    const t = d.onlyTicket();
    assert.equal(t.id, 'T1');
    assert.equal(t.fingerprint, 'service:local/cache');
    assert.equal(t.service, 'cache');
    assert.equal(t.cause, 'process_exited');
    assert.deepEqual(t.rootCause, { service: 'cache', host: 'local', cause: 'process_exited' });
    assert.equal(t.confidence, 0.95);
    assert.equal(t.status, 'remediating');
    assert.equal(t.openedAt, T0);
    assert.equal(t.diagnosedAt, T0);
    assert.deepEqual(t.findings, [{ kind: 'missing_service', service: 'cache', host: 'local', reason: 'process killed by SIGKILL' }]);
    assert.deepEqual(t.actionIds, ['A1']);

    const a = d.action('A1');
    assert.deepEqual(a, {
      id: 'A1', ticketId: 'T1', type: 'restart', target: 'cache', params: {}, state: 'validated', attempts: 0, maxAttempts: 3,
      idempotencyKey: 'T1#1/1:restart:cache', requestedBy: 'otto', approvedBy: null, createdAt: T0, startedAt: null,
      finishedAt: null, notBefore: null, error: null,
    });
    assert.deepEqual(out.execute, ['A1']);
    assert.deepEqual(out.audit.map((i) => i.kind), ['ticket.opened', 'ticket.diagnosed', 'action.proposed', 'ticket.status']);
    assert.equal(out.report.summary, 'reconciling');
    assert.deepEqual(out.report.recommendations, [
      { event: 'reconcile_required', action: 'restart', target: 'cache', reason: 'process killed by SIGKILL' },
    ]);
  });

  it('does not plan or execute again while the restart is executing', () => {
    const d = driver();
    d.pass({ cache: dead() });
    d.startAction('A1');
    const out = d.advance(10).pass({ cache: dead() });
    assert.deepEqual(out.execute, []);
    assert.deepEqual(out.tickets, []);
    assert.deepEqual(out.actions, []);
    assert.equal(d.actions.size, 1);
    assert.equal(d.onlyTicket().status, 'remediating');
  });

  it('retries a validated action only once its backoff has passed', () => {
    const d = driver();
    d.pass({ cache: dead() });
    // The executor's first attempt failed in a retryable way: back to validated with a notBefore.
    Object.assign(d.action('A1'), { state: 'validated', attempts: 1, startedAt: T0, notBefore: T0 + 400, error: 'boom' });
    assert.deepEqual(d.advance(100).pass({ cache: dead() }).execute, []);
    assert.deepEqual(d.advance(300).pass({ cache: dead() }).execute, ['A1']);
  });

  it('completed → verifying → healthy for the stable period → resolved, and not before', () => {
    const d = driver();
    d.pass({ cache: dead() });
    d.startAction('A1');
    d.advance(20).completeAction('A1');

    let out = d.advance(10).pass({ cache: pending });
    let t = d.onlyTicket();
    assert.equal(t.status, 'verifying');
    assert.equal(t.reason, 'verifying restart of cache');
    assert.deepEqual(t.verification, { startedAt: T0 + 30, deadline: T0 + 30 + 30_000, healthySince: null });
    assert.deepEqual(out.execute, []);

    d.advance(20).pass({ cache: pending }); // checks not in yet: unknown is not healthy
    assert.equal(d.onlyTicket().verification?.healthySince, null);

    d.advance(50).pass(); // T0+100: healthy from now on
    t = d.onlyTicket();
    assert.equal(t.status, 'verifying');
    assert.equal(t.verification?.healthySince, T0 + 100);

    d.advance(499).pass();
    assert.equal(d.onlyTicket().status, 'verifying', 'not resolved before the stable period');

    out = d.advance(1).pass();
    t = d.onlyTicket();
    assert.equal(t.status, 'resolved');
    assert.equal(t.reason, 'healthy for 500 ms after repair');
    assert.equal(t.resolvedAt, T0 + 600);
    assert.equal(t.verification, null);
    assert.ok(out.audit.some((i) => i.kind === 'ticket.verified' && i.data.healthyForMs === 500));
    assert.equal(out.report.summary, 'nominal');
    assert.equal(d.actions.size, 1, 'one restart in all');
  });

  it('a blip during verification restarts the stable period', () => {
    const d = driver();
    d.pass({ cache: dead() });
    d.executeAll();
    d.advance(10).pass();
    d.advance(10).pass();
    assert.equal(d.onlyTicket().verification?.healthySince, T0 + 20);
    d.advance(300).pass({ cache: failing });
    assert.equal(d.onlyTicket().verification?.healthySince, null);
    d.advance(300).pass();
    assert.equal(d.onlyTicket().verification?.healthySince, T0 + 620);
    d.advance(499).pass();
    assert.equal(d.onlyTicket().status, 'verifying');
    d.advance(1).pass();
    assert.equal(d.onlyTicket().status, 'resolved');
  });

  it('the process gone again during verification is a failed repair: replanned with a new action', () => {
    const d = driver();
    d.pass({ cache: dead() });
    d.executeAll();
    d.advance(10).pass();
    assert.equal(d.onlyTicket().status, 'verifying');

    const out = d.advance(10).pass({ cache: dead([exitAt(T0 + 15, { code: 1 }), exitAt(T0 - 1, { signal: 'SIGKILL' })]) });
    const t = d.onlyTicket();
    assert.equal(t.failedRepairs, 1);
    assert.equal(t.status, 'remediating');
    assert.deepEqual(t.actionIds, ['A1', 'A2']);
    assert.deepEqual(out.execute, ['A2']);
    const a2 = d.action('A2');
    assert.equal(a2.type, 'restart');
    assert.notEqual(a2.idempotencyKey, d.action('A1').idempotencyKey);
    assert.ok(out.audit.some((i) => i.kind === 'ticket.verification_failed' && i.data.failedRepairs === 1));
  });

  it('not healthy by the verification deadline: escalated, naming the deadline', () => {
    const d = driver({ agent: { verifyDeadlineMs: 5000 } });
    d.pass({ cache: dead() });
    d.executeAll();
    d.advance(10).pass({ cache: pending });
    d.advance(5000).pass({ cache: failing });
    assert.equal(d.onlyTicket().status, 'verifying');
    const out = d.advance(1).pass({ cache: failing });
    const t = d.onlyTicket();
    assert.equal(t.status, 'escalated');
    assert.match(t.reason ?? '', /^cache not healthy within 5000 ms after repair: check tcp#0 failing/);
    assert.deepEqual(out.execute, []);
    assert.equal(out.report.summary, 'unstable');
  });

  it('a failed action escalates the ticket with its error', () => {
    const d = driver();
    d.pass({ cache: dead() });
    d.startAction('A1');
    d.failAction('A1', 'spawn redis-server EACCES');
    const out = d.advance(10).pass({ cache: dead() });
    assert.equal(d.onlyTicket().status, 'escalated');
    assert.equal(d.onlyTicket().reason, 'action A1 (restart cache) failed: spawn redis-server EACCES');
    assert.deepEqual(out.execute, []);
    assert.deepEqual(d.advance(10).pass({ cache: dead() }).execute, [], 'left alone afterwards');
  });
});

void describe('decide: dependencies', () => {
  it('dependency down: ONE ticket rooted at the dependency; only the dependency gets an action', () => {
    const d = driver({ worker: true });
    const out = d.pass({ cache: dead(), web: failing, worker: failing });
    const t = d.onlyTicket();
    assert.equal(t.service, 'cache');
    assert.equal(t.cause, 'process_exited');
    assert.deepEqual(t.findings.map((f) => [f.service, f.kind, f.dependencyDown]), [
      ['cache', 'missing_service', undefined],
      ['web', 'unhealthy_service', 'cache'],
      ['worker', 'unhealthy_service', 'web'],
    ]);
    assert.deepEqual([...d.actions.values()].map((a) => `${a.type} ${a.target}`), ['restart cache']);
    assert.deepEqual(out.execute, ['A1']);
    assert.deepEqual(out.report.recommendations, [
      { event: 'reconcile_blocked', action: null, target: 'web', reason: 'root cause is cache; waiting for it to recover' },
      { event: 'reconcile_blocked', action: null, target: 'worker', reason: 'root cause is cache; waiting for it to recover' },
      { event: 'reconcile_required', action: 'restart', target: 'cache', reason: 'process killed by SIGKILL' },
    ]);
  });

  it('dependents slow to recover stay on the dependency\'s ticket while it is verified, then it resolves alone', () => {
    const d = driver({ worker: true });
    d.pass({ cache: dead(), web: failing, worker: failing });
    d.executeAll();
    d.advance(10).pass({ web: failing, worker: failing });
    d.advance(10).pass({ web: failing });
    const t = d.onlyTicket();
    assert.equal(t.status, 'verifying');
    assert.deepEqual(t.findings.map((f) => f.service), ['web']);
    d.advance(500).pass();
    assert.equal(d.onlyTicket().status, 'resolved');
    assert.equal(d.actions.size, 1);
  });

  it('a dependent still failing once its dependency is repaired and resolved gets a ticket of its own', () => {
    const d = driver();
    d.pass({ cache: dead(), web: failing });
    d.executeAll();
    d.advance(10).pass({ web: failing });
    d.advance(10).pass({ web: failing });
    d.advance(500).pass({ web: failing });
    assert.equal(d.ticket('T1').status, 'resolved');
    const out = d.advance(10).pass({ web: failing });
    const t2 = d.ticket('T2');
    assert.equal(t2.service, 'web');
    assert.equal(t2.cause, 'process_hung');
    assert.deepEqual(out.execute, ['A2']);
    assert.equal(d.action('A2').target, 'web');
  });

  it('a dependency that recovers by itself while its ticket is open does not escalate it or rewrite its cause', () => {
    // Recommend mode: the ticket stays open with a proposal; cache then comes back on its own while
    // web is one pass slower. Nothing failed and nobody acted: no escalation, no "unknown" cause.
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: dead(), web: failing });
    assert.equal(d.ticket('T1').cause, 'process_exited');
    d.advance(500).pass({ web: failing });
    const t = d.ticket('T1');
    assert.notEqual(t.status, 'escalated', `not escalated (${t.reason ?? ''})`);
    assert.equal(t.cause, 'process_exited');
    d.advance(500).pass();
    assert.equal(d.ticket('T1').status, 'resolved');
    assert.equal(d.action('A1').state, 'cancelled');
    assert.equal(d.tickets.size, 1);
  });

  it('the same holds under the kill switch', () => {
    const d = driver();
    d.frozen = true;
    d.pass({ cache: dead(), web: failing });
    d.advance(500).pass({ web: failing });
    const t = d.ticket('T1');
    assert.notEqual(t.status, 'escalated', `not escalated (${t.reason ?? ''})`);
    assert.equal(t.cause, 'process_exited');
    d.advance(500).pass();
    assert.equal(d.ticket('T1').status, 'resolved');
    assert.equal(d.actions.size, 0);
  });
});

void describe('decide: causes and their repairs', () => {
  it('a SIGSTOP-ed process with timed-out checks is process_hung, repaired by a restart', () => {
    const d = driver();
    const out = d.pass({ cache: { process: stopped(), checks: 'timedOut' } });
    const t = d.onlyTicket();
    assert.equal(t.cause, 'process_hung');
    assert.deepEqual(t.findings.map((f) => f.kind), ['unhealthy_service']);
    assert.deepEqual(out.execute, ['A1']);
    assert.equal(d.action('A1').type, 'restart');
    assert.deepEqual(out.report.recommendations[0], {
      event: 'reconcile_recommended', action: 'restart', target: 'cache', reason: 'check tcp#0 failing: timed out after 300 ms',
    });
  });

  it('three exits in the window is a crash_loop: restarted, and the summary says unstable', () => {
    const d = driver();
    const out = d.pass({ cache: dead([exitAt(T0 - 100, { uptimeMs: 90 }), exitAt(T0 - 5000, { uptimeMs: 90 }), exitAt(T0 - 30_000, { uptimeMs: 90 })]) });
    assert.equal(d.onlyTicket().cause, 'crash_loop');
    assert.deepEqual(out.execute, ['A1']);
    assert.equal(out.report.summary, 'unstable');
  });

  it('ENOSPC: resource_exhausted, escalated with no automatic action', () => {
    const d = driver();
    const logs = { cache: ['saving', 'write failed: ENOSPC: no space left on device'] };
    const out = d.pass({ cache: dead() }, { logs });
    const t = d.onlyTicket();
    assert.equal(t.cause, 'resource_exhausted');
    assert.equal(t.status, 'escalated');
    assert.equal(t.reason, 'no automatic repair for cause resource_exhausted; a person must act');
    assert.deepEqual(t.actionIds, []);
    assert.deepEqual(out.execute, []);
    assert.equal(d.actions.size, 0);
    assert.equal(out.report.summary, 'unstable');
    assert.ok(out.report.findings.some((f) => f.kind === 'unresolved_incident' && f.service === 'cache'));
    assert.deepEqual(out.report.recommendations.map((r) => [r.event, r.action, r.target]), [['reconcile_blocked', null, 'cache']]);
    const again = d.advance(1000).pass({ cache: dead() }, { logs });
    assert.deepEqual(again.execute, []);
    assert.equal(d.actions.size, 0);
  });

  it('ENOSPC with a runbook declared for it: run-runbook, validated and executed', () => {
    const d = driver({ override: { cache: { runbooks: [runbook('free-disk', ['resource_exhausted'])] } } });
    const out = d.pass({ cache: dead() }, { logs: { cache: ['ENOSPC'] } });
    const a = d.action('A1');
    assert.equal(a.type, 'run-runbook');
    assert.deepEqual(a.params, { runbook: 'free-disk' });
    assert.equal(a.state, 'validated');
    assert.deepEqual(out.execute, ['A1']);
    assert.equal(d.onlyTicket().status, 'remediating');
  });

  it('a repair that did not hold is diagnosed again from what the log says now, once its exit is recorded', () => {
    const d = driver({ override: { cache: { runbooks: [runbook('free-disk', ['resource_exhausted'])] } } });
    const killed = dead();
    d.pass({ cache: killed });
    assert.equal(d.action('A1').type, 'restart', 'a kill looks like a plain exit');
    d.executeAll();
    d.advance(100).pass({ cache: running() });
    assert.equal(d.onlyTicket().status, 'verifying');
    // The restarted process died at once (ENOSPC). While its exit is not recorded (a zombie), its
    // code is unknown: the diagnosis waits for it rather than judge from the old exit history.
    const logs = { cache: ['write failed: ENOSPC: no space left on device'] };
    const waiting = d.advance(100).pass({ cache: { ...killed, exitPending: true } }, { logs });
    assert.equal(d.onlyTicket().status, 'diagnosing');
    assert.deepEqual(waiting.execute, []);
    const out = d.advance(1).pass({ cache: dead([exitAt(d.now - 1, { code: 1 }), ...killed.exits]) }, { logs });
    assert.equal(d.onlyTicket().cause, 'resource_exhausted');
    assert.deepEqual(out.execute.map((id) => d.action(id).type), ['run-runbook']);
  });

  it('a ticket whose symptom is attributed to a broken dependency for a moment is not resolved as recovered', () => {
    const d = driver({ rules: [{ match: { service: '*', host: '*' }, allow: ['start', 'restart'], approval: 'required' }] });
    d.pass({ web: dead() });
    const t = d.onlyTicket();
    assert.equal(t.status, 'awaiting_approval');
    // cache fails its checks for a moment: web's finding moves under cache's problem.
    d.advance(100).pass({ web: dead(), cache: { process: running(), checks: 'timedOut' } });
    assert.equal(d.ticket(t.id).status, 'awaiting_approval', 'web is still down: nothing recovered');
    assert.equal(d.action('A1').state, 'awaiting_approval');
  });

  it('a chain: the runbook first, then the restart, each gated; verified after the last step', () => {
    const d = driver({ override: { cache: { runbooks: [runbook('free-disk', ['resource_exhausted'])] } } });
    const logs = { cache: ['ENOSPC'] };
    let out = d.pass({ cache: dead() }, { logs });
    assert.deepEqual(out.execute, ['A1']);
    d.executeAll(out);
    out = d.advance(100).pass({ cache: dead() }, { logs });
    assert.equal(d.action('A2').type, 'restart', 'the next step of the chain');
    assert.deepEqual(out.execute, ['A2']);
    assert.equal(d.onlyTicket().status, 'remediating');
    d.executeAll(out);
    d.advance(100).pass({ cache: running() }, { logs });
    assert.equal(d.onlyTicket().status, 'verifying');
    d.advance(100).pass({ cache: running() }, { logs }); // first healthy observation
    d.advance(600).pass({ cache: running() }, { logs }); // stable for longer than 500 ms
    assert.equal(d.onlyTicket().status, 'resolved');
    assert.equal(d.actions.size, 2);
  });

  it('a runbook the policy does not allow is escalated with the policy\'s reason', () => {
    const d = driver({
      override: { cache: { runbooks: [runbook('free-disk', ['resource_exhausted'])] } },
      rules: [{ match: { service: '*', host: '*' }, allow: ['start', 'restart'], approval: 'none' }],
    });
    const out = d.pass({ cache: dead() }, { logs: { cache: ['ENOSPC'] } });
    assert.equal(d.onlyTicket().status, 'escalated');
    assert.equal(d.onlyTicket().reason, 'policy allows no run-runbook on cache; leaving cache alone');
    assert.ok(out.audit.some((i) => i.kind === 'policy.denied'));
    assert.deepEqual(out.execute, []);
  });

  it('EMFILE: resource_exhausted repaired by a restart', () => {
    const d = driver();
    const out = d.pass({ cache: dead() }, { logs: { cache: ['accept EMFILE: too many open files'] } });
    assert.equal(d.onlyTicket().cause, 'resource_exhausted');
    assert.deepEqual(out.execute, ['A1']);
    assert.equal(d.action('A1').type, 'restart');
  });

  it('a start command that fails is config_drift: escalated for a person', () => {
    const d = driver();
    const out = d.pass({ cache: spawnFailed() });
    assert.equal(d.onlyTicket().cause, 'config_drift');
    assert.equal(d.onlyTicket().findings[0]?.kind, 'failed_deployment');
    assert.equal(d.onlyTicket().status, 'escalated');
    assert.deepEqual(out.execute, []);
  });

  it('the diagnosis lists every other candidate cause with the reason it was rejected', () => {
    const d = driver();
    d.pass({ cache: dead() });
    const diag = d.onlyTicket().diagnosis!;
    assert.deepEqual(diag.alternatives.map((a) => a.cause).sort(), ['config_drift', 'crash_loop', 'dependency_down', 'process_hung', 'resource_exhausted']);
    for (const a of diag.alternatives) assert.ok(a.rejected.length > 0);
    const audited = d.passes[0]!.audit.find((i) => i.kind === 'ticket.diagnosed')!;
    assert.deepEqual(audited.data.alternatives, diag.alternatives);
  });
});

void describe('decide: modes, approvals and the kill switch', () => {
  it('observe mode: a ticket, no action', () => {
    const d = driver({ mode: 'observe' });
    const out = d.pass({ cache: dead() });
    const t = d.onlyTicket();
    assert.equal(t.status, 'open');
    assert.equal(t.reason, 'observe mode: no action proposed');
    assert.equal(t.cause, 'process_exited');
    assert.deepEqual(out.execute, []);
    assert.equal(d.actions.size, 0);
    assert.equal(out.report.summary, 'degraded');
    assert.deepEqual(out.report.recommendations, [
      { event: 'reconcile_required', action: 'restart', target: 'cache', reason: 'process killed by SIGKILL' },
    ]);
  });

  it('recommend mode: a proposed action, never executed, and no duplicate on the next pass', () => {
    const d = driver({ mode: 'recommend' });
    const out = d.pass({ cache: dead() });
    const t = d.onlyTicket();
    assert.equal(t.status, 'open');
    assert.equal(t.reason, 'recommend mode: restart cache proposed, not executed');
    assert.deepEqual(out.execute, []);
    assert.equal(d.action('A1').state, 'proposed');
    assert.deepEqual(t.actionIds, ['A1']);

    for (let i = 0; i < 3; i++) {
      const next = d.advance(1000).pass({ cache: dead() });
      assert.deepEqual(next.execute, []);
      assert.deepEqual(next.actions, [], 'no new or changed action');
      assert.deepEqual(next.tickets, [], 'the ticket is unchanged');
      assert.deepEqual(next.report, out.report, 'the same world gives the same report');
    }
    assert.equal(d.actions.size, 1);
  });

  it('recommend mode: a proposal is cancelled when the problem goes away', () => {
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: dead() });
    d.advance(1000).pass();
    assert.equal(d.onlyTicket().status, 'resolved');
    assert.equal(d.onlyTicket().reason, 'recovered without action');
    assert.equal(d.action('A1').state, 'cancelled');
  });

  it('approval required: awaiting_approval, not executed until approved, then executed', () => {
    const d = driver({ rules: [{ ...ALLOW_ALL, approval: 'required' }] });
    let out = d.pass({ cache: dead() });
    assert.equal(d.onlyTicket().status, 'awaiting_approval');
    assert.equal(d.onlyTicket().reason, 'restart cache needs approval: warden actions approve A1');
    assert.equal(d.action('A1').state, 'awaiting_approval');
    assert.deepEqual(out.execute, []);
    assert.equal(out.report.summary, 'reconciling');

    out = d.advance(1000).pass({ cache: dead() });
    assert.deepEqual(out.execute, []);
    assert.equal(d.actions.size, 1);

    d.approve('A1', 'alice');
    out = d.advance(1000).pass({ cache: dead() });
    assert.deepEqual(out.execute, ['A1']);
    assert.equal(d.onlyTicket().status, 'remediating');
    assert.equal(d.onlyTicket().reason, 'approved by alice');
  });

  it('a rejected action holds the ticket: automation stops for it', () => {
    const d = driver({ rules: [{ ...ALLOW_ALL, approval: 'required' }] });
    d.pass({ cache: dead() });
    d.reject('A1', 'bob', 'maintenance');
    const out = d.advance(1000).pass({ cache: dead() });
    assert.equal(d.onlyTicket().status, 'held');
    assert.match(d.onlyTicket().reason ?? '', /^action A1 rejected: rejected by bob: maintenance/);
    assert.deepEqual(out.execute, []);
    assert.deepEqual(d.advance(1000).pass({ cache: dead() }).execute, []);
    assert.equal(d.actions.size, 1);
  });

  it('a problem that goes away before approval cancels the request', () => {
    const d = driver({ rules: [{ ...ALLOW_ALL, approval: 'required' }] });
    d.pass({ cache: dead() });
    d.advance(1000).pass();
    assert.equal(d.onlyTicket().status, 'resolved');
    assert.equal(d.onlyTicket().reason, 'recovered before approval');
    assert.equal(d.action('A1').state, 'cancelled');
  });

  it('a root that recovers before approval while a dependent still fails: request cancelled, no restart of a healthy service', () => {
    const d = driver({ rules: [{ ...ALLOW_ALL, approval: 'required' }] });
    d.pass({ cache: dead(), web: { process: running(), checks: 'failing' } });
    assert.equal(d.onlyTicket().status, 'awaiting_approval');
    d.advance(1000).pass({ web: { process: running(), checks: 'failing' } });
    const t = d.tickets.get('T1')!;
    assert.equal(t.status, 'resolved');
    assert.equal(d.action('A1').state, 'cancelled');
  });

  it('frozen: nothing executed, the ticket open with a frozen reason; unfrozen: repaired', () => {
    const d = driver();
    d.frozen = true;
    let out = d.pass({ cache: dead() });
    assert.equal(d.onlyTicket().status, 'open');
    assert.match(d.onlyTicket().reason ?? '', /frozen/);
    assert.deepEqual(out.execute, []);
    assert.equal(d.actions.size, 0);
    assert.deepEqual(out.report.recommendations, [
      { event: 'reconcile_blocked', action: 'restart', target: 'cache', reason: 'frozen: the kill switch is on' },
    ]);
    out = d.advance(1000).pass({ cache: dead() });
    assert.deepEqual(out.execute, []);

    d.frozen = false;
    out = d.advance(1000).pass({ cache: dead() });
    assert.deepEqual(out.execute, ['A1']);
    assert.equal(d.onlyTicket().status, 'remediating');
  });

  it('frozen: an approved action is not executed until the kill switch is off', () => {
    const d = driver({ rules: [{ ...ALLOW_ALL, approval: 'required' }] });
    d.pass({ cache: dead() });
    d.approve('A1');
    d.frozen = true;
    assert.deepEqual(d.advance(1000).pass({ cache: dead() }).execute, []);
    assert.deepEqual(d.advance(1000).pass({ cache: dead() }).execute, []);
    d.frozen = false;
    assert.deepEqual(d.advance(1000).pass({ cache: dead() }).execute, ['A1']);
  });

  it('a problem that vanishes before any action resolves as recovered without action', () => {
    const frozen = driver();
    frozen.frozen = true;
    for (const d of [frozen, driver({ mode: 'observe' })]) {
      d.pass({ cache: dead() });
      assert.equal(d.onlyTicket().status, 'open');
      const out = d.advance(1000).pass();
      const t = d.onlyTicket();
      assert.equal(t.status, 'resolved');
      assert.equal(t.reason, 'recovered without action');
      assert.equal(t.resolvedAt, T0 + 1000);
      assert.equal(d.actions.size, 0);
      assert.equal(out.report.summary, 'nominal');
    }
  });
});

void describe('decide: bounded automation', () => {
  it('rate limit reached: escalated with a reason naming the limit, and no further action', () => {
    const d = driver({ limits: [{ action: 'restart', per: 'service', max: 2, windowMs: 600_000 }] });
    let exits = [exitAt(T0 - 1, { signal: 'SIGKILL' })];
    const die = (): Views => {
      exits = [exitAt(d.now - 5, { code: 1 }), ...exits];
      return { cache: dead(exits) };
    };
    d.pass({ cache: dead(exits) });
    d.executeAll();
    d.advance(100).pass();
    assert.equal(d.onlyTicket().status, 'verifying');
    d.advance(100).pass(die());
    assert.deepEqual(d.lastPass().execute, ['A2']);
    d.executeAll();
    d.advance(100).pass();
    const out = d.advance(100).pass(die());
    const t = d.onlyTicket();
    assert.equal(t.status, 'escalated');
    assert.equal(t.reason, 'limit reached: restart at most 2 per 10m on cache (2 used); leaving cache alone');
    assert.equal(t.failedRepairs, 2);
    assert.deepEqual(out.execute, []);
    assert.ok(out.audit.some((i) => i.kind === 'policy.limit_reached' && i.subject === 'T1'));
    assert.deepEqual(out.report.recommendations.map((r) => r.event), ['reconcile_blocked']);

    for (const ms of [1000, 600_000]) {
      const later = d.advance(ms).pass({ cache: dead(exits) });
      assert.deepEqual(later.execute, [], 'an escalated ticket is left alone');
      assert.deepEqual(later.actions, []);
    }
    assert.equal(d.actions.size, 2);
  });

  it('a * limit counts every action type on the service', () => {
    const d = driver({
      limits: [{ action: '*', per: 'service', max: 1, windowMs: 600_000 }],
      override: { cache: { runbooks: [runbook('free-disk', ['resource_exhausted'])] } },
    });
    repairOnce(d, { cache: dead() });
    d.advance(1000).pass({ cache: dead() }, { logs: { cache: ['ENOSPC'] } });
    const t = d.onlyTicket();
    assert.equal(t.status, 'escalated');
    assert.equal(t.reason, 'limit reached: actions at most 1 per 10m on cache (1 used); leaving cache alone');
  });

  it('repairs that keep failing verification escalate after MAX_FAILED_REPAIRS even without limits', () => {
    const d = driver({ limits: [] });
    d.pass({ cache: dead() });
    for (let i = 1; i <= MAX_FAILED_REPAIRS; i++) {
      d.executeAll();
      d.advance(10).pass();
      d.advance(10).pass({ cache: dead() });
      assert.equal(d.onlyTicket().failedRepairs, i);
    }
    const t = d.onlyTicket();
    assert.equal(t.status, 'escalated');
    assert.equal(t.reason, `${MAX_FAILED_REPAIRS} repairs did not hold; leaving cache alone`);
    assert.equal(d.actions.size, MAX_FAILED_REPAIRS);
  });

  it('a problem back within the reopen window reopens its ticket; at the threshold it is flapping', () => {
    const d = driver();
    const t1 = repairOnce(d, { cache: dead() });
    assert.equal(t1.occurrences, 1);
    assert.equal(t1.flapping, false);

    d.advance(60_000);
    const out = d.pass({ cache: dead() });
    let t = d.onlyTicket();
    assert.equal(t.id, 'T1', 'the same ticket, not a new one');
    assert.equal(t.occurrences, 2);
    assert.equal(t.flapping, false);
    assert.equal(t.status, 'remediating');
    assert.equal(t.resolvedAt, null);
    assert.ok(out.audit.some((i) => i.kind === 'ticket.reopened' && i.data.occurrences === 2));
    assert.equal(d.action('A2').idempotencyKey, 'T1#2/2:restart:cache');
    d.executeAll();
    d.advance(10).pass();
    d.advance(10).pass();
    d.advance(500).pass();
    assert.equal(d.onlyTicket().status, 'resolved');

    d.advance(60_000);
    const third = d.pass({ cache: dead() });
    t = d.onlyTicket();
    assert.equal(t.occurrences, 3);
    assert.equal(t.flapping, true);
    assert.equal(third.report.summary, 'unstable');
  });

  it('a problem back after the reopen window is a new ticket', () => {
    const d = driver();
    repairOnce(d, { cache: dead() });
    d.advance(600_001).pass({ cache: dead() });
    assert.equal(d.ticket('T1').status, 'resolved');
    const t2 = d.ticket('T2');
    assert.equal(t2.occurrences, 1);
    assert.equal(t2.fingerprint, 'service:local/cache');
    assert.notEqual(t2.status, 'resolved');
  });
});

void describe('decide: deployment of never-started services', () => {
  it('starts services that never ran (no ticket); dependents wait until their dependencies are healthy', () => {
    const d = driver({ worker: true });
    let out = d.pass({ cache: neverRan(), web: neverRan(), worker: neverRan() });
    assert.equal(d.tickets.size, 0, 'a deployment is not an incident');
    assert.deepEqual(out.execute, ['A1']);
    assert.deepEqual(d.action('A1'), {
      id: 'A1', ticketId: null, type: 'start', target: 'cache', params: {}, state: 'validated', attempts: 0, maxAttempts: 3,
      idempotencyKey: `deploy:cache:${T0}`, requestedBy: 'otto', approvedBy: null, createdAt: T0, startedAt: null,
      finishedAt: null, notBefore: null, error: null,
    });
    assert.deepEqual(out.report.recommendations, [
      { event: 'reconcile_required', action: 'start', target: 'cache', reason: 'declared but not running' },
      { event: 'reconcile_blocked', action: 'start', target: 'web', reason: 'waiting for cache to be healthy' },
      { event: 'reconcile_blocked', action: 'start', target: 'worker', reason: 'waiting for web to be healthy' },
    ]);

    d.startAction('A1');
    out = d.advance(10).pass({ cache: neverRan(), web: neverRan(), worker: neverRan() });
    assert.deepEqual(out.execute, [], 'no second start while the first is executing');
    assert.equal(d.actions.size, 1);

    d.completeAction('A1');
    out = d.advance(10).pass({ cache: pending, web: neverRan(), worker: neverRan() });
    assert.deepEqual(out.execute, [], 'web waits: cache is running but not yet healthy');

    out = d.advance(10).pass({ web: neverRan(), worker: neverRan() });
    assert.deepEqual(out.execute, ['A2']);
    assert.equal(d.action('A2').target, 'web');
    assert.equal(d.action('A2').ticketId, null);
    d.executeAll();

    out = d.advance(10).pass({ worker: neverRan() });
    assert.deepEqual(out.execute, ['A3']);
    assert.equal(d.action('A3').target, 'worker');
    d.executeAll();
    out = d.advance(10).pass();
    assert.deepEqual(out.execute, []);
    assert.equal(out.report.summary, 'nominal');
    assert.equal(d.tickets.size, 0);
  });

  it('a dependent failing while its dependency was never started waits for the deployment: no ticket, no restart', () => {
    const d = driver();
    let out = d.pass({ cache: neverRan(), web: failing });
    assert.equal(d.tickets.size, 0);
    assert.deepEqual(out.execute, ['A1']);
    assert.deepEqual([...d.actions.values()].map((a) => `${a.type} ${a.target} ${String(a.ticketId)}`), ['start cache null']);
    assert.deepEqual(out.report.findings.map((f) => [f.service, f.dependencyDown]), [['web', 'cache']]);
    assert.deepEqual(out.report.recommendations.map((r) => `${r.event} ${String(r.action)} ${r.target}`), [
      'reconcile_blocked null web', 'reconcile_required start cache',
    ]);
    d.startAction('A1');
    out = d.advance(10).pass({ cache: neverRan(), web: failing });
    assert.equal(d.tickets.size, 0, 'no ticket churn while the start runs');
    assert.deepEqual(out.execute, []);
  });

  it('deploy with approval required waits for approval, then runs', () => {
    const d = driver({ rules: [{ ...ALLOW_ALL, approval: 'required' }] });
    let out = d.pass({ cache: neverRan(), web: neverRan() });
    assert.equal(d.action('A1').state, 'awaiting_approval');
    assert.deepEqual(out.execute, []);
    out = d.advance(10).pass({ cache: neverRan(), web: neverRan() });
    assert.equal(d.actions.size, 1, 'no duplicate request');
    d.approve('A1');
    out = d.advance(10).pass({ cache: neverRan(), web: neverRan() });
    assert.deepEqual(out.execute, ['A1']);
  });

  it('deploy is only recommended in observe mode, blocked by policy and by the kill switch, without creating actions', () => {
    // Recommendations say what Warden would do whatever the mode (as for incidents); observe creates nothing.
    const observe = driver({ mode: 'observe' });
    assert.equal(observe.pass({ cache: neverRan() }).report.recommendations[0]?.event, 'reconcile_required');
    assert.equal(observe.actions.size, 0);

    const denied = driver({ rules: [{ ...ALLOW_ALL, allow: ['restart'] }] });
    assert.deepEqual(denied.pass({ cache: neverRan() }).report.recommendations[0], {
      event: 'reconcile_blocked', action: 'start', target: 'cache', reason: 'policy allows no start on cache',
    });
    assert.equal(denied.actions.size, 0);

    const frozen = driver();
    frozen.frozen = true;
    assert.deepEqual(frozen.pass({ cache: neverRan() }).execute, []);
    assert.equal(frozen.actions.size, 0);
  });

  it('deploy in recommend mode is proposed, never executed, and not proposed twice', () => {
    const d = driver({ mode: 'recommend' });
    const out = d.pass({ cache: neverRan() });
    assert.deepEqual(out.execute, []);
    assert.equal(d.actions.size, 1);
    assert.equal(d.action('A1').state, 'proposed');
    assert.equal(d.action('A1').ticketId, null);
    assert.deepEqual(d.advance(1000).pass({ cache: neverRan() }).execute, []);
    assert.equal(d.actions.size, 1);
  });
});

void describe('decide: determinism and purity', () => {
  function scenario(): ReturnType<Driver['pass']>[] {
    const d = driver({ worker: true, rules: [{ ...ALLOW_ALL, approval: 'required' }] });
    d.pass({ cache: dead(), web: failing, worker: failing });
    d.approve('A1');
    d.advance(100).pass({ cache: dead(), web: failing, worker: failing });
    d.executeAll();
    d.advance(100).pass({ web: failing });
    d.advance(100).pass();
    d.advance(500).pass();
    return d.passes;
  }

  it('the same inputs give identical outputs, pass after pass', () => {
    assert.deepEqual(scenario(), scenario());
  });

  it('a single decision is a pure function of its input', () => {
    const d = driver({ worker: true });
    d.pass({ cache: dead(), web: failing });
    d.executeAll();
    const input = d.advance(100).input(d.world({ web: failing }));
    const a = decide(input);
    const b = decide(input);
    assert.deepEqual(a, b);
  });

  it('does not modify its input', () => {
    const d = driver({ worker: true });
    d.pass({ cache: dead(), web: failing });
    d.executeAll();
    for (const views of [{ web: failing }, {}, { cache: dead() }] as Views[]) {
      const input = d.advance(100).input(d.world(views));
      // The subject rules are code (functions), not data: they are compared by identity.
      const { subjectRules, ...data } = input;
      const before = { ...structuredClone(data), subjectRules };
      deepFreeze(input.world);
      deepFreeze(input.config);
      deepFreeze(input.tickets);
      deepFreeze(input.actions);
      decide(input);
      assert.deepEqual(input, before);
      d.pass(views);
    }
  });

  it('report order follows the inventory, not the order things broke or were listed in the world', () => {
    const d = new Driver(makeConfig({ services: ['zeta', 'alpha', 'mid', 'beta'].map((name) => service(name, { checks: [] })) }));
    const world = d.world({ beta: dead(), alpha: dead(), mid: neverRan() });
    // Shuffle the world's keys: only the inventory may decide the order.
    world.services = Object.fromEntries(Object.entries(world.services).reverse());
    const out = d.pass(world);
    assert.deepEqual(out.report.findings.map((f) => f.service), ['alpha', 'beta']);
    assert.deepEqual(out.report.recommendations.map((r) => `${r.event} ${r.target}`), [
      'reconcile_required alpha', 'reconcile_required beta', 'reconcile_required mid',
    ]);
    assert.deepEqual([...d.tickets.values()].map((t) => t.service), ['alpha', 'beta']);
    assert.deepEqual(out.execute, ['A1', 'A2', 'A3']);
    assert.deepEqual(out.execute.map((id) => d.action(id).target), ['alpha', 'beta', 'mid']);
  });

  it('summary: nominal, degraded, reconciling, unstable', () => {
    assert.equal(driver().pass().report.summary, 'nominal');
    assert.equal(driver({ mode: 'observe' }).pass({ cache: dead() }).report.summary, 'degraded');
    assert.equal(driver().pass({ cache: dead() }).report.summary, 'reconciling');
    assert.equal(driver().pass({ cache: spawnFailed() }).report.summary, 'unstable');
  });
});
