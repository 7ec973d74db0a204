// What a ticket watched in shadow shows: in `tickets show`, `explain` and the JSON forms.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, Diagnosis, ShadowRecord, Ticket } from '../domain/types.js';
import type { AuditRecord } from '../store/audit.js';
import { explainTicket, formatExplanation } from './explain.js';
import { ticketJson } from './json.js';
import { shadowLines } from './shadow.js';

const T0 = Date.UTC(2025, 0, 1);
const diagnosis: Diagnosis = {
  rootCause: { service: 'web', host: 'local', cause: 'process_exited' }, confidence: 0.95, evidence: [], alternatives: [],
  recommended: [{ type: 'restart', target: 'web', params: {} }], diagnoser: 'rules',
};
const shadow: ShadowRecord = {
  type: 'restart', target: 'web', params: {}, scope: 'policy.shadow[0] (service: web)', at: T0 + 5, stamp: { mono: 5, boot: 'b' },
  verdict: 'allowed', reason: null, predicted: 'web healthy again: restart web mends process_exited on web (confidence 0.95, rules)', outcome: null,
};
const ticket = (s: ShadowRecord): Ticket => ({
  id: 'T1', fingerprint: 'fp', status: s.outcome ? 'resolved' : 'open', service: 'web', host: 'local', findings: [], cause: 'process_exited',
  rootCause: diagnosis.rootCause, confidence: 0.95, occurrences: 1, flapping: false, openedAt: T0, diagnosedAt: T0 + 1,
  resolvedAt: s.outcome?.at ?? null, updatedAt: T0 + 5, actionIds: [], diagnosis, verification: null, reason: null, failedRepairs: 0,
  history: [{ n: 1, openedAt: T0, findings: [], diagnosis, actionIds: [], verification: null, resolvedAt: s.outcome?.at ?? null, resolvedBy: null, reason: null, shadow: s }],
});
const rec = (seq: number, kind: string, data: Record<string, unknown>): AuditRecord => ({ seq, at: T0 + seq, actor: 'otto', kind, subject: 'T1', data, prevHash: '', hash: '' });

void describe('a ticket watched in shadow', () => {
  it('tickets show: what would have been done, the verdict, the prediction, and how it ended', () => {
    assert.deepEqual(shadowLines(shadow), [
      '    shadow       would have restarted web (policy allows it) at 2025-01-01T00:00:00.005Z; web is in policy.shadow[0] (service: web)',
      '    predicted    web healthy again: restart web mends process_exited on web (confidence 0.95, rules)',
      '    outcome      still going on; Warden has not acted',
    ]);
    const refused = { ...shadow, verdict: 'refused' as const, reason: 'policy allows no restart on web', outcome: { kind: 'went_away' as const, at: T0 + 12_005, afterMs: 12_000 } };
    assert.deepEqual(shadowLines(refused).filter((l) => !l.includes('predicted')), [
      '    shadow       would have restarted web (policy would refuse it: policy allows no restart on web) at 2025-01-01T00:00:00.005Z; web is in policy.shadow[0] (service: web)',
      '    outcome      went away by itself 12s after Warden would have acted',
    ]);
    assert.equal(shadowLines({ ...shadow, outcome: { kind: 'resolved_by_person', at: T0 + 9, by: 'person:alice' } }).at(-1), '    outcome      resolved by person:alice at 2025-01-01T00:00:00.009Z');
  });

  it('JSON: the current occurrence\'s record at the top, each occurrence\'s in history, times in ISO', () => {
    const j = ticketJson(ticket({ ...shadow, outcome: { kind: 'went_away', at: T0 + 12_005, afterMs: 12_000 } }));
    const s = j.shadow as Record<string, unknown>;
    assert.equal(s.wouldHave, 'restarted web');
    assert.equal(s.at, '2025-01-01T00:00:00.005Z');
    assert.deepEqual(s.outcome, { kind: 'went_away', at: '2025-01-01T00:00:12.005Z', afterMs: 12_000 });
    assert.equal('stamp' in s, false, 'monotonic stamps are internal');
    assert.deepEqual((j.history as Record<string, unknown>[])[0]!.shadow, s);
    const plain = ticketJson({ ...ticket(shadow), history: [] });
    assert.equal(plain.shadow, null);
  });

  it('explain: the summary says Warden watched in shadow, and the timeline has the record', () => {
    const audit = [
      rec(1, 'policy.shadowed', { type: 'restart', target: 'web', verdict: 'allowed', scope: shadow.scope }),
      rec(2, 'ticket.shadow_outcome', { outcome: 'went_away', afterMs: 12_000, type: 'restart', target: 'web' }),
    ];
    const x = explainTicket(ticket({ ...shadow, outcome: { kind: 'went_away', at: T0 + 12_005, afterMs: 12_000 } }), [] as Action[], audit);
    assert.deepEqual(x.timeline.map((e) => e.event), [
      'shadow: would have restarted web (policy allows it); not acting: web is in policy.shadow[0] (service: web)',
      'went away by itself 12s after Warden would have acted (shadow)',
    ]);
    assert.equal(x.summary, 'web failed with process_exited; in shadow, Warden would have restarted web and did not act; it went away by itself 12s later.');
    assert.match(formatExplanation(x), /In shadow\n {2}shadow {7}would have restarted web/);
    assert.equal(x.shadow?.record.wouldHave, 'restarted web');
    assert.deepEqual(explainTicket(ticket(shadow), [], []).proposes.actions, [], 'nothing is proposed in shadow');
  });

  it('explain: a reopened ticket repaired before and watched in shadow now tells of the shadow', () => {
    const t = ticket(shadow);
    const first = { n: 1, openedAt: T0 - 9000, findings: [], diagnosis, actionIds: ['A1'], verification: null, resolvedAt: T0 - 8000, resolvedBy: null, reason: null };
    const reopened: Ticket = { ...t, occurrences: 2, actionIds: ['A1'], history: [first, { ...t.history![0]!, n: 2 }] };
    const done: Action = {
      id: 'A1', ticketId: 'T1', type: 'restart', target: 'web', params: {}, state: 'completed', attempts: 1, maxAttempts: 3, idempotencyKey: 'k',
      requestedBy: 'otto', approvedBy: null, createdAt: T0 - 9000, startedAt: T0 - 9000, finishedAt: T0 - 8900, notBefore: null, error: null,
    };
    assert.match(explainTicket(reopened, [done], []).summary, /in shadow, Warden would have restarted web and did not act; the ticket is open/);
  });
});
