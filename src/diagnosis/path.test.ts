// A service that answers at its own address but not at the address its clients reach it by (a
// check through the proxy or link in between): the path is broken, not the service. Restarting the
// service cannot repair a path, and its dependents must not be blamed or restarted either.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detect } from '../domain/detect.js';
import { T0, checkState, makeConfig, running, tcpCheck, worldOf } from '../testing/domain.js';
import { diagnose } from './rules.js';

const direct = tcpCheck(6390);
const viaLink = tcpCheck(6400, { id: 'tcp#1' });

function diagnoseCache(viaLinkVerdict: 'timedOut' | 'failing') {
  const config = makeConfig({ override: { cache: { checks: [direct, viaLink] } } });
  const world = worldOf(config, T0, {
    cache: { process: running(), checks: [checkState('tcp#0', 'healthy'), checkState('tcp#1', viaLinkVerdict)] },
    web: { process: running(), checks: 'failing' },
  });
  const problem = detect(config, world, []).problems[0];
  assert.ok(problem);
  assert.equal(problem.service, 'cache', 'web depends on cache: cache is the first broken thing');
  return diagnose({ config, world, problem, now: T0, logTail: [] });
}

void describe('diagnose: a path that does not answer', () => {
  it('answers at its own address, not through the path: network_partition of cache, no restart', () => {
    const d = diagnoseCache('timedOut');
    assert.deepEqual(d.rootCause, { service: 'cache', host: 'local', cause: 'network_partition' });
    assert.deepEqual(d.recommended, []);
    assert.match(d.noRepair ?? '', /cache answers at 127\.0\.0\.1:6390 .* not at 127\.0\.0\.1:6400/);
    assert.ok(d.evidence.some((e) => e.source === 'check:tcp#1' && /timed out/.test(e.fact)));
    assert.match(d.alternatives.find((a) => a.cause === 'process_hung')?.rejected ?? '', /answers its check tcp#0/);
    assert.match(d.alternatives.find((a) => a.cause === 'performance_degraded')?.rejected ?? '', /slow path cannot be told from a cut one/);
  });

  it('a refusal through the path is not this rule: something answered there', () => {
    assert.notEqual(diagnoseCache('failing').rootCause.cause, 'network_partition');
  });
});
