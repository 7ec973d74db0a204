// Shadow mode per scope: Warden diagnoses and consults the gate as if to act, records what it would
// have done, and never acts there; outside the scope it repairs as before; observe beats shadow.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW_ALL, Driver, dead, makeConfig, neverRan, running, type ConfigOptions } from '../testing/domain.js';
import { currentShadow } from './shadow.js';
import { transitionTicket } from './ticket.js';
import type { Scope } from './types.js';

const scope = (s: Partial<Scope>): Scope => ({ service: '*', host: '*', group: '*', labels: {}, ...s });

function driver(opts: ConfigOptions = {}, shadow: Partial<Scope>[] = [{ service: 'cache' }]): Driver {
  return new Driver(makeConfig({ ...opts, policy: { ...opts.policy, shadow: shadow.map(scope) } }));
}

void describe('shadow mode per scope', () => {
  it('records "would have restarted" with the verdict and the prediction, and never acts', () => {
    const d = driver();
    const first = d.pass({ cache: dead() });
    const t = d.onlyTicket();
    assert.equal(t.status, 'open');
    assert.equal(t.cause, 'process_exited');
    assert.equal(d.actions.size, 0, 'no action is even proposed');
    assert.deepEqual(first.execute, []);
    const s = currentShadow(t);
    assert.ok(s, 'the occurrence holds the shadow record');
    assert.deepEqual([s.type, s.target, s.verdict, s.reason, s.scope, s.outcome], ['restart', 'cache', 'allowed', null, 'policy.shadow[0] (service: cache)', null]);
    assert.match(s.predicted, /^cache healthy again: restart cache mends process_exited on cache/);
    assert.equal(t.reason, 'shadow: would have restarted cache (policy allows it); not acting: cache is in policy.shadow[0] (service: cache)');
    const audited = first.audit.filter((i) => i.kind === 'policy.shadowed');
    assert.equal(audited.length, 1);
    assert.equal(audited[0]!.data.verdict, 'allowed');
    assert.ok(Array.isArray(audited[0]!.data.policy), 'every check the gate consulted, for policy explain');
    // Pass after pass: still nothing runs, and the record is not written again.
    for (let i = 0; i < 5; i++) {
      const out = d.advance(1000).pass({ cache: dead() });
      assert.deepEqual(out.execute, []);
      assert.equal(out.audit.filter((x) => x.kind === 'policy.shadowed').length, 0);
    }
    assert.equal(d.actions.size, 0);
    assert.deepEqual(currentShadow(d.onlyTicket()), s);
  });

  it('the record says what the gate would have said: approval, refusal, deferral', () => {
    const approval = driver({ rules: [ALLOW_ALL, { match: { service: 'cache', host: '*' }, allow: ['restart'], approval: 'required' }] });
    approval.pass({ cache: dead() });
    assert.equal(currentShadow(approval.onlyTicket())?.verdict, 'approval');

    const refused = driver({ rules: [ALLOW_ALL, { match: { service: 'cache', host: '*' }, allow: [], deny: ['restart'], approval: 'none' }] });
    refused.pass({ cache: dead() });
    const r = currentShadow(refused.onlyTicket());
    assert.equal(r?.verdict, 'refused');
    assert.match(r?.reason ?? '', /policy\.rules\[1\] \(service: cache\) denies restart/);
    assert.equal(refused.onlyTicket().status, 'open', 'in shadow a refusal is recorded, not escalated');

    const frozen = driver();
    frozen.frozen = true;
    frozen.pass({ cache: dead() });
    assert.equal(currentShadow(frozen.onlyTicket())?.verdict, 'deferred');
  });

  it('a problem that goes away by itself is recorded with how long it took', () => {
    const d = driver();
    d.pass({ cache: dead() });
    const out = d.advance(12_000).pass({ cache: running() });
    const t = d.onlyTicket();
    assert.equal(t.status, 'resolved');
    const s = t.history!.at(-1)!.shadow!;
    assert.deepEqual(s.outcome, { kind: 'went_away', at: d.now, afterMs: 12_000 });
    assert.equal(t.reason, 'recovered without action: went away by itself 12s after Warden would have restarted cache (shadow)');
    assert.ok(out.audit.some((i) => i.kind === 'ticket.shadow_outcome' && i.data.outcome === 'went_away' && i.data.afterMs === 12_000));
  });

  it('a service outside the scope is repaired as before', () => {
    const d = driver({}, [{ service: 'web' }]);
    const out = d.pass({ cache: dead() });
    assert.deepEqual(out.execute, ['A1']);
    assert.equal(currentShadow(d.onlyTicket()), null);
  });

  it('scopes select by labels and host like tiers do', () => {
    const d = driver({ override: { cache: { labels: { team: 'data' } } } }, [{ labels: { team: 'd*' } }]);
    d.pass({ cache: dead() });
    assert.equal(d.actions.size, 0);
    assert.equal(currentShadow(d.onlyTicket())?.scope, 'policy.shadow[0] (service: *, team=d*)');
  });

  it('observe beats shadow: nothing is planned, nothing recorded', () => {
    const d = driver({ mode: 'observe' });
    d.pass({ cache: dead() });
    assert.equal(currentShadow(d.onlyTicket()), null);
    assert.equal(d.onlyTicket().reason, 'observe mode: no action proposed');
  });

  it('shadow beats recommend: nothing is proposed for a person to approve', () => {
    const d = driver({ mode: 'recommend' });
    d.pass({ cache: dead() });
    assert.equal(d.actions.size, 0);
    assert.equal(currentShadow(d.onlyTicket())?.type, 'restart');
  });

  it('a service in shadow that never ran is not started; the report says so', () => {
    const d = driver();
    const out = d.pass({ cache: neverRan() });
    assert.equal(d.actions.size, 0);
    assert.deepEqual(out.execute, []);
    const rec = out.report.recommendations.find((r) => r.target === 'cache');
    assert.match(rec?.reason ?? '', /shadow: not started \(policy\.shadow\[0\] \(service: cache\)\)/);
  });

  it('a scope put in shadow cancels what Warden planned there and has not started; the ticket goes on in shadow', () => {
    const d = driver({ rules: [ALLOW_ALL, { match: { service: 'cache', host: '*' }, allow: ['restart'], approval: 'required' }] }, []);
    d.pass({ cache: dead() });
    assert.equal(d.action('A1').state, 'awaiting_approval');
    d.config = makeConfig({ rules: d.config.policy.rules, policy: { shadow: [scope({ service: 'cache' })] } });
    const out = d.advance(1000).pass({ cache: dead() });
    assert.deepEqual(out.execute, []);
    assert.equal(d.action('A1').state, 'cancelled');
    assert.match(d.action('A1').error ?? '', /superseded: cache is in shadow \(policy\.shadow\[0\] \(service: cache\)\)/);
    const t = d.onlyTicket();
    assert.equal(t.status, 'open');
    assert.match(t.reason ?? '', /^shadow: would have restarted cache \(policy allows it after a person's approval\)/);
  });

  it('a person who resolves a ticket in shadow is recorded: it did not go away by itself', () => {
    const d = driver();
    d.pass({ cache: dead() });
    const id = d.onlyTicket().id;
    d.tickets.set(id, transitionTicket(d.ticket(id), { type: 'resolve', by: 'person:alice', reason: 'fixed by hand' }, { now: d.now, actor: 'person:alice' }).next);
    assert.deepEqual(currentShadow(d.ticket(id))?.outcome, { kind: 'resolved_by_person', at: d.now, by: 'person:alice' });
  });
});
