// A paused service (warden pause, Monit's unmonitor): observed, but no ticket is opened or acted on
// and none of Warden's own actions start on it; a person's own start/stop/restart still runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW_ALL, Driver, dead, makeConfig, neverRan, running } from '../testing/domain.js';
import { proposeAction } from './action.js';

void describe('decide: paused services', () => {
  it('a dead paused service gets no ticket and no action; once resumed it is repaired', () => {
    const d = new Driver(makeConfig());
    d.paused.add('cache');
    for (let i = 0; i < 3; i++) {
      const out = d.advance(1000).pass({ cache: dead() });
      assert.deepEqual(out.execute, []);
    }
    assert.equal(d.tickets.size, 0);
    assert.equal(d.actions.size, 0);
    d.paused.delete('cache');
    const out = d.advance(1000).pass({ cache: dead() });
    assert.equal(d.onlyTicket().service, 'cache');
    assert.equal(out.execute.length, 1);
    assert.equal(d.action(out.execute[0]!).type, 'restart');
  });

  it('a ticket open when the service is paused stays as it is, and its waiting action does not start', () => {
    const d = new Driver(makeConfig({ rules: [{ ...ALLOW_ALL, approval: 'required' }] }));
    d.pass({ cache: dead() });
    const t = d.onlyTicket();
    assert.equal(t.status, 'awaiting_approval');
    d.approve('A1');
    d.paused.add('cache');
    const out = d.advance(1000).pass({ cache: dead() });
    assert.deepEqual(out.execute, []);
    assert.equal(d.ticket(t.id).status, 'awaiting_approval');
    d.paused.delete('cache');
    assert.deepEqual(d.advance(1000).pass({ cache: dead() }).execute, ['A1']);
  });

  it("Warden's first start waits on a paused service; a person's restart runs", () => {
    const d = new Driver(makeConfig());
    d.paused.add('cache');
    let out = d.pass({ cache: neverRan() });
    assert.deepEqual(out.execute, []);
    assert.deepEqual(out.report.recommendations.filter((r) => r.target === 'cache'), [{ event: 'reconcile_blocked', action: 'start', target: 'cache', reason: 'paused' }]);
    const manual = proposeAction({ id: 'A9', type: 'restart', target: 'cache', params: {}, ticketId: null, idempotencyKey: 'manual:cache', state: 'validated', why: {} }, { now: d.now, actor: 'person:alice' });
    d.actions.set('A9', manual.next);
    out = d.advance(100).pass({ cache: running() });
    assert.deepEqual(out.execute, ['A9']);
  });
});
