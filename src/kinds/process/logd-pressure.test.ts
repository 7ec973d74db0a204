// The log collector when the disk cannot keep up (issue 8, point 7): a sink that is slow holds the
// service back (its writes wait on the full pipe, Warden's loop never does), and a disk that is full
// drops the excess and says so in a marker line with the exact count. Real processes, a real tmpfs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fillUntilFull } from '../../lib/fill.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceSpec } from '../../domain/types.js';
import { systemClock } from '../../lib/clock.js';
import { waitFor } from '../../lib/wait.js';
import { MemoryProcessRegistry } from './memory-registry.js';
import { RotatingLog, splitStamp } from './logd.js';
import { ProcessSupervisor } from './supervisor.js';
import { collectorPids, LogCollectorClient } from './collector.js';

const STAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;
const asRoot = { skip: process.getuid?.() !== 0 ? 'needs root to mount a tmpfs' : false };

/** A tmpfs of `size` on a new directory, unmounted and removed afterwards. */
function tinyFs(t: TestContext, size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tinyfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test('a full disk: the excess is dropped, then one marker line says exactly how many bytes', asRoot, (t) => {
  const dir = tinyFs(t, '64k');
  const file = join(dir, 'svc.log');
  const now = Date.UTC(2026, 10, 30, 2, 45);
  const log = new RotatingLog(file, { maxBytes: 1 << 20, keep: 0 }, () => now);
  log.writeLines(['before the disk filled']);
  const start = statSync(file).size;
  // The log's last page still has room: the first lines fit, one is cut short, the rest are refused.
  fillUntilFull(join(dir, 'filler'));
  const stampLen = new Date(now).toISOString().length + 1;
  let offered = 0;
  for (let i = 0; i < 200; i++) {
    const line = `line ${i} ${'x'.repeat(90)}`;
    offered += stampLen + line.length + 1;
    assert.doesNotThrow(() => log.writeLines([line]));
  }
  const landed = statSync(file).size - start;
  assert.ok(landed < offered, `the disk took everything (${landed} of ${offered} bytes): not full`);

  rmSync(join(dir, 'filler'));
  log.writeLines(['after space came back']);
  log.close();
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const bad = lines.filter((l) => !STAMPED.test(l));
  assert.deepEqual(bad, [], 'every line stamped: a cut line is ended before the marker');
  const markers = lines.map((l) => splitStamp(l).text).filter((l) => l.startsWith('[warden-logd]'));
  assert.deepEqual(markers, [`[warden-logd] ${offered - landed} bytes dropped: ENOSPC`]);
  assert.equal(splitStamp(lines.at(-1)!).text, 'after space came back');
  assert.equal(splitStamp(lines.at(-2)!).text, markers[0]);
});

function spec(name: string, start: string[], over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name, host: 'local', kind: 'process', start, unit: null, cwd: tmpdir(), env: {}, stopSignal: 'SIGTERM',
    stopGraceMs: 2000, dependsOn: [], checks: [], runbooks: [], logMaxBytes: 10_000_000, logKeep: 1, ...over,
  } as ServiceSpec;
}

function lab(t: TestContext, dir: string): { sup: ProcessSupervisor; errors: unknown[]; track(pid: number): void } {
  const errors: unknown[] = [];
  const pids: number[] = [];
  const sup = new ProcessSupervisor({ dataDir: dir, instanceId: 't', registry: new MemoryProcessRegistry(), clock: systemClock, pollMs: 20, onExit: () => {}, onError: (e) => errors.push(e) });
  t.after(() => {
    sup.dispose();
    for (const pid of [...pids, ...collectorPids(join(dir, 'logs'))]) {
      try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  });
  return { sup, errors, track: (pid) => pids.push(pid) };
}

/** A shell service that waits for `go` to exist, then writes `count` numbered lines and `done`. */
function writer(name: string, dir: string, count: number): ServiceSpec {
  const script = `while [ ! -e ${join(dir, 'go')} ]; do sleep 0.02; done; i=0; while [ $i -lt ${count} ]; do echo "line $i ${'x'.repeat(90)}"; i=$((i+1)); done; echo done`;
  return spec(name, ['/bin/sh', '-c', script]);
}

/** The system call a process is blocked in, from /proc/PID/syscall ("1 0x1 ..." is write(1, ...)). */
const syscallOf = (pid: number): string => { try { return readFileSync(`/proc/${pid}/syscall`, 'utf8'); } catch { return ''; } };

test('a sink that cannot keep up throttles the service: its writes wait, Warden does not, nothing is lost', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-throttle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const l = lab(t, dir);
  // 2 MB, thirty times what the pipe holds.
  const svc = writer('flood', dir, 20_000);
  l.sup.configureLogs([svc]);
  const { pid } = await l.sup.start(svc);
  l.track(pid);
  await waitFor(() => l.sup.logTail('flood', 5).some((x) => / \[warden\] starting: /.test(x)), 20_000, 'the collector reading');
  // The slowest sink there is: the collector stopped while the service writes.
  const [collector] = collectorPids(join(dir, 'logs'));
  process.kill(collector!, 'SIGSTOP');
  writeFileSync(join(dir, 'go'), '');
  await waitFor(() => syscallOf(pid).startsWith('1 0x1 '), 20_000, 'the service blocked in write(1) on its full pipe');

  // Warden's own writes into that pipe never wait (non-blocking: a note that does not fit is
  // dropped); this call returning while the service is still blocked is the proof.
  const client = new LogCollectorClient(join(dir, 'logs'), (e) => l.errors.push(e));
  client.note('flood', 'a note while the pipe is full');
  client.dispose();
  assert.ok(syscallOf(pid).startsWith('1 0x1 '), 'still blocked: the pipe is full');

  process.kill(collector!, 'SIGCONT');
  await waitFor(() => splitStamp(l.sup.logTail('flood', 1)[0] ?? '').text === 'done', 60_000, 'the whole output written');
  const texts = readFileSync(join(dir, 'logs', 'flood.log'), 'utf8').trimEnd().split('\n').map((x) => splitStamp(x).text);
  const numbers = texts.flatMap((x) => /^line (\d+) x+$/.exec(x)?.[1] ?? []).map(Number);
  assert.deepEqual(numbers, Array.from({ length: 20_000 }, (_, i) => i), 'every line, once, in order: throttled, not dropped');
  assert.equal(texts.some((x) => x.startsWith('[warden-logd]')), false, 'nothing dropped');
  assert.deepEqual(l.errors, []);
});

test('a full log disk never blocks the service: it runs on, and the marker counts what was lost', asRoot, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-fulllog-'));
  const logs = join(dir, 'logs');
  mkdirSync(logs, { mode: 0o700 });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', logs]);
  t.after(() => {
    execFileSync('umount', ['-l', logs]);
    rmSync(dir, { recursive: true, force: true });
  });
  const l = lab(t, dir);
  const svc = writer('spill', dir, 5_000);
  l.sup.configureLogs([svc]);
  const { pid } = await l.sup.start(svc);
  l.track(pid);
  await waitFor(() => l.sup.logTail('spill', 5).some((x) => / \[warden\] starting: /.test(x)), 20_000, 'the collector reading');
  fillUntilFull(join(logs, 'filler'));
  writeFileSync(join(dir, 'go'), '');
  // 500 KB into a disk with no room: the service finishes all the same.
  await waitFor(() => l.sup.state('spill').exits.length === 1, 60_000, 'the service done and exited');
  assert.equal(existsSync(join(logs, 'spill.log.1')), false);
  rmSync(join(logs, 'filler'));
  // Space is back: the next line written (Warden's note at the next start) brings the marker.
  const again = await l.sup.start(spec('spill', ['/bin/sh', '-c', 'echo again; exec sleep 60']));
  l.track(again.pid);
  await waitFor(() => l.sup.logTail('spill', 3).some((x) => x.endsWith(' again')), 20_000, 'the next run logged');
  const texts = readFileSync(join(logs, 'spill.log'), 'utf8').trimEnd().split('\n').map((x) => splitStamp(x).text);
  const marker = texts.find((x) => x.startsWith('[warden-logd]'));
  assert.match(marker ?? '', /^\[warden-logd\] \d+ bytes dropped: ENOSPC$/);
  const kept = texts.filter((x) => /^line \d+ /.test(x)).length;
  assert.ok(kept < 5_000, `${kept} lines kept: the disk was not full`);
  assert.equal(texts.includes('done'), false, 'the end of the output was dropped, not delayed');
});
