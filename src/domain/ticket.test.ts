import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_HISTORY, openTicket, transitionTicket, type TicketEvent } from './ticket.js';
import type { Cause, Diagnosis, Ticket } from './types.js';

const ctx = (now: number): { now: number; actor: string } => ({ now, actor: 'otto' });
const problem = { fingerprint: 'service:local/cache', service: 'cache', host: 'local', findings: [{ kind: 'missing_service' as const, service: 'cache', host: 'local', reason: 'not running' }] };

function diagnosis(cause: Cause, fact: string): Diagnosis {
  return {
    rootCause: { service: 'cache', host: 'local', cause }, confidence: 0.9, evidence: [{ source: 'process', fact }],
    alternatives: [], recommended: [{ type: 'restart', target: 'cache', params: {} }], diagnoser: 'rules',
  };
}

/** Applies events in order, one millisecond apart. */
function run(t: Ticket, events: TicketEvent[], from: number): Ticket {
  return events.reduce((cur, e, i) => transitionTicket(cur, e, ctx(from + i)).next, t);
}

/** One occurrence diagnosed, repaired and verified (or not). */
function occurrence(t: Ticket, cause: Cause, fact: string, action: string, held: boolean, at: number): Ticket {
  return run(t, [
    { type: 'diagnose', key: `k-${at}` },
    { type: 'diagnosed', key: `k-${at}`, diagnosis: diagnosis(cause, fact), flapThreshold: 3 },
    { type: 'action_added', actionId: action },
    { type: 'status', to: 'remediating', reason: `restart cache` },
    { type: 'status', to: 'verifying', reason: 'verifying' },
    held ? { type: 'verified', healthyForMs: 500, tookMs: 520 } : { type: 'status', to: 'escalated', reason: 'cache not healthy within 30000 ms after repair' },
  ], at);
}

void describe('ticket machine: occurrences', () => {
  it('a new ticket starts the story with its first occurrence', () => {
    const t = openTicket('T1', problem, ctx(1000)).next;
    assert.deepEqual(t.history, [{ n: 1, openedAt: 1000, findings: problem.findings, diagnosis: null, actionIds: [], verification: null, resolvedAt: null, resolvedBy: null, reason: null }]);
  });

  it('each occurrence keeps its own diagnosis, actions and verification outcome; the top level is the current one', () => {
    let t = openTicket('T1', problem, ctx(1000)).next;
    t = occurrence(t, 'process_exited', 'killed by SIGKILL', 'A1', true, 2000);
    assert.equal(t.status, 'resolved');
    assert.equal(t.verification, null, 'the window is over');
    t = transitionTicket(t, { type: 'reopen', flapThreshold: 5 }, ctx(3000)).next;
    assert.equal(t.diagnosis, null, 'the first occurrence\'s diagnosis is not the second\'s');
    assert.equal(t.cause, null);
    t = occurrence(t, 'process_exited', 'exited with code 1', 'A2', true, 4000);
    t = transitionTicket(t, { type: 'reopen', flapThreshold: 5 }, ctx(5000)).next;
    t = occurrence(t, 'process_hung', 'stopped (T)', 'A3', false, 6000);

    const h = t.history!;
    assert.deepEqual(h.map((o) => [o.n, o.openedAt, o.diagnosis?.evidence[0]?.fact, o.actionIds]), [
      [1, 1000, 'killed by SIGKILL', ['A1']], [2, 3000, 'exited with code 1', ['A2']], [3, 5000, 'stopped (T)', ['A3']],
    ]);
    assert.deepEqual(h.map((o) => o.verification), [
      { outcome: 'held', at: 2005, healthyForMs: 500, tookMs: 520 },
      { outcome: 'held', at: 4005, healthyForMs: 500, tookMs: 520 },
      { outcome: 'failed', at: 6005, reason: 'cache not healthy within 30000 ms after repair' },
    ]);
    assert.deepEqual(h.map((o) => o.resolvedAt), [2005, 4005, null]);
    assert.deepEqual(h.map((o) => o.reason), ['healthy for 500 ms after repair', 'healthy for 500 ms after repair', 'cache not healthy within 30000 ms after repair']);
    assert.equal(t.diagnosis?.evidence[0]?.fact, 'stopped (T)');
    assert.deepEqual(t.actionIds, ['A1', 'A2', 'A3']);
  });

  it('a repair that does not hold is recorded with its reason', () => {
    let t = openTicket('T1', problem, ctx(1000)).next;
    t = run(t, [{ type: 'status', to: 'remediating', reason: 'restart cache' }, { type: 'status', to: 'verifying', reason: 'verifying' }, { type: 'verification_failed', reason: 'cache exited again' }], 2000);
    assert.deepEqual(t.history![0]!.verification, { outcome: 'failed', at: 2002, reason: 'cache exited again' });
  });

  it('flapping is decided by the diagnosis: a crash loop is not flapping', () => {
    let t = openTicket('T1', problem, ctx(1000)).next;
    for (let i = 0; i < 2; i++) {
      t = occurrence(t, 'process_exited', 'exited', `A${i}`, true, 2000 + i * 100);
      t = transitionTicket(t, { type: 'reopen', flapThreshold: 3 }, ctx(2050 + i * 100)).next;
    }
    assert.equal(t.occurrences, 3);
    const loop = transitionTicket(t, { type: 'diagnosed', key: 'k', diagnosis: diagnosis('crash_loop', '3 exits'), flapThreshold: 3 }, ctx(3000)).next;
    assert.equal(loop.flapping, false);
    const flap = transitionTicket(t, { type: 'diagnosed', key: 'k', diagnosis: diagnosis('process_exited', 'exited'), flapThreshold: 3 }, ctx(3000)).next;
    assert.equal(flap.flapping, true);
  });

  it('a person\'s resolve restarts the flap count', () => {
    let t = openTicket('T1', problem, ctx(1000)).next;
    t = run(t, [{ type: 'resolve', by: 'alice', reason: 'fixed the disk' }], 1100);
    assert.equal(t.history![0]!.resolvedBy, 'alice');
    t = transitionTicket(t, { type: 'reopen', flapThreshold: 2 }, ctx(1200)).next;
    assert.equal(t.flapStreak, 1);
    assert.equal(t.occurrences, 2);
    assert.equal(t.flapping, false);
  });

  it('keeps the last MAX_HISTORY occurrences', () => {
    let t = openTicket('T1', problem, ctx(1000)).next;
    for (let i = 0; i < MAX_HISTORY + 5; i++) {
      t = run(t, [{ type: 'status', to: 'resolved', reason: 'recovered without action' }, { type: 'reopen', flapThreshold: 1000 }], 2000 + i * 10);
    }
    assert.equal(t.history!.length, MAX_HISTORY);
    assert.equal(t.history!.at(-1)!.n, t.occurrences);
    assert.equal(t.history![0]!.n, t.occurrences - MAX_HISTORY + 1);
  });

  it('a ticket stored before occurrences were recorded gets its current one made from its fields', () => {
    const old = openTicket('T1', problem, ctx(1000)).next;
    delete old.history;
    delete old.flapStreak;
    old.actionIds = ['A9'];
    const t = transitionTicket(old, { type: 'verified', healthyForMs: 600, tookMs: 700 }, ctx(2000)).next;
    assert.equal(t.history!.length, 1);
    assert.deepEqual(t.history![0]!.actionIds, ['A9']);
    assert.equal(t.history![0]!.verification?.outcome, 'held');
  });
});
