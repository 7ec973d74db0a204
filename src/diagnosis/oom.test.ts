import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detect } from '../domain/detect.js';
import { T0, dead, exitAt, makeConfig, worldOf } from '../testing/domain.js';
import type { ProcessState } from '../domain/types.js';
import { diagnose } from './rules.js';

/** A container the kernel killed for memory, as the podman driver reports it. */
function oomKilled(facts: Record<string, string | number | null>): ProcessState {
  return { ...dead([exitAt(T0 - 1000, { code: 137, signal: 'SIGKILL', uptimeMs: 900 })]), facts };
}

function diagnoseCache(proc: ProcessState) {
  const config = makeConfig({ worker: true });
  const world = worldOf(config, T0, { cache: proc });
  const problem = detect(config, world, []).problems[0]!;
  return diagnose({ config, world, problem, now: T0, logTail: [] });
}

void describe('diagnose: a container OOM-killed', () => {
  it('is resource_exhausted, citing OOMKilled and the memory limit, and restarted', () => {
    const d = diagnoseCache(oomKilled({ Container: 'cache', Status: 'exited', ExitCode: 137, OOMKilled: 'true', MemoryLimit: 33554432 }));
    assert.deepEqual(d.rootCause, { service: 'cache', host: 'local', cause: 'resource_exhausted' });
    assert.ok(d.evidence.some((e) => e.source === 'container' && /OOMKilled: the kernel's OOM killer killed container cache/.test(e.fact)), JSON.stringify(d.evidence));
    assert.ok(d.evidence.some((e) => e.source === 'container' && e.fact === 'memory limit 32 MiB (33554432 bytes)'), JSON.stringify(d.evidence));
    assert.match(d.alternatives.find((a) => a.cause === 'process_exited')!.rejected, /did not exit on its own/);
    assert.deepEqual(d.recommended, [{ type: 'restart', target: 'cache', params: {} }]);
  });

  it('names the pod member and says when the kernel log, not Podman, told it', () => {
    const d = diagnoseCache(oomKilled({ Pod: 'cache', State: 'Degraded', OOMKilled: 'true', OOMKilledContainer: 'cache-hog', OOMKilledBy: 'kernel log', MemoryLimit: 1048576 }));
    assert.equal(d.rootCause.cause, 'resource_exhausted');
    assert.ok(d.evidence.some((e) => /killed container cache-hog \(seen in the kernel log\)/.test(e.fact)), JSON.stringify(d.evidence));
  });

  it('a SIGKILL without OOMKilled stays process_exited', () => {
    const d = diagnoseCache(oomKilled({ Container: 'cache', OOMKilled: 'false', MemoryLimit: 33554432 }));
    assert.equal(d.rootCause.cause, 'process_exited');
  });
});
