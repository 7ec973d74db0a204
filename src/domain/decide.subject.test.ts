// Subjects in the loop: a group of three replicas whose quorum is a majority. One member down is
// that member's own ticket; two down is the group's problem: one ticket, quorum_lost, repaired one
// member at a time (each step verified before the next), never touching the healthy member.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Driver, dead, makeConfig, running, service } from '../testing/domain.js';
import type { SubjectSpec } from './types.js';

const GROUP: SubjectSpec = { name: 'rs', type: 'group', host: 'local', members: ['r1', 'r2', 'r3'], params: { minHealthy: null }, intervalMs: 1000 };

/** Passes every 100 ms of simulated time over `views` until `done` holds (at most 5 s); the last output. */
function passUntil(d: Driver, views: Parameters<Driver['pass']>[0], done: (out: ReturnType<Driver['pass']>) => boolean): ReturnType<Driver['pass']> {
  for (let i = 0; i < 50; i++) {
    const out = d.advance(100).pass(views);
    if (done(out)) return out;
  }
  throw new Error('not reached within 5 s of passes');
}

function driver(): Driver {
  return new Driver(makeConfig({ services: [service('r1'), service('r2'), service('r3')], subjects: [GROUP] }));
}

void describe('subject: a group with a quorum', () => {
  it('one member down: the quorum holds, and the member has its own ticket', () => {
    const d = driver();
    const out = d.pass({ r1: dead() });
    assert.equal(out.detection.subjects.rs?.health, 'healthy');
    const t = d.onlyTicket();
    assert.equal(t.service, 'r1');
    assert.equal(t.cause, 'process_exited');
  });

  it('two members down: one ticket for the group, quorum_lost; the quorum back, the last member is its own problem', () => {
    const d = driver();
    const out = d.pass({ r1: dead(), r2: dead() });
    assert.equal(out.detection.subjects.rs?.health, 'unhealthy');
    assert.equal(out.detection.problems.length, 1, 'one problem, however many members show symptoms');
    const t = d.onlyTicket();
    assert.equal(t.service, 'rs');
    assert.equal(t.fingerprint, 'subject:rs/quorum');
    assert.equal(t.cause, 'quorum_lost');
    assert.match(t.diagnosis?.evidence.find((e) => e.source === 'invariant:quorum')?.fact ?? '', /^1 of 3 members healthy, 2 needed \(r1 missing, r2 missing\)$/);
    assert.deepEqual(out.execute.map((id) => `${d.action(id).type} ${d.action(id).target}`), ['restart r1'], 'one member first');
    d.executeAll();

    // r1 back: the quorum holds again, so the group's repair is verified; r2, still down, is now a
    // member's failure like any other, with its own ticket. r3 is never touched.
    const r1 = running({ startedAt: d.now, startedMono: d.mono });
    passUntil(d, { r1, r2: dead() }, () => d.ticket(t.id).status === 'resolved');
    const own = [...d.tickets.values()].find((x) => x.service === 'r2');
    assert.equal(own?.cause, 'process_exited');
    assert.deepEqual([...d.actions.values()].map((a) => `${a.type} ${a.target}`), ['restart r1', 'restart r2']);
  });

  it("a member's own repair under way is waited for, not done twice by the group's ticket", () => {
    const d = driver();
    d.pass({ r1: dead() });
    const own = d.onlyTicket();
    assert.deepEqual([...d.actions.values()].map((a) => `${a.type} ${a.target} ${a.state}`), ['restart r1 validated']);
    // Before that restart runs, r2 dies too: the quorum is lost, and the group's ticket would restart r1.
    const out = d.advance(10).pass({ r1: dead(), r2: dead() });
    const group = [...d.tickets.values()].find((x) => x.service === 'rs')!;
    assert.match(group.reason ?? '', /^waiting: restart r1 is under way \(A1\)$/);
    assert.equal([...d.actions.values()].filter((a) => a.target === 'r1').length, 1, 'one restart of r1');
    assert.ok(out.execute.every((id) => d.action(id).ticketId === own.id));
  });

  it('a quorum of all three: each step verified, the next chosen afresh, one ticket to the end', () => {
    const d = new Driver(makeConfig({ services: [service('r1'), service('r2'), service('r3')], subjects: [{ ...GROUP, params: { minHealthy: 3 } }] }));
    const out = d.pass({ r1: dead(), r2: dead() });
    assert.deepEqual(out.execute.map((id) => `${d.action(id).type} ${d.action(id).target}`), ['restart r1']);
    d.executeAll();
    const r1 = running({ startedAt: d.now, startedMono: d.mono });
    const next = passUntil(d, { r1, r2: dead() }, (o) => o.execute.length > 0);
    assert.deepEqual(next.execute.map((id) => `${d.action(id).type} ${d.action(id).target}`), ['restart r2']);
    assert.equal(d.onlyTicket().failedRepairs, 0, 'a step that held is no failed repair');
    assert.match(d.onlyTicket().reason ?? '', /^restart r2/);
    d.executeAll();
    const r2 = running({ startedAt: d.now, startedMono: d.mono });
    passUntil(d, { r1, r2 }, () => d.onlyTicket().status === 'resolved');
    assert.deepEqual([...d.actions.values()].map((a) => a.target), ['r1', 'r2']);
  });
});

void describe('subject: PromQL invariants', () => {
  const backlog = { id: 'backlog', expr: 'queue_depth > 10', forMs: 1000, cause: 'performance_degraded' as const, description: 'the queue drains' };
  const withPromql: SubjectSpec = { ...GROUP, promql: [backlog] };
  const firing = (value: number): { firing: boolean; message: string; value: number; at: number } =>
    ({ at: 0, firing: true, message: `firing (1 series for 1s or more): queue_depth{q="jobs"} ${value}`, value });

  it('fires: one ticket naming the invariant, its cause and value; nothing done; it clears: resolved', () => {
    const d = new Driver(makeConfig({ services: [service('r1'), service('r2'), service('r3')], subjects: [withPromql] }));
    const hot = { ...d.world(), promql: { rs: { backlog: firing(50) } } };
    const out = d.pass(hot);
    assert.equal(out.detection.subjects.rs?.health, 'unhealthy');
    const t = d.onlyTicket();
    assert.equal(t.fingerprint, 'subject:rs/backlog');
    assert.equal(t.cause, 'performance_degraded');
    assert.deepEqual(t.findings.map((f) => [f.kind, f.invariant, f.reason, f.value]), [
      ['invariant_violated', 'backlog', 'backlog: firing (1 series for 1s or more): queue_depth{q="jobs"} 50', 50],
    ]);
    assert.equal(t.diagnosis?.evidence.find((e) => e.source === 'invariant:backlog')?.fact, 'firing (1 series for 1s or more): queue_depth{q="jobs"} 50');
    assert.equal(t.status, 'open');
    assert.match(t.reason ?? '', /^no automatic repair for PromQL invariant backlog: open until it clears/);
    assert.equal(d.actions.size, 0, 'no member is touched for a query');

    // Still firing, a new value: the same ticket; then the query returns nothing: verified like a
    // problem waited out (it may fire again at once), then resolved.
    d.advance(100).pass({ ...d.world(), promql: { rs: { backlog: firing(60) } } });
    assert.equal(d.onlyTicket().status, 'open');
    const clear = { rs: { backlog: { at: 0, firing: false, message: 'no series: the condition does not hold', value: null } } };
    d.advance(100).pass({ ...d.world(), promql: clear });
    assert.equal(d.ticket(t.id).status, 'verifying');
    for (let i = 0; i < 5 && d.ticket(t.id).status !== 'resolved'; i++) d.advance(500).pass({ ...d.world(), promql: clear });
    assert.equal(d.ticket(t.id).status, 'resolved');
    assert.equal(d.actions.size, 0);
  });

  it("the type's own broken invariant comes first and its repair runs; the PromQL one is evidence beside it", () => {
    const d = new Driver(makeConfig({ services: [service('r1'), service('r2'), service('r3')], subjects: [withPromql] }));
    d.pass({ ...d.world({ r1: dead(), r2: dead() }), promql: { rs: { backlog: firing(50) } } });
    const t = d.onlyTicket();
    assert.equal(t.cause, 'quorum_lost');
    assert.deepEqual(t.diagnosis?.evidence.filter((e) => e.source.startsWith('invariant:')).map((e) => e.source), ['invariant:quorum', 'invariant:backlog']);
    assert.ok(t.diagnosis?.alternatives.some((a) => a.cause === 'performance_degraded' && a.rejected === 'backlog is broken too, but quorum is graver'));
    assert.deepEqual([...d.actions.values()].map((a) => `${a.type} ${a.target}`), ['restart r1']);
  });
});
