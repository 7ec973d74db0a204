// The track record per (action type, scope), from the persisted tickets and actions, and the
// promotions and demotions it suggests: each row of the tables is one situation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeConfig, service } from '../testing/domain.js';
import {
  DEMOTE_AFTER_FAILURES, PROMOTE_MIN_EVIDENCE, RECENT_ATTEMPTS, suggest, trackRecords, type TrackRecord,
} from './trackrecord.js';
import type { Action, ActionState, ActionType, Mode, Occurrence, ResolvedConfig, Scope, ShadowRecord, Ticket, VerificationOutcome } from './types.js';

const T0 = Date.UTC(2025, 0, 1);
const scope = (s: Partial<Scope>): Scope => ({ service: '*', host: '*', group: '*', labels: {}, ...s });

function config(mode: Mode = 'execute', shadow: Partial<Scope>[] = []): ResolvedConfig {
  return makeConfig({ mode, services: [service('web'), service('api'), service('db-1'), service('db-2')], policy: { shadow: shadow.map(scope) } });
}

const held = (at: number): VerificationOutcome => ({ outcome: 'held', at: T0 + at, healthyForMs: 500, tookMs: 100 });
const failed = (at: number): VerificationOutcome => ({ outcome: 'failed', at: T0 + at, reason: 'gone again' });

function occ(n: number, openedAt: number, actionIds: string[], verification: VerificationOutcome | null, extra: Partial<Occurrence> = {}): Occurrence {
  return { n, openedAt: T0 + openedAt, findings: [], diagnosis: null, actionIds, verification, resolvedAt: null, resolvedBy: null, reason: null, ...extra };
}

function ticket(id: string, svc: string, history: Occurrence[]): Ticket {
  return {
    id, fingerprint: `fp-${svc}`, status: 'resolved', service: svc, host: 'local', findings: [], cause: 'process_exited', rootCause: null,
    confidence: null, occurrences: history.at(-1)?.n ?? 1, flapping: false, openedAt: T0, diagnosedAt: null, resolvedAt: null, updatedAt: T0,
    actionIds: history.flatMap((o) => o.actionIds), diagnosis: null, verification: null, reason: null, failedRepairs: 0, history,
  };
}

function act(id: string, ticketId: string | null, type: ActionType, target: string, state: ActionState, startedAt: number | null, requestedBy = 'otto'): Action {
  return {
    id, ticketId, type, target, params: {}, state, attempts: startedAt === null ? 0 : 1, maxAttempts: 3, idempotencyKey: id, requestedBy,
    approvedBy: null, createdAt: T0 + (startedAt ?? 0), startedAt: startedAt === null ? null : T0 + startedAt, finishedAt: null, notBefore: null, error: null,
  };
}

function shadowOf(target: string, at: number, verdict: ShadowRecord['verdict'] = 'allowed', outcome: ShadowRecord['outcome'] = null): ShadowRecord {
  return { type: 'restart', target, params: {}, scope: 'policy.shadow[0] (service: db-*)', at: T0 + at, stamp: null, verdict, reason: verdict === 'refused' ? 'denied' : null, predicted: `${target} healthy again`, outcome };
}

const wentAway = (at: number, afterMs: number): ShadowRecord['outcome'] => ({ kind: 'went_away', at: T0 + at, afterMs });

type Row = Pick<TrackRecord, 'type' | 'scope' | 'mode' | 'attempts' | 'successes' | 'failures' | 'recoverP50Ms' | 'reverts' | 'predictions' | 'wouldAllow' | 'wentAway' | 'byHand' | 'diagnosed'>;
const row = (over: Partial<Row>): Row => ({
  type: 'restart', scope: 'service: web', mode: 'execute', attempts: 0, successes: 0, failures: 0, recoverP50Ms: null, reverts: 0,
  predictions: 0, wouldAllow: 0, wentAway: 0, byHand: 0, diagnosed: 0, ...over,
});

interface Case {
  name: string;
  config?: ResolvedConfig;
  tickets: Ticket[];
  actions: Action[];
  since?: number;
  want: Row[];
}

const restartWeb = { type: 'restart' as const, target: 'web', params: {} };

const cases: Case[] = [
  {
    name: 'a repair that held: one attempt, one success; time to recover from the opening to the verification',
    tickets: [ticket('T1', 'web', [occ(1, 0, ['A1'], held(900))])],
    actions: [act('A1', 'T1', 'restart', 'web', 'completed', 10)],
    want: [row({ attempts: 1, successes: 1, recoverP50Ms: 900 })],
  },
  {
    name: 'a repair that did not hold, then one that did: the first is a failure, the second a success',
    tickets: [ticket('T1', 'web', [occ(1, 0, ['A1', 'A2'], held(3000))])],
    actions: [act('A1', 'T1', 'restart', 'web', 'completed', 10), act('A2', 'T1', 'restart', 'web', 'completed', 2000)],
    want: [row({ attempts: 2, successes: 1, failures: 1, recoverP50Ms: 3000 })],
  },
  {
    name: 'a verification that failed for good, and an action that failed: two failures',
    tickets: [ticket('T1', 'web', [occ(1, 0, ['A1'], failed(500)), occ(2, 1000, ['A2'], null)])],
    actions: [act('A1', 'T1', 'restart', 'web', 'completed', 10), act('A2', 'T1', 'restart', 'web', 'failed', 1010)],
    want: [row({ attempts: 2, failures: 2 })],
  },
  {
    name: 'a chain (runbook, then restart) that held: each step is credited',
    tickets: [ticket('T1', 'web', [occ(1, 0, ['A1', 'A2'], held(1000))])],
    actions: [act('A1', 'T1', 'run-runbook', 'web', 'completed', 10), act('A2', 'T1', 'restart', 'web', 'completed', 20)],
    want: [row({ attempts: 1, successes: 1, recoverP50Ms: 1000 }), row({ type: 'run-runbook', attempts: 1, successes: 1, recoverP50Ms: 1000 })],
  },
  {
    name: 'not Warden\'s record: first starts (deploys), a person\'s own restart, an action that never started',
    tickets: [ticket('T1', 'web', [occ(1, 0, ['A3'], null)])],
    actions: [act('A1', null, 'start', 'web', 'completed', 5), act('A2', null, 'restart', 'web', 'completed', 6, 'person:alice'), act('A3', 'T1', 'restart', 'web', 'cancelled', null)],
    want: [],
  },
  {
    name: 'still executing or verifying: an attempt, neither success nor failure yet',
    tickets: [ticket('T1', 'web', [occ(1, 0, ['A1'], null)])],
    actions: [act('A1', 'T1', 'restart', 'web', 'completed', 10)],
    want: [row({ attempts: 1 })],
  },
  {
    name: 'shadow: predictions, what the gate would have allowed, what went away by itself, what a person fixed',
    config: config('execute', [{ service: 'db-*' }]),
    tickets: [
      ticket('T1', 'db-1', [
        occ(1, 0, [], null, { shadow: shadowOf('db-1', 10, 'allowed', wentAway(4010, 4000)) }),
        occ(2, 10_000, [], null, { shadow: shadowOf('db-1', 10_010, 'refused') }),
      ]),
      ticket('T2', 'db-2', [
        occ(1, 0, [], null, { shadow: shadowOf('db-2', 10, 'approval', wentAway(9010, 9000)) }),
        occ(2, 20_000, [], null, { shadow: shadowOf('db-2', 20_010, 'deferred', wentAway(22_010, 2000)) }),
      ]),
    ],
    // A person restarted db-2 between the second prediction and its end: not "by itself".
    actions: [act('A9', null, 'restart', 'db-2', 'completed', 21_000, 'person:alice')],
    want: [row({ scope: 'policy.shadow[0] (service: db-*)', mode: 'shadow', predictions: 4, wouldAllow: 3, wentAway: 2, byHand: 1 })],
  },
  {
    name: 'observe beats shadow: the scope\'s mode is observe',
    config: config('observe', [{ service: 'db-*' }]),
    tickets: [ticket('T1', 'db-1', [occ(1, 0, [], null, { shadow: shadowOf('db-1', 10) })])],
    actions: [],
    want: [row({ scope: 'policy.shadow[0] (service: db-*)', mode: 'observe', predictions: 1, wouldAllow: 1 })],
  },
  {
    name: 'since: what happened before is left out',
    since: T0 + 5000,
    tickets: [ticket('T1', 'web', [occ(1, 0, ['A1'], held(900)), occ(2, 6000, ['A2'], held(7000))])],
    actions: [act('A1', 'T1', 'restart', 'web', 'completed', 10), act('A2', 'T1', 'restart', 'web', 'completed', 6010)],
    want: [row({ attempts: 1, successes: 1, recoverP50Ms: 1000 })],
  },
  {
    name: 'diagnosed: occurrences whose diagnosis recommended the action (what observe mode earns on)',
    config: config('observe'),
    tickets: [ticket('T1', 'web', [1, 2, 3].map((n) => occ(n, n * 1000, [], null, {
      diagnosis: { rootCause: { service: 'web', host: 'local', cause: 'process_exited' }, confidence: 0.9, evidence: [], alternatives: [], recommended: [restartWeb, restartWeb], diagnoser: 'rules' },
    })))],
    actions: [],
    want: [row({ mode: 'observe', diagnosed: 3 })],
  },
  {
    name: 'time to recover is the middle one of the successes',
    tickets: [ticket('T1', 'web', [occ(1, 0, ['A1'], held(300)), occ(2, 1000, ['A2'], held(1100)), occ(3, 2000, ['A3'], held(2900))])],
    actions: [act('A1', 'T1', 'restart', 'web', 'completed', 10), act('A2', 'T1', 'restart', 'web', 'completed', 1010), act('A3', 'T1', 'restart', 'web', 'completed', 2010)],
    want: [row({ attempts: 3, successes: 3, recoverP50Ms: 300 })],
  },
];

void describe('track record', () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = trackRecords({ config: c.config ?? config(), tickets: c.tickets, actions: c.actions, since: c.since ?? null });
      assert.deepEqual(got.map((r): Row => ({
        type: r.type, scope: r.scope, mode: r.mode, attempts: r.attempts, successes: r.successes, failures: r.failures, recoverP50Ms: r.recoverP50Ms,
        reverts: r.reverts, predictions: r.predictions, wouldAllow: r.wouldAllow, wentAway: r.wentAway, byHand: r.byHand, diagnosed: r.diagnosed,
      })), c.want);
    });
  }

  it('the last attempts\' outcomes, oldest first, at most RECENT_ATTEMPTS', () => {
    const n = RECENT_ATTEMPTS + 2;
    const ids = Array.from({ length: n }, (_, i) => `A${i + 1}`);
    const tickets = ids.map((id, i) => ticket(`T${i + 1}`, 'web', [occ(1, i * 1000, [id], i % 2 === 0 ? held(i * 1000 + 500) : failed(i * 1000 + 500))]));
    const actions = ids.map((id, i) => act(id, `T${i + 1}`, 'restart', 'web', 'completed', i * 1000 + 10));
    const [r] = trackRecords({ config: config(), tickets, actions, since: null });
    assert.equal(r!.recent.length, RECENT_ATTEMPTS);
    assert.deepEqual(r!.recent, ['success', 'failure', 'success', 'failure', 'success']);
  });
});

function record(over: Partial<TrackRecord>): TrackRecord {
  return {
    type: 'restart', scope: 'service: web', mode: 'execute', services: ['web'], diagnosed: 0, attempts: 0, successes: 0, failures: 0,
    recoverP50Ms: null, reverts: 0, predictions: 0, wouldAllow: 0, wentAway: 0, byHand: 0, wentAwayP50Ms: null, recent: [], ...over,
  };
}

const ok = (n: number): TrackRecord['recent'] => Array.from({ length: Math.min(n, RECENT_ATTEMPTS) }, () => 'success' as const);
const N = PROMOTE_MIN_EVIDENCE;

const suggestions: { name: string; r: TrackRecord; agentMode?: Mode; want: ['promote' | 'demote' | 'keep', string | null]; says: RegExp }[] = [
  { name: 'observe with enough diagnoses: recommend', r: record({ mode: 'observe', diagnosed: N }), agentMode: 'observe', want: ['promote', 'recommend'], says: /agent\.mode: recommend/ },
  { name: 'observe with too few diagnoses: keep', r: record({ mode: 'observe', diagnosed: N - 1 }), agentMode: 'observe', want: ['keep', null], says: new RegExp(`${N - 1} of ${N} diagnoses`) },
  { name: 'shadow, every prediction allowed, none went away: the agent\'s mode', r: record({ mode: 'shadow', scope: 'policy.shadow[0] (service: db-*)', predictions: N, wouldAllow: N }), want: ['promote', 'execute'], says: /remove policy\.shadow\[0\] \(service: db-\*\) from policy\.shadow/ },
  { name: 'shadow under recommend: promoted to recommend', r: record({ mode: 'shadow', predictions: N, wouldAllow: N }), agentMode: 'recommend', want: ['promote', 'recommend'], says: /remove/ },
  { name: 'shadow with too few predictions: keep', r: record({ mode: 'shadow', predictions: N - 1, wouldAllow: N - 1 }), want: ['keep', null], says: new RegExp(`${N - 1} of ${N} predictions`) },
  { name: 'shadow, the policy would refuse some: fix the policy first', r: record({ mode: 'shadow', predictions: 20, wouldAllow: 18 }), want: ['keep', null], says: /would have refused 2 of 20/ },
  { name: 'shadow, most went away by themselves: acting may be unneeded', r: record({ mode: 'shadow', predictions: 10, wouldAllow: 10, wentAway: 6, wentAwayP50Ms: 4000 }), want: ['keep', null], says: /6 of 10 went away by themselves \(p50 4s\)/ },
  { name: 'recommend, enough verified repairs, none failed lately: execute', r: record({ mode: 'recommend', attempts: N, successes: N, recent: ok(N) }), agentMode: 'recommend', want: ['promote', 'execute'], says: /agent\.mode: execute/ },
  { name: 'recommend, 95 % but a failure in the last attempts: keep', r: record({ mode: 'recommend', attempts: 40, successes: 39, failures: 1, recent: ['success', 'success', 'failure', 'success', 'success'] }), agentMode: 'recommend', want: ['keep', null], says: /a failure in the last 5/ },
  { name: 'recommend, below 95 %: keep', r: record({ mode: 'recommend', attempts: 10, successes: 9, failures: 1, recent: ok(5) }), agentMode: 'recommend', want: ['keep', null], says: /9 of 10 verified \(90 %\)/ },
  { name: 'execute, failures lately: demote to shadow', r: record({ attempts: 8, successes: 6, failures: DEMOTE_AFTER_FAILURES, recent: ['success', 'failure', 'success', 'failure', 'success'] }), want: ['demote', 'shadow'], says: /add \{ service: web \} to policy\.shadow/ },
  { name: 'recommend, failures lately: demote to shadow too', r: record({ mode: 'recommend', attempts: 3, successes: 1, failures: 2, recent: ['failure', 'success', 'failure'] }), agentMode: 'recommend', want: ['demote', 'shadow'], says: /2 of the last 3 attempts failed/ },
  { name: 'execute, doing well: keep', r: record({ attempts: 12, successes: 12, recent: ok(5) }), want: ['keep', null], says: /12 of 12 verified/ },
];

void describe('suggestions: promotions where earned, demotions after failures', () => {
  for (const c of suggestions) {
    it(c.name, () => {
      const s = suggest(c.r, c.agentMode ?? 'execute');
      assert.deepEqual([s.kind, s.to], c.want);
      assert.match(`${s.why}; ${s.change ?? ''}`, c.says);
    });
  }
});
