import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, Diagnosis, Ticket } from '../domain/types.js';
import type { AuditRecord } from '../store/audit.js';
import { explainTicket, formatExplanation } from './explain.js';

const T0 = Date.UTC(2025, 0, 1);
const diagnosis: Diagnosis = {
  rootCause: { service: 'cache', host: 'local', cause: 'process_exited' },
  confidence: 0.95,
  evidence: [{ source: 'process', fact: 'exited by signal SIGKILL after 5000 ms' }, { source: 'dependsOn', fact: 'web is unhealthy and depends on cache' }],
  alternatives: [{ cause: 'crash_loop', rejected: '1 exit(s) in the window, fewer than 3' }, { cause: 'process_hung', rejected: 'the process is not running' }],
  recommended: [{ type: 'restart', target: 'cache', params: {} }],
  diagnoser: 'rules',
};
const ticket = (over: Partial<Ticket> = {}): Ticket => ({
  id: 'T1', fingerprint: 'fp', status: 'resolved', service: 'cache', host: 'local',
  findings: [{ kind: 'missing_service', service: 'cache', host: 'local', reason: 'process killed by SIGKILL' }],
  cause: 'process_exited', rootCause: diagnosis.rootCause, confidence: 0.95, occurrences: 1, flapping: false,
  openedAt: T0, diagnosedAt: T0 + 1, resolvedAt: T0 + 900, updatedAt: T0 + 900, actionIds: ['A2'], diagnosis,
  verification: null, reason: null, failedRepairs: 0, ...over,
});
const action: Action = {
  id: 'A2', ticketId: 'T1', type: 'restart', target: 'cache', params: {}, state: 'completed', attempts: 1, maxAttempts: 3,
  idempotencyKey: 'k', requestedBy: 'otto', approvedBy: null, createdAt: T0 + 2, startedAt: T0 + 3, finishedAt: T0 + 60, notBefore: null, error: null,
};
let seq = 0;
const rec = (at: number, kind: string, subject: string, data: Record<string, unknown> = {}): AuditRecord => ({ seq: ++seq, at: T0 + at, actor: 'otto', kind, subject, data, prevHash: '', hash: '' });
const audit = [
  rec(0, 'ticket.opened', 'T1', { findings: ticket().findings }),
  rec(1, 'ticket.diagnosed', 'T1', { diagnoser: 'rules', service: 'cache', cause: 'process_exited', confidence: 0.95 }),
  rec(2, 'action.proposed', 'A2'),
  rec(3, 'action.executing', 'A2', { attempt: 1 }),
  rec(60, 'action.completed', 'A2'),
  rec(900, 'ticket.verified', 'T1', { healthyForMs: 500, tookMs: 840 }),
  rec(900, 'agent.online', 'x'),
];

void describe('warden explain', () => {
  it('names the evidence piece each fact cites by the id warden debug lists it by', () => {
    const cited: Diagnosis = { ...diagnosis, evidence: [
      { source: 'process', fact: 'exited by signal SIGKILL after 5000 ms', piece: 'process:cache' },
      { source: 'exits', fact: '1 exit(s) in the last 60 s' },
      { source: 'log:cache:4', fact: 'out of memory', piece: 'log:cache:4' },
    ] };
    const x = explainTicket(ticket({ diagnosis: cited }), [action], audit);
    assert.deepEqual(x.evidence, [
      { source: 'process', fact: 'exited by signal SIGKILL after 5000 ms', piece: 'process:cache' },
      { source: 'exits', fact: '1 exit(s) in the last 60 s' },
      { source: 'log:cache:4', fact: 'out of memory', piece: 'log:cache:4' },
    ]);
    const text = formatExplanation(x);
    // The piece's id where there is one (it says the service: the bundle to look in), else the source.
    assert.match(text, /\n  - \[process:cache\] exited by signal SIGKILL after 5000 ms\n  - \[exits\] 1 exit\(s\) in the last 60 s\n  - \[log:cache:4\] out of memory\n/);
    assert.match(text, /\n  \(an id KIND:SERVICE:\.\.\. names an evidence piece: warden debug SERVICE lists it\)\n/);
  });

  it('tells what happened in order, the root cause with its evidence, the rejected alternatives, what was done', () => {
    const x = explainTicket(ticket(), [action], [...audit].reverse());
    assert.deepEqual(x.timeline.map((e) => e.event), [
      'opened: cache missing_service (process killed by SIGKILL)',
      'diagnosed by rules: cache process_exited (confidence 0.95)',
      'proposed A2 restart cache (by otto)',
      'executing A2 restart cache (attempt 1)',
      'completed A2 restart cache',
      'verified: healthy for 500 ms, 840 ms after the repair',
    ]);
    assert.equal(x.timeline[0]!.at, '2025-01-01T00:00:00.000Z');
    assert.deepEqual(x.rootCause, { service: 'cache', host: 'local', cause: 'process_exited', confidence: 0.95, diagnoser: 'rules' });
    assert.deepEqual(x.rejected.map((r) => r.cause), ['crash_loop', 'process_hung']);
    assert.equal(x.summary, 'cache failed with process_exited; Warden ran restart cache; the repair held and the ticket is resolved.');
    assert.deepEqual(x.proposes, { actions: [], noRepair: null });
    const text = formatExplanation(x);
    assert.match(text, /Root cause: cache on local: process_exited \(confidence 0\.95, rules\)\n  because\n  - \[process\] exited by signal SIGKILL/);
    assert.match(text, /Alternatives considered and rejected\n  - crash_loop: 1 exit\(s\) in the window, fewer than 3/);
    assert.match(text, /What Warden did\n  - A2 restart cache: completed/);
  });

  it('an escalated ticket says who must act and why; a dependent\'s ticket names the root as the first broken thing', () => {
    const d: Diagnosis = { ...diagnosis, rootCause: { service: 'cache', host: 'local', cause: 'config_drift' }, recommended: [], noRepair: 'cache refuses web\'s credentials' };
    const x = explainTicket(ticket({ service: 'web', status: 'escalated', reason: 'cache refuses web\'s credentials', actionIds: [], diagnosis: d, cause: 'config_drift' }), [], []);
    assert.equal(x.summary, 'cache (web and the others are its symptoms) failed with config_drift; Warden took no action; it is left to people: cache refuses web\'s credentials.');
    assert.equal(x.proposes.noRepair, 'cache refuses web\'s credentials');
    assert.match(formatExplanation(x), /What Warden did\n  nothing\n\nNo automatic repair: cache refuses/);
  });

  it('a recommended action not run yet (awaiting approval) is what Warden proposes', () => {
    const waiting = { ...action, state: 'awaiting_approval' as const };
    const x = explainTicket(ticket({ status: 'awaiting_approval', resolvedAt: null }), [waiting], []);
    assert.deepEqual(x.proposes.actions, ['restart cache (awaiting_approval)']);
  });

  it('an undiagnosed ticket says so', () => {
    const x = explainTicket(ticket({ diagnosis: null, status: 'diagnosing' }), [], []);
    assert.equal(x.rootCause, null);
    assert.match(x.summary, /not diagnosed yet \(diagnosing\)/);
  });
});
