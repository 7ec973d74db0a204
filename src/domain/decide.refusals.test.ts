// What the gate refused, as decide reports it (warden_actions_blocked_total counts these): once per
// refused decision, never once per pass while a ticket waits — a deferral audited and counted when
// it begins or its reason changes, a denial when it escalates, an expiry when the request lapses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW_ALL, Driver, dead, exitAt, makeConfig, running, type ConfigOptions } from '../testing/domain.js';
import type { DecideOutput } from './decide.js';
import type { WindowState } from './guardrails.js';

/** Refusals and policy audit records over `passes` passes a second apart, the first one included. */
function over(d: Driver, passes: number, views: Parameters<Driver['pass']>[0]): { by: string[]; audits: string[] } {
  const outs: DecideOutput[] = [];
  for (let i = 0; i < passes; i++) outs.push((i === 0 ? d : d.advance(1000)).pass(views));
  return {
    by: outs.flatMap((o) => o.refused.map((r) => r.by)),
    audits: outs.flatMap((o) => o.audit.filter((a) => a.kind.startsWith('policy.')).map((a) => a.kind)),
  };
}

const driver = (o: ConfigOptions = {}): Driver => new Driver(makeConfig(o));

void describe('decide: refusals, once per decision', () => {
  it('a cooldown deferral is audited and counted once while it lasts, however many passes', () => {
    const d = driver({ policy: { cooldownMs: 60_000 }, limits: [] });
    d.executeAll(d.pass({ cache: dead() }));
    d.advance(10).pass({ cache: running() });
    const again = dead([exitAt(d.now + 5, { signal: 'SIGKILL' })]);
    const r = over(d, 10, { cache: again });
    assert.deepEqual(r.by, ['cooldown']);
    assert.deepEqual(r.audits, ['policy.deferred']);
    assert.match(d.onlyTicket().reason ?? '', /^cooldown: the last repair of cache started at 2025-01-01T00:00:00\.000Z; no repair of it before 2025-01-01T00:01:00\.000Z \(cooldown 1m\)$/);
  });

  it('frozen: counted once (by freeze), not audited per ticket (the freeze is)', () => {
    const d = driver();
    d.frozen = true;
    const r = over(d, 5, { cache: dead() });
    assert.deepEqual(r.by, ['freeze']);
    assert.deepEqual(r.audits, []);
  });

  it('a deny window open: counted once by window; a policy that does not validate: once by invalid', () => {
    const d = driver();
    const w: WindowState = {
      window: { name: 'release', cron: '0 0 * * *', durationMs: 600_000, effect: 'deny', scope: { service: '*', host: '*', group: '*', labels: {} } },
      index: 0, open: true, endsAt: d.now + 600_000, nextAt: d.now + 86_400_000,
    };
    d.windows = [w];
    assert.deepEqual(over(d, 4, { cache: dead() }).by, ['window']);
    // Another reason for the same wait is another decision: counted again, once.
    d.policyError = 'warden.yaml:12:7: policy.rules[0].allow[0]: unknown action "restrat"';
    const r = over(d, 4, { cache: dead() });
    assert.deepEqual(r.by, ['invalid']);
    assert.deepEqual(r.audits, ['policy.deferred']);
  });

  it('denied by a rule, or by a limit reached: counted once, as the ticket escalates', () => {
    const denied = driver({ rules: [ALLOW_ALL, { match: { service: 'cache', host: '*' }, allow: [], deny: ['restart'], approval: 'none' }] });
    assert.deepEqual(over(denied, 4, { cache: dead() }).by, ['rule']);
    const limited = driver({ limits: [{ action: 'restart', per: 'service', max: 0, windowMs: 600_000 }] });
    assert.deepEqual(over(limited, 4, { cache: dead() }).by, ['limit']);
  });

  it('observe mode, or a target in shadow: each ticket counted once, by mode', () => {
    const d = driver({ mode: 'observe' });
    assert.deepEqual(over(d, 4, { cache: dead() }).by, ['mode']);
    const shadow = driver({ policy: { shadow: [{ service: 'cache', host: '*', group: '*', labels: {} }] } });
    assert.deepEqual(over(shadow, 4, { cache: dead() }).by, ['mode']);
  });

  it('an approval request that lapses: counted once, by approval_expired', () => {
    const d = driver({ rules: [{ ...ALLOW_ALL, approval: 'required' }], approvalTtlMs: 2000 });
    const r = over(d, 6, { cache: dead() });
    assert.deepEqual(r.by, ['approval_expired']);
    assert.equal(d.onlyTicket().status, 'escalated');
  });
});
