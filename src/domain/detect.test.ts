import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detect, fingerprintOf, serviceHealth } from './detect.js';
import {
  T0, checkState, dead, exitAt, makeConfig, neverRan, running, service, spawnFailed, stopped, worldOf,
} from '../testing/domain.js';
import type { Ticket } from './types.js';

function ticketFor(svc: string, status: Ticket['status']): Ticket {
  return {
    id: 'T9', fingerprint: fingerprintOf('local', svc), status, service: svc, host: 'local', findings: [], cause: 'process_exited',
    rootCause: { service: svc, host: 'local', cause: 'process_exited' }, confidence: 0.95, occurrences: 1, flapping: false,
    openedAt: T0 - 5000, diagnosedAt: T0 - 5000, resolvedAt: null, updatedAt: T0 - 5000, actionIds: [], diagnosis: null,
    verification: null, reason: null, failedRepairs: 0,
  };
}

void describe('serviceHealth', () => {
  const spec = service('cache');
  const obs = (process = running(), checks = [checkState('tcp#0', 'healthy')]) => ({ name: 'cache', host: 'local', process, checks });

  it('is unknown before the first observation', () => {
    assert.deepEqual(serviceHealth(spec, undefined), { health: 'unknown', reason: 'not observed yet' });
  });

  it('is missing when the process is gone, saying how it went', () => {
    assert.deepEqual(serviceHealth(spec, obs(dead([exitAt(T0, { signal: 'SIGKILL' })]))), { health: 'missing', reason: 'process killed by SIGKILL' });
    assert.deepEqual(serviceHealth(spec, obs(dead([exitAt(T0, { code: 3 })]))), { health: 'missing', reason: 'process exited with code 3' });
    assert.deepEqual(serviceHealth(spec, obs(neverRan())), { health: 'missing', reason: 'not running' });
    assert.deepEqual(serviceHealth(spec, obs(spawnFailed('spawn redis-server ENOENT'))), { health: 'missing', reason: 'cannot start: spawn redis-server ENOENT' });
  });

  it('is unhealthy when a check fails even though the process runs, naming the check', () => {
    const h = serviceHealth(spec, obs(running(), [checkState('tcp#0', 'failing')]));
    assert.equal(h.health, 'unhealthy');
    assert.match(h.reason, /^check tcp#0 failing: connect ECONNREFUSED/);
  });

  it('is unknown (not healthy) while checks have no result yet: alive is not healthy', () => {
    assert.equal(serviceHealth(spec, obs(running(), [checkState('tcp#0', 'pending')])).health, 'unknown');
  });

  it('is healthy when every check passes, or when the process runs and there are no checks', () => {
    assert.equal(serviceHealth(spec, obs()).health, 'healthy');
    const bare = service('bare', { checks: [] });
    assert.deepEqual(serviceHealth(bare, { name: 'bare', host: 'local', process: running({ pid: 77 }), checks: [] }), { health: 'healthy', reason: 'process 77 running' });
  });
});

void describe('detect', () => {
  it('finds nothing when everything is healthy', () => {
    const cfg = makeConfig({ worker: true });
    const d = detect(cfg, worldOf(cfg, T0), []);
    assert.deepEqual(d.findings, []);
    assert.deepEqual(d.problems, []);
    assert.deepEqual(d.neverStarted, []);
    assert.deepEqual(Object.values(d.health).map((h) => h.health), ['healthy', 'healthy', 'healthy']);
  });

  it('a dead process is a missing_service finding and one problem keyed by a stable fingerprint', () => {
    const cfg = makeConfig();
    const d = detect(cfg, worldOf(cfg, T0, { cache: dead() }), []);
    assert.deepEqual(d.findings, [{ kind: 'missing_service', service: 'cache', host: 'local', reason: 'process killed by SIGKILL' }]);
    assert.equal(d.problems.length, 1);
    assert.deepEqual(d.problems[0], { fingerprint: 'service:local/cache', service: 'cache', host: 'local', findings: d.findings });
  });

  it('a process that runs but fails its checks is an unhealthy_service finding', () => {
    const cfg = makeConfig();
    const d = detect(cfg, worldOf(cfg, T0, { cache: { process: stopped(), checks: 'timedOut' } }), []);
    assert.equal(d.findings.length, 1);
    assert.equal(d.findings[0]?.kind, 'unhealthy_service');
    assert.equal(d.health.cache?.health, 'unhealthy');
  });

  it('a start command that fails is a failed_deployment, not a never-started service', () => {
    const cfg = makeConfig();
    const d = detect(cfg, worldOf(cfg, T0, { cache: spawnFailed() }), []);
    assert.deepEqual(d.findings.map((f) => f.kind), ['failed_deployment']);
    assert.deepEqual(d.neverStarted, []);
  });

  it('services that never ran are a deployment (neverStarted), not an incident', () => {
    const cfg = makeConfig({ worker: true });
    const d = detect(cfg, worldOf(cfg, T0, { cache: neverRan(), web: neverRan(), worker: neverRan() }), []);
    assert.deepEqual(d.neverStarted, ['cache', 'web', 'worker']);
    assert.deepEqual(d.findings, []);
    assert.deepEqual(d.problems, []);
  });

  it('a dependency down gives ONE problem rooted at the dependency, the dependent attached with dependencyDown', () => {
    const cfg = makeConfig();
    const d = detect(cfg, worldOf(cfg, T0, { cache: dead(), web: { process: running(), checks: 'failing' } }), []);
    assert.equal(d.problems.length, 1);
    const p = d.problems[0]!;
    assert.equal(p.service, 'cache');
    assert.equal(p.fingerprint, 'service:local/cache');
    assert.deepEqual(p.findings.map((f) => [f.service, f.kind, f.dependencyDown]), [
      ['cache', 'missing_service', undefined],
      ['web', 'unhealthy_service', 'cache'],
    ]);
  });

  it('follows a chain to the first broken service; each dependent names its direct broken dependency', () => {
    const cfg = makeConfig({ worker: true });
    const d = detect(cfg, worldOf(cfg, T0, {
      cache: dead(), web: { process: running(), checks: 'failing' }, worker: { process: running(), checks: 'failing' },
    }), []);
    assert.equal(d.problems.length, 1);
    assert.deepEqual(d.problems[0]!.findings.map((f) => [f.service, f.dependencyDown]), [
      ['cache', undefined], ['web', 'cache'], ['worker', 'web'],
    ]);
  });

  it('a dependent that fails while its dependencies are healthy is its own problem', () => {
    const cfg = makeConfig({ worker: true });
    const d = detect(cfg, worldOf(cfg, T0, { web: { process: running(), checks: 'failing' } }), []);
    assert.deepEqual(d.problems.map((p) => p.service), ['web']);
    assert.equal(d.problems[0]!.findings[0]!.dependencyDown, undefined);
  });

  it('a dependency still being repaired (ticket verifying) keeps the dependent\'s symptom on its ticket', () => {
    const cfg = makeConfig();
    const world = worldOf(cfg, T0, { web: { process: running(), checks: 'failing' } });
    const d = detect(cfg, world, [ticketFor('cache', 'verifying')]);
    assert.equal(d.problems.length, 1);
    assert.equal(d.problems[0]!.service, 'cache');
    assert.equal(d.problems[0]!.findings[0]!.dependencyDown, 'cache');
    // An escalated ticket is not a repair under way: the dependent is a problem of its own.
    const e = detect(cfg, world, [ticketFor('cache', 'escalated')]);
    assert.deepEqual(e.problems.map((p) => p.service), ['web']);
  });

  it('orders problems by inventory and findings root first, whatever order the inventory lists them in', () => {
    const cfg = makeConfig({
      services: [
        service('web', { dependsOn: ['cache'] }), service('solo'), service('cache'), service('other'),
      ],
    });
    const d = detect(cfg, worldOf(cfg, T0, {
      web: { process: running(), checks: 'failing' }, cache: dead(), other: dead(), solo: dead(),
    }), []);
    assert.deepEqual(d.problems.map((p) => p.service), ['solo', 'cache', 'other']);
    assert.deepEqual(d.problems[1]!.findings.map((f) => f.service), ['cache', 'web']);
  });

  it('survives a dependency cycle without looping', () => {
    const cfg = makeConfig({ services: [service('a', { dependsOn: ['b'] }), service('b', { dependsOn: ['a'] })] });
    const d = detect(cfg, worldOf(cfg, T0, { a: dead(), b: dead() }), []);
    assert.equal(d.findings.length, 2);
    assert.equal(d.problems.length, 1);
  });

  it('is deterministic: the same inputs give deep-equal detections', () => {
    const cfg = makeConfig({ worker: true });
    const world = worldOf(cfg, T0, { cache: dead(), web: { process: running(), checks: 'failing' } });
    assert.deepEqual(detect(cfg, world, []), detect(structuredClone(cfg), structuredClone(world), []));
  });
});
