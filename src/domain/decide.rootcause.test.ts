// Issue 7, points 1 and 2: the first broken thing is the root cause, even when a dependent's check
// fails first (a stopped dependency behind a passing TCP check) or is slow to clear (a chain whose
// root takes seconds to come back).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STUCK_AFTER_MS } from './detect.js';
import {
  Driver, checkState, dead, makeConfig, running, service, stopped, tcpCheck, type ServiceView,
} from '../testing/domain.js';
import type { CheckState, ServiceSpec } from './types.js';

const httpCheck = { ...tcpCheck(8080), id: 'http#0', probe: { type: 'http', url: 'http://127.0.0.1:8080/' } };

/** A check result taken at the driver's instant, healthy since then (a recovery) or failing. */
function result(d: Driver, id: string, ok: boolean, over: Partial<CheckState> = {}): CheckState {
  const s = checkState(id, ok ? 'healthy' : 'failing', d.now, 'tcp', d.mono);
  return { ...s, since: d.now, sinceMono: d.mono, ...over };
}

describe('a stopped dependency behind a passing TCP check', () => {
  it('is the root cause, not the dependent whose HTTP check fails first', () => {
    const d = new Driver(makeConfig({ override: { web: { checks: [httpCheck] } } }));
    d.pass();
    // SIGSTOP: cache's TCP check still passes (the kernel completes connects on its backlog) and
    // web's HTTP check crosses its threshold before cache has been stopped for long.
    const since = d.mono;
    const world = (): ReturnType<Driver['world']> => d.world({
      cache: { process: stopped({ procStateSince: since }), checks: 'healthy' },
      web: { process: running(), checks: [checkState('http#0', 'timedOut', d.now, 'http', d.mono)] },
    });
    d.advance(100);
    const early = d.pass(world());
    assert.equal(d.tickets.size, 0, 'web is not blamed while its dependency is stopped');
    assert.equal(early.execute.length, 0);

    d.advance(STUCK_AFTER_MS);
    const out = d.pass(world());
    const t = d.onlyTicket();
    assert.equal(t.service, 'cache');
    assert.equal(t.rootCause?.service, 'cache');
    assert.equal(t.cause, 'process_hung');
    assert.deepEqual(t.findings.map((f) => [f.service, f.kind, f.dependencyDown]), [
      ['cache', 'unhealthy_service', undefined], ['web', 'unhealthy_service', 'cache'],
    ]);
    assert.match(t.findings[0]!.reason, /stopped \(state T\) for \d+ ms/);
    assert.deepEqual(out.execute.map((id) => [d.action(id).type, d.action(id).target]), [['restart', 'cache']]);
  });

  it('a D state for a moment is not a failure; for longer it is', () => {
    const d = new Driver(makeConfig());
    const since = d.mono;
    const view = (): Record<string, ServiceView> => ({ cache: { process: running({ procState: 'D', procStateSince: since }), checks: 'healthy' } });
    d.pass(view());
    assert.equal(d.tickets.size, 0);
    d.advance(STUCK_AFTER_MS).pass(view());
    assert.equal(d.onlyTicket().cause, 'process_hung');
  });
});

describe('a three-level chain whose root is slow to come back', () => {
  // front → mid → root: root dies and takes seconds to listen again after its restart.
  const chain: ServiceSpec[] = [
    service('root'),
    service('mid', { dependsOn: ['root'] }),
    service('front', { dependsOn: ['mid'] }),
  ];

  it('gets one ticket and only the root is restarted', () => {
    const d = new Driver(makeConfig({ services: chain }));
    const [rootCheck, midCheck, frontCheck] = chain.map((s) => s.checks[0]!.id);
    d.pass();
    d.advance(10);
    const first = d.pass({
      root: dead(),
      mid: { process: running(), checks: [result(d, midCheck!, false)] },
      front: { process: running(), checks: [result(d, frontCheck!, false)] },
    });
    assert.deepEqual(first.execute.map((id) => d.action(id).target), ['root']);
    d.executeAll();

    // Restarted, but slow: it runs and does not listen yet; its dependents keep failing.
    const restarted = running({ startedAt: d.now, startedMono: d.mono });
    let frontFailure = result(d, frontCheck!, false);
    for (let i = 0; i < 6; i++) {
      d.advance(500);
      frontFailure = result(d, frontCheck!, false);
      d.pass({
        root: { process: restarted, checks: [result(d, rootCheck!, false)] },
        mid: { process: running(), checks: [result(d, midCheck!, false)] },
        front: { process: running(), checks: [frontFailure] },
      });
    }
    // The root serves; then mid recovers, while front's last (failing) result is still from before.
    d.advance(500);
    const rootOk = result(d, rootCheck!, true);
    d.pass({ root: { process: restarted, checks: [rootOk] }, mid: { process: running(), checks: [result(d, midCheck!, false)] }, front: { process: running(), checks: [frontFailure] } });
    d.advance(100);
    const midOk = result(d, midCheck!, true);
    const stale = { root: { process: restarted, checks: [rootOk] }, mid: { process: running(), checks: [midOk] }, front: { process: running(), checks: [frontFailure] } };
    d.pass(stale);
    // Past the root's stable period: its ticket resolves while front still shows the stale result.
    d.advance(d.config.agent.verifyStableMs).pass(stale);
    d.advance(10).pass(stale);
    const t = d.onlyTicket();
    assert.equal(t.service, 'root');
    assert.equal(t.status, 'resolved');
    // Front probed again after the chain recovered: healthy, nothing more happens.
    d.advance(200);
    const out = d.pass({ root: { process: restarted, checks: [rootOk] }, mid: { process: running(), checks: [midOk] }, front: { process: running(), checks: [result(d, frontCheck!, true)] } });
    assert.equal(out.report.findings.length, 0);
    assert.equal(d.tickets.size, 1);
    assert.deepEqual([...d.actions.values()].map((a) => [a.type, a.target]), [['restart', 'root']]);
  });

  it('a dependent still failing when probed after the recovery is a problem of its own', () => {
    const d = new Driver(makeConfig({ services: chain }));
    const [, midCheck, frontCheck] = chain.map((s) => s.checks[0]!.id);
    d.pass();
    const frontFailure = result(d, frontCheck!, false);
    d.advance(100);
    const midOk = result(d, midCheck!, true);
    d.pass({ mid: { process: running(), checks: [midOk] }, front: { process: running(), checks: [frontFailure] } });
    assert.equal(d.tickets.size, 0, 'a result from before mid recovered stays mid\'s');
    d.advance(100);
    d.pass({ mid: { process: running(), checks: [midOk] }, front: { process: running(), checks: [result(d, frontCheck!, false)] } });
    assert.equal(d.onlyTicket().service, 'front');
  });
});
