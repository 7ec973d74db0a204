// Approvals as the action state machine keeps them: who may approve (never the requester, only the
// listed approvers or roles, each once), how many (a quorum), and until when (a lapsed request is
// denied) — and what a ticket says about each.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalError, approvalLapsed, proposeAction, transitionAction } from './action.js';
import { ALLOW_ALL, Driver, dead, makeConfig } from '../testing/domain.js';

const ctx = { now: 1_000_000, actor: 'otto', stamp: { mono: 5_000, boot: 'b1' } };
const awaiting = (approval?: { quorum: number; approvers: string[]; ttlMs: number }) =>
  proposeAction({ id: 'A1', type: 'restart', target: 'web', params: {}, ticketId: null, idempotencyKey: 'k', state: 'awaiting_approval', why: {}, ...(approval ? { approval } : {}) }, ctx).next;
const refused = (re: RegExp) => (e: unknown): boolean => e instanceof ApprovalError && e.code === 'APPROVAL_REFUSED' && re.test(e.message);

void describe('approvals: the action', () => {
  it('the requester cannot approve its own action', () => {
    const a = { ...awaiting(), requestedBy: 'person:alice' };
    assert.throws(() => transitionAction(a, { type: 'approve', by: 'person:alice' }, ctx), refused(/person:alice requested action A1 and cannot approve it too/));
    assert.equal(transitionAction(a, { type: 'approve', by: 'person:bob' }, ctx).next.state, 'validated');
  });

  it('only listed approvers, by name or role, may approve', () => {
    const a = awaiting({ quorum: 1, approvers: ['carol', 'role:dba'], ttlMs: 60_000 });
    assert.throws(() => transitionAction(a, { type: 'approve', by: 'person:bob', roles: ['oncall'] }, ctx), refused(/person:bob is not an approver of action A1 \(approvers: carol, role:dba\)/));
    assert.equal(transitionAction(a, { type: 'approve', by: 'person:carol' }, ctx).next.state, 'validated');
    assert.equal(transitionAction(a, { type: 'approve', by: 'person:dan', roles: ['dba'] }, ctx).next.state, 'validated');
  });

  it('2 of 3: the first approval is recorded, a second from the same person refused, another runs it', () => {
    const a = awaiting({ quorum: 2, approvers: ['alice', 'bob', 'carol'], ttlMs: 60_000 });
    const one = transitionAction(a, { type: 'approve', by: 'person:alice' }, ctx);
    assert.equal(one.next.state, 'awaiting_approval');
    assert.deepEqual(one.next.approval?.by, ['person:alice']);
    assert.equal(one.audit[0]?.kind, 'action.approval_recorded');
    assert.throws(() => transitionAction(one.next, { type: 'approve', by: 'person:alice' }, ctx), refused(/has approved action A1 already \(1 of 2\)/));
    const two = transitionAction(one.next, { type: 'approve', by: 'person:carol' }, ctx);
    assert.equal(two.next.state, 'validated');
    assert.equal(two.next.approvedBy, 'person:alice, person:carol');
    assert.equal(two.audit[0]?.kind, 'action.approved');
  });

  it('a request lapses after its TTL on monotonic time (wall steps do not move it), and expiry denies', () => {
    const a = awaiting({ quorum: 1, approvers: [], ttlMs: 60_000 });
    const req = a.approval!;
    assert.equal(approvalLapsed(req, { wall: ctx.now + 3_600_000, mono: 5_000 + 59_999, boot: 'b1' }), false);
    assert.equal(approvalLapsed(req, { wall: ctx.now - 3_600_000, mono: 5_000 + 60_000, boot: 'b1' }), true);
    assert.equal(approvalLapsed(req, { wall: ctx.now + 60_000, mono: 10, boot: 'b2' }), true, 'across a reboot: the wall clock');
    const e = transitionAction(a, { type: 'expire' }, ctx);
    assert.equal(e.next.state, 'cancelled');
    assert.match(e.next.error ?? '', /^approval expired \(0 of 1 approval by .*\): denied$/);
    assert.equal(e.audit[0]?.kind, 'action.expired');
  });
});

void describe('approvals: decide', () => {
  const required = { ...ALLOW_ALL, approval: 'required' as const };

  it('an unanswered request is denied when it lapses, and the ticket escalates saying so', () => {
    const d = new Driver(makeConfig({ rules: [{ ...required, approvalTtlMs: 30_000 }] }));
    d.pass({ cache: dead() });
    assert.equal(d.onlyTicket().status, 'awaiting_approval');
    assert.equal(d.advance(29_000).pass({ cache: dead() }).execute.length, 0);
    assert.equal(d.action('A1').state, 'awaiting_approval');
    const out = d.advance(1_000).pass({ cache: dead() });
    assert.deepEqual(out.execute, []);
    assert.equal(d.action('A1').state, 'cancelled');
    assert.equal(d.onlyTicket().status, 'escalated');
    assert.match(d.onlyTicket().reason ?? '', /^action A1 \(restart cache\): approval expired \(0 of 1 approval by .*\): denied; a person must act$/);
    assert.throws(() => d.approve('A1', 'person:alice'), /A1 is cancelled; approve needs/);
  });

  it('the policy default TTL applies when the rule gives none', () => {
    const d = new Driver(makeConfig({ rules: [required], approvalTtlMs: 5_000 }));
    d.pass({ cache: dead() });
    d.advance(5_000).pass({ cache: dead() });
    assert.equal(d.action('A1').state, 'cancelled');
  });

  it('a quorum of two: one approval says how many more, the second runs it', () => {
    const d = new Driver(makeConfig({ rules: [{ ...required, approvers: ['role:oncall'], quorum: 2 }] }));
    d.pass({ cache: dead() });
    d.approve('A1', 'person:alice', ['oncall']);
    d.advance(100).pass({ cache: dead() });
    assert.equal(d.onlyTicket().status, 'awaiting_approval');
    assert.equal(d.onlyTicket().reason, 'restart cache approved by person:alice; 1 more approval(s) needed: warden actions approve A1');
    d.approve('A1', 'person:bob', ['oncall']);
    const out = d.advance(100).pass({ cache: dead() });
    assert.deepEqual(out.execute, ['A1']);
    assert.equal(d.onlyTicket().reason, 'approved by person:alice, person:bob');
  });
});
