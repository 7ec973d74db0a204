// A ticket tells the story of each occurrence (issue 7, point 5): each occurrence keeps its own
// findings, diagnosis and verification outcome; a crash loop is not flapping; flapping stops automation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { flappingReason } from './decide.js';
import { transitionTicket } from './ticket.js';
import { Driver, dead, exitAt, makeConfig, running, stopped, type ConfigOptions, type ServiceView } from '../testing/domain.js';
import type { ProcessState, Ticket } from './types.js';

type Views = Record<string, ProcessState | ServiceView>;

function driver(opts: ConfigOptions = {}): Driver {
  return new Driver(makeConfig({ limits: [], ...opts }));
}

/** One repair of cache from `broken`: plan, execute, come back, verified for the stable period. */
function repair(d: Driver, broken: Views): Ticket {
  const out = d.pass(broken);
  assert.equal(out.execute.length, 1, `one action to execute: ${d.onlyTicket().status} ${d.onlyTicket().reason ?? ''}`);
  d.executeAll();
  d.advance(10).pass();
  d.advance(10).pass();
  d.advance(d.config.agent.verifyStableMs).pass();
  return d.onlyTicket();
}

/** What a person's `warden tickets resolve` does to a ticket (through the machine). */
function resolveByHand(d: Driver, id: string): void {
  const { next } = transitionTicket(d.ticket(id), { type: 'resolve', by: 'alice', reason: 'looked at it' }, { now: d.now, actor: 'alice', stamp: { mono: d.mono, boot: d.boot } });
  d.tickets.set(id, next);
}

const timedOut: ServiceView = { process: running(), checks: 'timedOut' };

void describe('decide: the story of each occurrence', () => {
  it('three occurrences each keep their own findings, diagnosis, actions and verification outcome', () => {
    const d = driver({ agent: { flapThreshold: 5 } });
    let t = repair(d, { cache: dead() });
    assert.equal(t.status, 'resolved');

    d.advance(60_000);
    t = repair(d, { cache: { process: stopped(), checks: 'timedOut' } });
    assert.equal(t.status, 'resolved');
    assert.equal(t.occurrences, 2);

    // The third repair does not hold: the service never answers again before the deadline.
    d.advance(60_000);
    d.pass({ cache: timedOut });
    d.executeAll();
    d.advance(10).pass({ cache: timedOut });
    d.advance(d.config.agent.verifyDeadlineMs + 1).pass({ cache: timedOut });
    t = d.onlyTicket();
    assert.equal(t.status, 'escalated');

    const h = t.history!;
    assert.deepEqual(h.map((o) => o.n), [1, 2, 3]);
    assert.deepEqual(h.map((o) => o.diagnosis?.rootCause.cause), ['process_exited', 'process_hung', 'process_hung']);
    assert.deepEqual(h.map((o) => o.diagnosis?.confidence), [0.95, 0.95, 0.85]);
    assert.ok(h[0]!.diagnosis!.evidence.some((e) => /SIGKILL/.test(e.fact)), JSON.stringify(h[0]!.diagnosis!.evidence));
    assert.ok(h[1]!.diagnosis!.evidence.some((e) => /stopped|\bT\b/.test(e.fact)), JSON.stringify(h[1]!.diagnosis!.evidence));
    assert.ok(h[2]!.diagnosis!.evidence.some((e) => /timed out/.test(e.fact)), JSON.stringify(h[2]!.diagnosis!.evidence));
    assert.deepEqual(h.map((o) => o.actionIds), [['A1'], ['A2'], ['A3']]);
    assert.deepEqual(h.map((o) => o.findings[0]?.kind), ['missing_service', 'unhealthy_service', 'unhealthy_service']);
    assert.deepEqual(h.map((o) => o.verification?.outcome), ['held', 'held', 'failed']);
    assert.equal(h[0]!.verification!.outcome === 'held' && h[0]!.verification!.healthyForMs >= d.config.agent.verifyStableMs, true);
    assert.match(h[2]!.verification!.outcome === 'failed' ? h[2]!.verification!.reason : '', /not healthy within 30000 ms/);
    assert.ok(h[0]!.resolvedAt !== null && h[1]!.resolvedAt !== null && h[2]!.resolvedAt === null);
    assert.ok(h[0]!.openedAt < h[1]!.openedAt && h[1]!.openedAt < h[2]!.openedAt);
    // The top-level fields are the current (third) occurrence's.
    assert.equal(t.confidence, 0.85);
    assert.deepEqual(t.diagnosis, h[2]!.diagnosis);
    assert.equal(t.flapping, false, 'below the threshold of 5');
  });

  it('a crash loop is one occurrence of repeated exits, not flapping', () => {
    const d = driver();
    const exits: ReturnType<typeof exitAt>[] = [];
    // Each run dies soon after its start, before it could have stayed healthy for verify.stable.
    const die = (): Views => { exits.unshift(exitAt(d.now - 1, { code: 1, uptimeMs: 200 })); return { cache: dead([...exits]) }; };
    repair(d, die());
    d.advance(5_000);
    repair(d, die());
    d.advance(5_000);
    d.pass(die());
    const t = d.onlyTicket();
    assert.equal(t.occurrences, 3);
    assert.equal(t.cause, 'crash_loop');
    assert.equal(t.flapping, false);
    assert.equal(t.status, 'remediating', `repaired as a crash loop, not stopped as flapping: ${t.reason ?? ''}`);
  });

  it('exits after runs that held are flaps, not a crash loop: the third occurrence stops automation', () => {
    const d = driver();
    const exits: ReturnType<typeof exitAt>[] = [];
    // Killed each time after its repair was verified: every run outlived verify.stable.
    const die = (): Views => { exits.unshift(exitAt(d.now - 1, { signal: 'SIGKILL', uptimeMs: 1_200 })); return { cache: dead([...exits]) }; };
    repair(d, die());
    d.advance(1_000);
    repair(d, die());
    d.advance(1_000);
    const out = d.pass(die());
    const t = d.onlyTicket();
    assert.equal(t.occurrences, 3);
    assert.equal(t.cause, 'process_exited', 'three exits within 60 s, but none soon after a start');
    assert.equal(t.flapping, true);
    assert.equal(t.status, 'escalated');
    assert.match(t.reason ?? '', /^flapping: 3 occurrences/);
    assert.deepEqual(out.execute, [], 'not restarted a third time');
  });

  it('a rate limit reached at the threshold is the reason given (it is the first refusal)', () => {
    const d = new Driver(makeConfig({ limits: [{ action: 'restart', per: 'service', max: 2, windowMs: 600_000 }] }));
    repair(d, { cache: dead() });
    d.advance(60_000);
    repair(d, { cache: dead() });
    d.advance(60_000).pass({ cache: dead() });
    const t = d.onlyTicket();
    assert.equal(t.flapping, true);
    assert.equal(t.status, 'escalated');
    assert.match(t.reason ?? '', /^limit reached: restart at most 2 per 10m on cache/);
  });

  it('at the flap threshold automation stops with the reason; a person resolving it resumes it', () => {
    const d = driver();
    repair(d, { cache: dead() });
    d.advance(60_000);
    repair(d, { cache: dead() });
    d.advance(60_000);
    const out = d.pass({ cache: dead() });
    let t = d.onlyTicket();
    assert.equal(t.occurrences, 3);
    assert.equal(t.flapping, true);
    assert.equal(t.status, 'escalated');
    assert.equal(t.reason, 'flapping: 3 occurrences, each back within 10m of being resolved; automation stopped; resolve by hand to resume');
    assert.equal(t.reason, flappingReason(t, d.config.agent.reopenWindowMs));
    assert.deepEqual(out.execute, [], 'no third restart');
    assert.equal(d.actions.size, 2);
    assert.equal(t.history!.at(-1)!.diagnosis?.rootCause.cause, 'process_exited', 'diagnosed, then held');

    // Still escalated on the next passes while the problem lasts.
    d.advance(1000).pass({ cache: dead() });
    assert.equal(d.onlyTicket().status, 'escalated');

    resolveByHand(d, t.id);
    assert.equal(d.onlyTicket().history!.at(-1)!.resolvedBy, 'alice');
    d.advance(60_000);
    t = repair(d, { cache: dead() });
    assert.equal(t.occurrences, 4);
    assert.equal(t.flapping, false, 'the count starts again after a person resolved it');
    assert.equal(t.status, 'resolved');
  });
});
