// Recommend mode as a workflow: a person approves a proposal and it runs once under policy; a mode
// switch by reload supersedes the old proposals; a service that should run and does not is reported.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW_ALL, Driver, dead, makeConfig, neverRan, type ConfigOptions } from '../testing/domain.js';
import { transitionAction } from './action.js';

function driver(opts: ConfigOptions = {}): Driver {
  return new Driver(makeConfig(opts));
}

void describe('recommend mode: approving a proposal', () => {
  it('the action machine lets a person approve or reject a proposal', () => {
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: dead() });
    const ctx = { now: d.now, actor: 'alice' };
    assert.equal(transitionAction(d.action('A1'), { type: 'approve', by: 'alice' }, ctx).next.state, 'validated');
    assert.equal(transitionAction(d.action('A1'), { type: 'reject', by: 'alice' }, ctx).next.state, 'cancelled');
  });

  it('an approved proposal runs once, and the ticket goes on through remediating and verifying', () => {
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: dead() });
    const t = d.onlyTicket();
    assert.equal(d.action('A1').state, 'proposed');
    d.approve('A1', 'alice');
    let out = d.advance(100).pass({ cache: dead() });
    assert.deepEqual(out.execute, ['A1']);
    assert.equal(d.ticket(t.id).status, 'remediating');
    assert.equal(d.ticket(t.id).reason, 'approved by alice');
    // Not run twice while the executor holds it.
    d.startAction('A1');
    out = d.advance(100).pass({ cache: dead() });
    assert.deepEqual(out.execute, []);
    d.completeAction('A1');
    d.advance(100).pass();
    assert.equal(d.ticket(t.id).status, 'verifying');
    d.advance(100).pass();
    d.advance(d.config.agent.verifyStableMs).pass();
    assert.equal(d.ticket(t.id).status, 'resolved');
    assert.equal(d.actions.size, 1, 'nothing else proposed or run');
    assert.ok(d.passes.every((p) => p.execute.filter((id) => id === 'A1').length <= 1));
    assert.equal(d.passes.flatMap((p) => p.execute).length, 1, 'executed once');
  });

  it('an approved proposal is still under policy: a rule that now denies it cancels it and escalates', () => {
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: dead() });
    d.approve('A1');
    d.config = makeConfig({ mode: 'recommend', rules: [ALLOW_ALL, { match: { service: 'cache', host: '*' }, allow: [], deny: ['restart'], approval: 'none' }] });
    const out = d.advance(100).pass({ cache: dead() });
    assert.deepEqual(out.execute, []);
    assert.equal(d.action('A1').state, 'cancelled');
    assert.match(d.action('A1').error ?? '', /policy\.rules\[1\] \(service: cache\) denies restart on cache/);
    assert.equal(d.onlyTicket().status, 'escalated');
  });

  it('a denied action is not proposed at all: the ticket escalates naming the rule', () => {
    const d = driver({ mode: 'recommend', rules: [ALLOW_ALL, { match: { service: 'cache', host: '*' }, allow: [], deny: ['restart'], approval: 'none' }] });
    d.pass({ cache: dead() });
    assert.equal(d.actions.size, 0);
    assert.equal(d.onlyTicket().status, 'escalated');
    assert.match(d.onlyTicket().reason ?? '', /policy\.rules\[1\] \(service: cache\) denies restart/);
  });

  it('a rejected proposal is not proposed again for the same occurrence', () => {
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: dead() });
    d.reject('A1', 'alice', 'not now');
    const out = d.advance(1000).pass({ cache: dead() });
    assert.deepEqual(out.execute, []);
    assert.equal(d.actions.size, 1);
    assert.equal(d.onlyTicket().status, 'open');
    assert.equal(d.onlyTicket().reason, 'recommend mode: A1 (restart cache) rejected by alice: not now; not proposed again for this occurrence');
    assert.deepEqual(d.advance(1000).pass({ cache: dead() }).actions, []);
  });

  it('an approved first start (deploy) runs once', () => {
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: neverRan() });
    d.approve('A1');
    const out = d.advance(100).pass({ cache: neverRan() });
    assert.deepEqual(out.execute, ['A1']);
    d.startAction('A1');
    assert.deepEqual(d.advance(100).pass({ cache: neverRan() }).execute, []);
    assert.equal(d.actions.size, 1);
  });
});

void describe('switching the mode re-plans', () => {
  it('recommend → execute: a leftover deploy proposal is superseded and the missing service is started', () => {
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: neverRan() });
    assert.equal(d.action('A1').state, 'proposed');
    d.config = makeConfig({ mode: 'execute' });
    const out = d.advance(1000).pass({ cache: neverRan() });
    assert.equal(d.action('A1').state, 'cancelled');
    assert.equal(d.action('A1').error, 'superseded: the mode is now execute');
    assert.deepEqual(out.execute, ['A2']);
    assert.equal(d.action('A2').type, 'start');
  });

  it('recommend → execute: a ticket\'s proposal is superseded and the repair runs', () => {
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: dead() });
    const t = d.onlyTicket();
    d.config = makeConfig({ mode: 'execute' });
    const out = d.advance(1000).pass({ cache: dead() });
    assert.equal(d.action('A1').state, 'cancelled');
    assert.deepEqual(out.execute, ['A2']);
    assert.equal(d.ticket(t.id).status, 'remediating');
    assert.ok(out.audit.some((a) => a.kind === 'action.cancelled' && a.subject === 'A1'));
  });

  it('recommend → observe: proposals are superseded and nothing is proposed', () => {
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: dead() });
    d.config = makeConfig({ mode: 'observe' });
    d.advance(1000).pass({ cache: dead() });
    assert.equal(d.action('A1').state, 'cancelled');
    assert.equal(d.actions.size, 1);
    assert.equal(d.onlyTicket().status, 'open');
  });
});

void describe('summary in recommend mode', () => {
  it('a service that should run and never started is not nominal', () => {
    const d = driver({ mode: 'recommend' });
    assert.equal(d.pass({ cache: neverRan() }).report.summary, 'degraded');
    assert.equal(driver({ mode: 'observe' }).pass({ cache: neverRan() }).report.summary, 'degraded');
    assert.equal(driver({ mode: 'recommend' }).pass({}).report.summary, 'nominal');
  });
});
