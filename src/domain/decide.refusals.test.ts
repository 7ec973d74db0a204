// A refusal is recorded once per decision, never once per pass while a ticket waits: a deferral is
// audited when it begins or its reason changes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Driver, dead, exitAt, makeConfig, running, type ConfigOptions } from '../testing/domain.js';
import type { DecideOutput } from './decide.js';

/** Refusals and policy audit records over `passes` passes a second apart, the first one included. */
function over(d: Driver, passes: number, views: Parameters<Driver['pass']>[0]): { audits: string[] } {
  const outs: DecideOutput[] = [];
  for (let i = 0; i < passes; i++) outs.push((i === 0 ? d : d.advance(1000)).pass(views));
  return {
    audits: outs.flatMap((o) => o.audit.filter((a) => a.kind.startsWith('policy.')).map((a) => a.kind)),
  };
}

const driver = (o: ConfigOptions = {}): Driver => new Driver(makeConfig(o));

void describe('decide: a deferral is audited once, however many passes it stands', () => {
  it('a cooldown deferral is audited once while it lasts', () => {
    const d = driver({ policy: { cooldownMs: 60_000 }, limits: [] });
    d.executeAll(d.pass({ cache: dead() }));
    d.advance(10).pass({ cache: running() });
    const again = dead([exitAt(d.now + 5, { signal: 'SIGKILL' })]);
    const r = over(d, 10, { cache: again });
    assert.deepEqual(r.audits, ['policy.deferred']);
    assert.match(d.onlyTicket().reason ?? '', /^cooldown: the last repair of cache started at 2025-01-01T00:00:00\.000Z; no repair of it before 2025-01-01T00:01:00\.000Z \(cooldown 1m\)$/);
  });
});
