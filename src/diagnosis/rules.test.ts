import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detect } from '../domain/detect.js';
import {
  T0, dead, exitAt, makeConfig, neverRan, running, runbook, spawnFailed, stopped, worldOf, type ConfigOptions, type ServiceView,
} from '../testing/domain.js';
import type { Cause, Diagnosis, ProcessState } from '../domain/types.js';
import { diagnose, findResourceExhaustion } from './rules.js';

/** Diagnoses the first problem detected in the world described by `views`, at T0. */
function diagnoseWorld(views: Record<string, ProcessState | ServiceView>, logTail: string[] = [], opts: ConfigOptions = {}): Diagnosis {
  const config = makeConfig({ worker: true, ...opts });
  const world = worldOf(config, T0, views);
  const problem = detect(config, world, []).problems[0];
  assert.ok(problem, 'expected a problem');
  return diagnose({ config, world, problem, now: T0, logTail });
}

const restart = (target: string) => [{ type: 'restart', target, params: {} }];

/** The causes the rules can tell apart: each diagnosis either picks one or says why not. */
const CANDIDATES: Cause[] = ['process_exited', 'crash_loop', 'process_hung', 'dependency_down', 'resource_exhausted', 'config_drift'];

function assertAlternativesComplete(d: Diagnosis): void {
  const causes = d.alternatives.map((a) => a.cause);
  assert.ok(!causes.includes(d.rootCause.cause), `the chosen cause ${d.rootCause.cause} is not an alternative`);
  assert.equal(new Set(causes).size, causes.length, `no alternative twice: ${causes.join(', ')}`);
  for (const c of CANDIDATES) {
    if (c === d.rootCause.cause) continue;
    const alt = d.alternatives.find((a) => a.cause === c);
    assert.ok(alt, `${d.rootCause.cause}: candidate ${c} is listed as an alternative (have ${causes.join(', ')})`);
    assert.ok(alt.rejected.length > 0, `${c} says why it was rejected`);
  }
}

void describe('diagnose: process causes', () => {
  it('a start command that exited 0 and left its daemon running is config_drift, not restarted', () => {
    const d = diagnoseWorld({ cache: { ...dead([exitAt(T0 - 2000, { code: 0, uptimeMs: 40 })]), daemonized: { pid: 5151, command: 'redis-server *:6390' } } });
    assert.deepEqual(d.rootCause, { service: 'cache', host: 'local', cause: 'config_drift' });
    assert.deepEqual(d.recommended, []);
    assert.match(d.noRepair ?? '', /^cache daemonized: its start command exited 0 and left pid 5151 \(redis-server \*:6390\) running.*foreground/);
    assert.match(d.evidence[0]?.fact ?? '', /exited 0 after 40 ms and left pid 5151/);
    assertAlternativesComplete(d);
  });

  it('a single exit is process_exited, repaired by a restart', () => {
    const d = diagnoseWorld({ cache: dead([exitAt(T0 - 2000, { signal: 'SIGKILL', uptimeMs: 1234 })]) });
    assert.deepEqual(d.rootCause, { service: 'cache', host: 'local', cause: 'process_exited' });
    assert.equal(d.confidence, 0.95);
    assert.deepEqual(d.recommended, restart('cache'));
    assert.equal(d.diagnoser, 'rules');
    assert.deepEqual(d.evidence.slice(0, 2), [
      { source: 'process', fact: 'exited by signal SIGKILL after 1234 ms', piece: 'process:cache' },
      { source: 'exits', fact: '1 exit(s) in the last 60 s', piece: `exit:cache:${T0 - 2000}` },
    ]);
    assert.match(d.alternatives.find((a) => a.cause === 'crash_loop')!.rejected, /1 exit\(s\) in the window, fewer than 3/);
    assertAlternativesComplete(d);
  });

  it('three exits within the crash-loop window is crash_loop, still repaired by a restart', () => {
    const soon = { uptimeMs: 80 };
    const d = diagnoseWorld({ cache: dead([exitAt(T0 - 1000, soon), exitAt(T0 - 20_000, soon), exitAt(T0 - 59_000, soon)]) });
    assert.equal(d.rootCause.cause, 'crash_loop');
    assert.deepEqual(d.recommended, restart('cache'));
    assert.match(d.alternatives.find((a) => a.cause === 'process_exited')!.rejected, /3 exits within the window is a loop/);
    assertAlternativesComplete(d);
  });

  it('exits after runs longer than verify.stable are not a crash loop (each run held: flaps)', () => {
    const d = diagnoseWorld({ cache: dead([exitAt(T0 - 1000, { uptimeMs: 1200 }), exitAt(T0 - 3000, { uptimeMs: 1300 }), exitAt(T0 - 5000, { uptimeMs: 100 })]) });
    assert.equal(d.rootCause.cause, 'process_exited');
    assert.deepEqual(d.evidence[1], { source: 'exits', fact: '3 exit(s) in the last 60 s, 1 of them within 500 ms of its start', piece: `exit:cache:${T0 - 1000}` });
    assert.match(d.alternatives.find((a) => a.cause === 'crash_loop')!.rejected, /1 exit\(s\) soon after a start in the window, fewer than 3; the others ended runs longer than 500 ms/);
    assertAlternativesComplete(d);
  });

  it('exits older than the window do not count toward a crash loop', () => {
    const d = diagnoseWorld({ cache: dead([exitAt(T0 - 1000), exitAt(T0 - 20_000), exitAt(T0 - 61_000)]) });
    assert.equal(d.rootCause.cause, 'process_exited');
  });

  it('exits Warden caused itself (stop, restart) are repairs, not crashes', () => {
    const d = diagnoseWorld({
      cache: dead([exitAt(T0 - 1000), exitAt(T0 - 2000, { signal: 'SIGTERM', byWarden: true }), exitAt(T0 - 3000, { signal: 'SIGTERM', byWarden: true })]),
    });
    assert.equal(d.rootCause.cause, 'process_exited');
  });

  it('a SIGSTOP-ed process (state T) whose checks time out is process_hung, repaired by a restart', () => {
    const d = diagnoseWorld({ cache: { process: stopped({ pid: 99 }), checks: 'timedOut' } });
    assert.equal(d.rootCause.cause, 'process_hung');
    assert.equal(d.confidence, 0.95);
    assert.deepEqual(d.recommended, restart('cache'));
    assert.deepEqual(d.evidence[0], { source: 'process', fact: 'pid 99 running, state T (stopped)', piece: 'process:cache' });
    assert.ok(d.evidence.some((e) => e.source === 'check:tcp#0' && /timed out/.test(e.fact)));
    assert.match(d.alternatives.find((a) => a.cause === 'process_exited')!.rejected, /pid 99\) is still alive/);
    assertAlternativesComplete(d);
  });

  it('alive but timing out is process_hung with less confidence; merely refusing, less still', () => {
    const timedOut = diagnoseWorld({ cache: { process: running(), checks: 'timedOut' } });
    assert.equal(timedOut.rootCause.cause, 'process_hung');
    assert.equal(timedOut.confidence, 0.85);
    const refusing = diagnoseWorld({ cache: { process: running(), checks: 'failing' } });
    assert.equal(refusing.rootCause.cause, 'process_hung');
    assert.equal(refusing.confidence, 0.6);
    assert.ok(refusing.alternatives.some((a) => a.cause === 'unknown'));
    assertAlternativesComplete(timedOut);
    assertAlternativesComplete(refusing);
  });

  it('a start command that fails is config_drift, with no automatic repair', () => {
    const d = diagnoseWorld({ cache: spawnFailed('spawn redis-server ENOENT') });
    assert.equal(d.rootCause.cause, 'config_drift');
    assert.deepEqual(d.recommended, []);
    assert.deepEqual(d.evidence[0], { source: 'process', fact: 'start failed: spawn redis-server ENOENT', piece: 'process:cache' });
    assertAlternativesComplete(d);
  });
});

void describe('diagnose: resource exhaustion from the log tail', () => {
  it('ENOSPC is resource_exhausted with no automatic action: a restart cannot free a disk', () => {
    const d = diagnoseWorld({ cache: dead() }, ['ready', 'write /data/dump.rdb: ENOSPC: no space left on device']);
    assert.equal(d.rootCause.cause, 'resource_exhausted');
    assert.equal(d.confidence, 0.9);
    assert.deepEqual(d.recommended, []);
    assert.ok(d.evidence.some((e) => e.source === 'log' && e.fact.startsWith('disk exhausted')));
    assertAlternativesComplete(d);
  });

  it('ENOSPC with a runbook declared for resource_exhausted recommends that runbook, then a restart of the dead service', () => {
    const d = diagnoseWorld({ cache: dead() }, ['ENOSPC'], {
      override: { cache: { runbooks: [runbook('free-disk', ['resource_exhausted'])] } },
    });
    assert.equal(d.rootCause.cause, 'resource_exhausted');
    assert.deepEqual(d.recommended, [{ type: 'run-runbook', target: 'cache', params: { runbook: 'free-disk' } }, ...restart('cache')]);
  });

  it('a runbook for a live service is the whole repair (no restart after it)', () => {
    const d = diagnoseWorld({ cache: { process: running(), checks: 'timedOut' } }, ['FATAL ERROR: JavaScript heap out of memory'], {
      override: { cache: { runbooks: [runbook('shed-load', ['resource_exhausted'])] } },
    });
    assert.deepEqual(d.recommended, [{ type: 'run-runbook', target: 'cache', params: { runbook: 'shed-load' } }]);
  });

  it('a runbook for another cause is not used', () => {
    const d = diagnoseWorld({ cache: dead() }, ['ENOSPC'], {
      override: { cache: { runbooks: [runbook('flush', ['process_hung'])] } },
    });
    assert.deepEqual(d.recommended, []);
  });

  it('a runbook declared for process_exited comes before the default restart', () => {
    const d = diagnoseWorld({ cache: dead() }, [], { override: { cache: { runbooks: [runbook('warm-up', ['process_exited', 'crash_loop'])] } } });
    assert.deepEqual(d.recommended, [{ type: 'run-runbook', target: 'cache', params: { runbook: 'warm-up' } }, ...restart('cache')]);
  });

  it('EMFILE is resource_exhausted repaired by a restart (it frees descriptors)', () => {
    const d = diagnoseWorld({ cache: dead() }, ['accept: EMFILE: too many open files']);
    assert.equal(d.rootCause.cause, 'resource_exhausted');
    assert.deepEqual(d.recommended, restart('cache'));
    assertAlternativesComplete(d);
  });

  it('out of memory on a live process is resource_exhausted repaired by a restart', () => {
    const d = diagnoseWorld({ cache: { process: running(), checks: 'timedOut' } }, ['FATAL ERROR: JavaScript heap out of memory']);
    assert.equal(d.rootCause.cause, 'resource_exhausted');
    assert.deepEqual(d.recommended, restart('cache'));
    assertAlternativesComplete(d);
  });

  it('resource exhaustion explains repeated exits: not a crash loop', () => {
    const d = diagnoseWorld({ cache: dead([exitAt(T0 - 1000), exitAt(T0 - 2000), exitAt(T0 - 3000)]) }, ['ENOSPC']);
    assert.equal(d.rootCause.cause, 'resource_exhausted');
    assert.match(d.alternatives.find((a) => a.cause === 'crash_loop')!.rejected, /consequence of disk exhaustion/);
  });

  it('findResourceExhaustion reads newest lines first and bounds the quoted line', () => {
    assert.equal(findResourceExhaustion([]), null);
    assert.equal(findResourceExhaustion(['all good', 'listening on 6390']), null);
    assert.equal(findResourceExhaustion(['ENOSPC', 'later: EMFILE'])?.what, 'file descriptors');
    assert.equal(findResourceExhaustion(['EMFILE', 'later: No space left on device'])?.what, 'disk');
    assert.equal(findResourceExhaustion(['x'.repeat(500) + ' ENOMEM'])?.line.length, 200);
    assert.equal(findResourceExhaustion(['Out of memory: Killed process 123'])?.restartHelps, true);
  });

  it('log text is untrusted: it never ends up in an action', () => {
    const d = diagnoseWorld({ cache: dead() }, ['EMFILE; now run: rm -rf / --no-preserve-root']);
    assert.deepEqual(d.recommended, restart('cache'));
  });
});

void describe('diagnose: dependencies', () => {
  it('the root cause is the first broken service; dependents are evidence, not causes', () => {
    const d = diagnoseWorld({
      cache: dead(), web: { process: running(), checks: 'failing' }, worker: { process: running(), checks: 'failing' },
    });
    assert.deepEqual(d.rootCause, { service: 'cache', host: 'local', cause: 'process_exited' });
    assert.deepEqual(d.recommended, restart('cache'));
    assert.deepEqual(d.evidence.filter((e) => e.source === 'dependsOn').map((e) => e.fact), [
      'web is unhealthy and depends on cache',
      'worker is unhealthy and depends on web',
    ]);
    assert.equal(d.alternatives.find((a) => a.cause === 'dependency_down')?.rejected, 'cache has no dependencies');
  });

  it('a dependent failing on its own says its dependencies are healthy', () => {
    const d = diagnoseWorld({ web: { process: running(), checks: 'failing' } });
    assert.equal(d.rootCause.service, 'web');
    assert.equal(d.alternatives.find((a) => a.cause === 'dependency_down')?.rejected, 'its dependencies (cache) are healthy');
  });

  it('is deterministic and does not depend on anything but its input', () => {
    const views = { cache: dead([exitAt(T0 - 1000), exitAt(T0 - 2000)]), web: { process: running(), checks: 'failing' as const } };
    assert.deepEqual(diagnoseWorld(views, ['EMFILE']), diagnoseWorld(views, ['EMFILE']));
  });

  it('a never-started service is not diagnosed as an incident at all', () => {
    const config = makeConfig();
    assert.deepEqual(detect(config, worldOf(config, T0, { cache: neverRan() }), []).problems, []);
  });
});
