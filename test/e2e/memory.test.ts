// Memory pressure on Warden itself (issue 8, point 9), made by the kernel: the daemon is moved into
// a cgroup v1 memory controller whose limit is then squeezed down to what it holds, with the OOM
// killer off for that group, so its next page fault waits for memory like a host that has none to
// give. A service dies meanwhile. When the limit is raised Warden must go on where it was: one
// repair, nothing committed lost, `audit verify` intact. Needs root and a writable
// /sys/fs/cgroup/memory (skipped otherwise). docs/reliability.md ("Warden under pressure") quotes it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, cliJson, morePasses, startLab, startsOf, waitFor } from './harness.js';

const MEMORY = '/sys/fs/cgroup/memory';

function usable(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(join(MEMORY, 'memory.limit_in_bytes'))) return 'no cgroup v1 memory controller';
  return false;
}

interface AuditJson { seq: number; hash: string; kind: string; subject: string | null }

const read = (group: string, file: string): string => readFileSync(join(group, file), 'utf8');
const num = (group: string, file: string): number => Number(read(group, file).trim());

/** The memory cgroup this test runs in (the daemon goes back there afterwards). */
function ownGroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:memory:/.test(l));
  return join(MEMORY, line?.split(':')[2] ?? '/');
}

/**
 * The lowest limit the kernel accepts: each lower step makes it reclaim what it can (page cache),
 * and it refuses (EBUSY) once only memory that cannot be reclaimed is left; no swap here.
 */
function squeeze(group: string): number {
  let limit = num(group, 'memory.usage_in_bytes');
  for (let step = 1 << 20; step >= 4096; step >>= 1) {
    while (limit - step > 0) {
      try {
        writeFileSync(join(group, 'memory.limit_in_bytes'), String(limit - step));
        limit -= step;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EBUSY') throw e;
        break;
      }
    }
  }
  return limit;
}

test('memory pressure: Warden waits out a squeezed memory cgroup, then repairs once and loses nothing', { skip: usable() }, async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  const cfg = run.lab.configPath;
  const data = join(run.lab.dir, 'data');
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  const before = await cliJson<AuditJson[]>(['audit', 'list', '--limit', '100000'], cfg);
  const actionsBefore = await run.actions();
  const startsBefore = startsOf(data, 'web');
  const warden = run.daemon.proc!.pid!;

  const group = join(MEMORY, `warden-e2e-${process.pid}`);
  mkdirSync(group);
  t.after(async () => {
    // Everything in it (the daemon, a service it started) back where the test runs, then away; a
    // process that is exiting still counts until it is reaped.
    writeFileSync(join(group, 'memory.limit_in_bytes'), '-1');
    await waitFor(async () => {
      for (const pid of read(group, 'cgroup.procs').split('\n').filter(Boolean)) {
        try { writeFileSync(join(ownGroup(), 'cgroup.procs'), pid); } catch { /* exited */ }
      }
      try { rmdirSync(group); return true; } catch { return false; }
    }, 10_000, `${group} removed`);
  });
  // Pages are charged where they are faulted in (this kernel no longer moves charges): from here on
  // the group counts what the daemon allocates anew, and squeezing it leaves no room for more.
  writeFileSync(join(group, 'memory.oom_control'), '1');
  writeFileSync(join(group, 'cgroup.procs'), String(warden));
  await morePasses(cfg, 3);
  const held = num(group, 'memory.usage_in_bytes');
  const limit = squeeze(group);

  // A service dies while Warden has no memory to spare: handling it needs pages it cannot get.
  process.kill(run.pid('web'), 'SIGKILL');
  await waitFor(async () => /under_oom 1/.test(read(group, 'memory.oom_control')), 30_000, 'Warden waiting for memory (under_oom 1)');
  const failcnt = num(group, 'memory.failcnt');
  assert.equal(startsOf(data, 'web'), startsBefore, 'nothing started while Warden waits for memory');

  // Relief: the limit lifted, as when the host frees memory.
  writeFileSync(join(group, 'memory.limit_in_bytes'), '-1');
  const ticket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && (x.status === 'resolved' || x.status === 'escalated')), 60_000, 'web repaired');
  assert.equal(ticket.status, 'resolved', ticket.reason ?? '');
  await run.waitSettled(['cache', 'web']);
  const fresh = (await run.actions()).filter((a) => !actionsBefore.some((b) => b.id === a.id));
  assert.deepEqual(fresh.map((a) => [a.type, a.target, a.state, a.attempts]), [['restart', 'web', 'completed', 1]], 'one restart, one attempt');
  assert.equal(startsOf(data, 'web'), startsBefore + 1, 'web started exactly once more');
  const after = await cliJson<AuditJson[]>(['audit', 'list', '--limit', '100000'], cfg);
  assert.deepEqual(after.slice(0, before.length), before, 'every record committed before is still there, unchanged');
  const verify = await cli(['audit', 'verify'], { config: cfg });
  assert.equal(verify.code, 0, verify.stdout);
  assert.equal(run.daemon.proc!.exitCode, null, 'the same daemon, never killed');
  t.diagnostic(`memory cgroup: daemon held ${(held / 2 ** 20).toFixed(1)} MiB, squeezed to ${(limit / 2 ** 20).toFixed(1)} MiB, limit hit ${failcnt} times before it stalled`);
});
