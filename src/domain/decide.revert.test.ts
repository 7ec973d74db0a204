// A declared revert: when a repair's verification fails and the policy allows the revert, the
// revert runs (linked to the action it undoes, counted like any repair) and the ticket says so.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW_ALL, Driver, dead, exitAt, makeConfig, running, T0, type ConfigOptions, type ServiceView } from '../testing/domain.js';
import type { RevertSpec } from './types.js';

const failing: ServiceView = { process: running(), checks: 'failing' };
const ROLLBACK: RevertSpec = { type: 'run-runbook', params: { runbook: 'rollback' } };
const deadAgain = dead([exitAt(T0 + 15, { code: 1 }), exitAt(T0 - 1, { signal: 'SIGKILL' })]);

function driver(opts: ConfigOptions = {}): Driver {
  return new Driver(makeConfig({
    ...opts,
    override: { cache: { reverts: { restart: ROLLBACK }, runbooks: [{ name: 'rollback', argv: ['./rollback.sh'], cwd: '/srv', env: {}, timeoutMs: 5000, for: [] }] } },
  }));
}

/** Restarted, then verifying. */
function repaired(d: Driver): void {
  d.pass({ cache: dead() });
  d.executeAll();
  d.advance(10).pass();
  assert.equal(d.onlyTicket().status, 'verifying');
}

void describe('decide: a declared revert', () => {
  it('runs when the repaired process is gone again, linked to the action it undoes', () => {
    const d = driver();
    repaired(d);
    const out = d.advance(10).pass({ cache: deadAgain });
    const t = d.onlyTicket();
    assert.deepEqual(t.actionIds, ['A1', 'A2']);
    const a2 = d.action('A2');
    assert.deepEqual([a2.type, a2.params, a2.revertOf, a2.state], ['run-runbook', { runbook: 'rollback' }, 'A1', 'validated']);
    assert.deepEqual(out.execute, ['A2'], 'the revert runs, not another restart');
    assert.equal(t.status, 'remediating');
    assert.match(t.reason ?? '', /^repair A1 \(restart cache\) did not hold: .*; reverting it with run-runbook rollback \(A2\)$/);
    assert.ok(out.audit.some((i) => i.kind === 'ticket.verification_failed'));
    assert.ok(out.audit.some((i) => i.kind === 'action.proposed' && i.subject === 'A2' && i.data.revertOf === 'A1'));

    d.startAction('A2');
    d.completeAction('A2');
    const after = d.advance(10).pass({ cache: deadAgain });
    assert.equal(d.onlyTicket().status, 'escalated');
    assert.match(d.onlyTicket().reason ?? '', /^repair A1 \(restart cache\) did not hold and was reverted by A2 \(run-runbook rollback\); a person must look$/);
    assert.deepEqual(after.execute, [], 'nothing more: a person looks');
  });

  it('runs when the repaired service is not healthy by the deadline', () => {
    const d = driver({ agent: { verifyDeadlineMs: 5000 } });
    repaired(d);
    d.advance(5001).pass({ cache: failing });
    const t = d.onlyTicket();
    assert.equal(t.status, 'remediating');
    assert.equal(d.action('A2').revertOf, 'A1');
    assert.match(t.reason ?? '', /not healthy within 5000 ms after repair.*reverting it with run-runbook rollback \(A2\)/);
  });

  it('a failed revert escalates saying so', () => {
    const d = driver();
    repaired(d);
    d.advance(10).pass({ cache: deadAgain });
    d.startAction('A2');
    d.failAction('A2', 'runbook rollback exited with 2');
    d.advance(10).pass({ cache: deadAgain });
    assert.equal(d.onlyTicket().status, 'escalated');
    assert.match(d.onlyTicket().reason ?? '', /^repair A1 \(restart cache\) did not hold; its revert A2 \(run-runbook rollback\) failed: runbook rollback exited with 2; a person must look$/);
  });

  it('a revert the policy does not allow is not run: the ticket escalates with the refusal', () => {
    const d = driver({ rules: [{ ...ALLOW_ALL, allow: ['start', 'restart'] }] });
    repaired(d);
    const out = d.advance(10).pass({ cache: deadAgain });
    assert.deepEqual(out.execute, []);
    assert.equal(d.onlyTicket().status, 'escalated');
    assert.match(d.onlyTicket().reason ?? '', /revert run-runbook rollback of A1 not run: policy allows no run-runbook on cache/);
    assert.ok(out.audit.some((i) => i.kind === 'policy.denied' && i.data.revertOf === 'A1'));
    assert.deepEqual(out.refused, [{ by: 'rule', type: 'run-runbook', target: 'cache', ticketId: d.onlyTicket().id }]);
  });

  it('a revert that needs approval waits for it', () => {
    const d = driver({ rules: [{ ...ALLOW_ALL, allow: ['start', 'restart'] }, { ...ALLOW_ALL, allow: ['run-runbook'], approval: 'required' }] });
    repaired(d);
    d.advance(10).pass({ cache: deadAgain });
    assert.equal(d.action('A2').state, 'awaiting_approval');
    assert.equal(d.onlyTicket().status, 'awaiting_approval');
  });

  it('without a declared revert, a repair that did not hold is planned again as before', () => {
    const d = new Driver(makeConfig());
    repaired(d);
    const out = d.advance(10).pass({ cache: deadAgain });
    assert.equal(d.action('A2').type, 'restart');
    assert.equal(d.action('A2').revertOf, undefined);
    assert.deepEqual(out.execute, ['A2']);
  });
});
