// The process supervisor's half of exactly-once: a process carries the id of the action that
// started it (marker and record), adoption keeps that identity, and an aborted restart starts
// nothing. Real processes and signals throughout.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ServiceSpec } from '../../domain/types.js';
import { systemClock } from '../../lib/clock.js';
import { isWardenError, WardenError } from '../../lib/errors.js';
import { readEnviron, readProcStat } from '../../lib/proc.js';
import { waitFor } from '../../lib/wait.js';
import { MemoryProcessRegistry } from './memory-registry.js';
import { MARKER_ENV, ProcessSupervisor } from './supervisor.js';

const node = process.execPath;

function setup(t: { after(fn: () => void): void }): { dir: string; registry: MemoryProcessRegistry; make(): ProcessSupervisor; spec(over?: Partial<ServiceSpec>): ServiceSpec } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-identity-'));
  const registry = new MemoryProcessRegistry();
  const sups: ProcessSupervisor[] = [];
  const startsFile = join(dir, 'starts');
  t.after(() => {
    for (const s of sups) s.dispose();
    for (const line of safeRead(startsFile).split('\n').filter(Boolean)) {
      const pid = Number(line);
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir, registry,
    make() {
      const s = new ProcessSupervisor({ dataDir: dir, instanceId: 'test', registry, clock: systemClock, pollMs: 20, onExit: () => undefined });
      sups.push(s);
      return s;
    },
    // Appends its pid to a file on start (to count starts) and ignores SIGTERM (a slow stop).
    spec: (over = {}) => ({
      name: 'api', host: 'local', kind: 'process', unit: null, cwd: dir, env: {}, stopSignal: 'SIGTERM',
      start: [node, '-e', `require('fs').appendFileSync(${JSON.stringify(startsFile)}, process.pid + '\\n'); process.on('SIGTERM', () => console.log('ignoring SIGTERM')); setInterval(() => {}, 1000)`],
      stopGraceMs: 60_000, dependsOn: [], checks: [], runbooks: [], logMaxBytes: 1_000_000, logKeep: 2, ...over,
    }) as ServiceSpec, // an override may change the kind, so the variant is asserted
  };
}

function safeRead(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}

test('a started process carries its action id in its marker, its record and its state', async (t) => {
  const h = setup(t);
  const sup = h.make();
  const { pid } = await sup.start(h.spec(), { actionId: 'A7' });
  assert.equal(readEnviron(pid)?.[MARKER_ENV], 'test/api/A7');
  assert.equal(h.registry.getProcess('api')?.actionId, 'A7');
  assert.equal(sup.state('api').startedBy, 'A7');
});

test('adopt: found by its record or by its marker, the process keeps the action id it carries', async (t) => {
  const h = setup(t);
  const first = h.make();
  const { pid } = await first.start(h.spec(), { actionId: 'A9' });
  first.dispose();

  const byRecord = h.make();
  assert.deepEqual(byRecord.adopt([h.spec()]), { adopted: ['api'], gone: [] });
  assert.equal(byRecord.state('api').startedBy, 'A9');
  byRecord.dispose();

  h.registry.deleteProcess('api'); // as if Warden died between spawn and putProcess
  const byMarker = h.make();
  assert.deepEqual(byMarker.adopt([h.spec()]), { adopted: ['api'], gone: [] });
  assert.equal(byMarker.state('api').pid, pid);
  assert.equal(byMarker.state('api').startedBy, 'A9');
  assert.equal(h.registry.getProcess('api')?.actionId, 'A9', 'recorded with the id its marker carries');
});

test('a restart aborted during its stop grace kills the old process and starts nothing', async (t) => {
  const h = setup(t);
  const sup = h.make();
  const { pid: old } = await sup.start(h.spec(), { actionId: 'A1' });
  await waitFor(() => safeRead(join(h.dir, 'starts')).trim() !== '', 5_000, 'first start recorded');
  const ac = new AbortController();
  const restarting = sup.restart(h.spec(), { signal: ac.signal, actionId: 'A2' });
  // The old process ignores SIGTERM: the restart sits in its 60 s grace until aborted.
  await waitFor(() => sup.logTail('api', 5).some((l) => l.endsWith(' ignoring SIGTERM')), 5_000, 'the stop under way');
  ac.abort(new WardenError('ACTION_TIMEOUT', 'timed out', { retryable: true }));
  await assert.rejects(restarting, (e) => isWardenError(e, 'ACTION_TIMEOUT'));
  const st = readProcStat(old);
  assert.ok(st === null || st.state === 'Z', 'the old process was killed');
  assert.equal(sup.state('api').running, false, 'nothing new was started');
  assert.equal(safeRead(join(h.dir, 'starts')).trim().split('\n').length, 1);
  // A later operation on the same service is not blocked by the aborted one.
  const { pid } = await sup.start(h.spec(), { actionId: 'A2' });
  assert.equal(sup.state('api').startedBy, 'A2');
  assert.notEqual(pid, old);
});

test('an operation aborted while queued behind another never runs', async (t) => {
  const h = setup(t);
  const sup = h.make();
  await sup.start(h.spec());
  const ac = new AbortController();
  const stopping = sup.stop(h.spec({ stopGraceMs: 300 }));
  const queued = sup.start(h.spec(), { signal: ac.signal, actionId: 'A3' });
  ac.abort(new WardenError('ACTION_TIMEOUT', 'timed out', { retryable: true }));
  await stopping;
  await assert.rejects(queued, (e) => isWardenError(e, 'ACTION_TIMEOUT'));
  assert.equal(sup.state('api').running, false);
});
