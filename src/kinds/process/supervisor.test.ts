import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ExitRecord, ServiceSpec } from '../../domain/types.js';
import { systemClock } from '../../lib/clock.js';
import { isAlive, listPids, readCmdline, readEnviron, readProcStat } from '../../lib/proc.js';
import { findHierarchy } from './cgroup.js';
import { MemoryProcessRegistry } from './memory-registry.js';
import { cmdlineMatches, MARKER_ENV, ProcessSupervisor, type ProcessRegistry } from './supervisor.js';
import { sleep, waitFor as waitForLib } from '../../lib/wait.js';


const node = process.execPath;
const TICK = "setInterval(()=>console.log('tick'),50)";

/** Waits for a condition, polling every 5 ms (exit detection is measured in milliseconds here). */
function waitFor<T>(fn: () => T | null | undefined | false, ms = 3000, what = 'condition'): Promise<T> {
  return waitForLib(fn, ms, what, { everyMs: 5 });
}

function spec(name: string, start: string[], over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name, host: 'local', kind: 'process', start, unit: null, cwd: tmpdir(), env: {}, stopSignal: 'SIGTERM',
    stopGraceMs: 2000, dependsOn: [], checks: [], runbooks: [], logMaxBytes: 1_000_000, logKeep: 2, ...over,
  } as ServiceSpec; // an override may change the kind, so the variant is asserted
}

interface Harness {
  dir: string;
  registry: ProcessRegistry;
  exits: { service: string; exit: ExitRecord; at: number }[];
  make(opts?: { registry?: ProcessRegistry; instanceId?: string; pollMs?: number; dataDir?: string }): ProcessSupervisor;
  track(pid: number): void;
}

/** A data dir, a registry, recorded exits, and cleanup of every process and supervisor. */
function harness(t: TestContext): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'warden-sup-'));
  const pids = new Set<number>();
  const sups: ProcessSupervisor[] = [];
  const h: Harness = {
    dir,
    registry: new MemoryProcessRegistry(),
    exits: [],
    make: (opts = {}) => {
      const s = new ProcessSupervisor({
        dataDir: opts.dataDir ?? dir, instanceId: opts.instanceId ?? 'test', registry: opts.registry ?? h.registry, clock: systemClock,
        pollMs: opts.pollMs ?? 20,
        onExit: (service, exit) => h.exits.push({ service, exit, at: performance.now() }),
      });
      sups.push(s);
      return s;
    },
    track: (pid) => pids.add(pid),
  };
  t.after(() => {
    for (const s of sups) s.dispose();
    for (const pid of pids) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
    // The groups of services killed above (by pid, not by a stop) are empty: removed with their parent.
    const cg = findHierarchy('test');
    if (cg.usable) {
      const groups = existsSync(cg.setup.parent) ? readdirSync(cg.setup.parent, { withFileTypes: true }).filter((d) => d.isDirectory()) : [];
      for (const g of groups) try { rmdirSync(join(cg.setup.parent, g.name)); } catch { /* still in use */ }
    }
  });
  return h;
}

test('cmdlineMatches compares args after the program, and accepts a rewritten title', () => {
  assert.equal(cmdlineMatches(['/usr/bin/node', 'api.js'], ['node', 'api.js']), true);
  assert.equal(cmdlineMatches(['node', 'other.js'], ['node', 'api.js']), false);
  assert.equal(cmdlineMatches(['redis-server', '--save', ''], ['redis-server', '--save', '']), true);
  assert.equal(cmdlineMatches(['redis-server *:6390', '', ''], ['/usr/bin/redis-server', '--port', '6390']), true);
  assert.equal(cmdlineMatches(['nginx *:80'], ['redis-server', '--port', '6390']), false);
  // Without arguments the program itself must match: not every one-word command line is `true`.
  assert.equal(cmdlineMatches(['bash'], ['true']), false);
  assert.equal(cmdlineMatches(['/usr/bin/true'], ['true']), true);
});

test('start: a real process, its pid, marker, log output; kill -9 is seen at once', async (t) => {
  const h = harness(t);
  const sup = h.make();
  const svc = spec('ticker', [node, '-e', TICK], { env: { GREETING: 'hi' } });
  const { pid } = await sup.start(svc);
  h.track(pid);
  const rec = h.registry.getProcess('ticker');
  assert.equal(rec?.pid, pid);
  assert.equal(rec?.procStart, readProcStat(pid)?.startTime);
  const env = readEnviron(pid);
  assert.equal(env?.[MARKER_ENV], 'test/ticker');
  assert.equal(env?.GREETING, 'hi');
  assert.equal(readProcStat(pid)?.pgrp, pid, 'own process group');

  const st = sup.state('ticker');
  assert.equal(st.running, true);
  assert.equal(st.pid, pid);
  assert.match(st.procState ?? '', /^[RS]$/);
  assert.deepEqual(await sup.start(svc), { pid }, 'no duplicate start');

  await waitFor(() => sup.logTail('ticker', 5).some((l) => l.endsWith(' tick')), 3000, 'tick in the log');
  assert.match(sup.logTail('ticker', 100)[0] ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z \[warden\] starting: /);
  assert.equal(sup.logFile('ticker'), join(h.dir, 'logs', 'ticker.log'));

  const killedAt = performance.now();
  process.kill(pid, 'SIGKILL');
  const seen = await waitFor(() => h.exits.find((e) => e.service === 'ticker'), 2000, 'onExit');
  const latency = seen.at - killedAt;
  t.diagnostic(`exit detection latency (own child, kill -9 → onExit): ${latency.toFixed(2)} ms`);
  // Lenient: a loaded CI box delays the wake-up; the figure itself is measured in bench/.
  assert.ok(latency < 200, `${latency} ms`);
  assert.equal(seen.exit.signal, 'SIGKILL');
  assert.equal(seen.exit.code, null);
  assert.ok((seen.exit.uptimeMs ?? -1) >= 0);
  assert.equal(h.registry.getProcess('ticker'), null);
  const after = sup.state('ticker');
  assert.equal(after.running, false);
  assert.equal(after.pid, null);
  assert.equal(after.exits[0]?.signal, 'SIGKILL');
});

test('exit code is reported; concurrent starts make one process', async (t) => {
  const h = harness(t);
  const sup = h.make();
  const svc = spec('short', [node, '-e', 'setTimeout(()=>process.exit(3),100)']);
  const [a, b] = await Promise.all([sup.start(svc), sup.start(svc)]);
  h.track(a.pid);
  assert.equal(a.pid, b.pid);
  const seen = await waitFor(() => h.exits.find((e) => e.service === 'short'), 3000, 'exit');
  assert.equal(seen.exit.code, 3);
  assert.equal(seen.exit.signal, null);
  assert.ok((seen.exit.uptimeMs ?? 0) >= 90);
  assert.equal(h.exits.length, 1);
});

test('stop: SIGTERM to the group, and children of the service go too', async (t) => {
  const h = harness(t);
  const sup = h.make();
  const dir = h.dir;
  const svc = spec('shell', ['sh', '-c', `sleep 30 & echo $! > ${dir}/child; wait`]);
  const { pid } = await sup.start(svc);
  h.track(pid);
  const child = await waitFor(() => existsSync(`${dir}/child`) && Number(readFileSync(`${dir}/child`, 'utf8')), 2000, 'child pid');
  h.track(child);
  const start = performance.now();
  await sup.stop(svc);
  assert.ok(performance.now() - start < 1000);
  assert.equal(sup.state('shell').running, false);
  assert.equal(h.exits[0]?.exit.signal, 'SIGTERM');
  await waitFor(() => { const s = readProcStat(child); return s === null || s.state === 'Z'; }, 2000, 'grandchild gone');
  await sup.stop(svc); // not running: no-op
});

test('stop: a process that ignores SIGTERM is killed after the grace period', async (t) => {
  const h = harness(t);
  const sup = h.make();
  const svc = spec('stubborn', [node, '-e', `process.on('SIGTERM',()=>console.log('ignoring'));${TICK}`], { stopGraceMs: 300 });
  const { pid } = await sup.start(svc);
  h.track(pid);
  await waitFor(() => sup.logTail('stubborn').some((l) => l.endsWith(' tick')), 3000, 'handler installed');
  const start = performance.now();
  await sup.stop(svc);
  const took = performance.now() - start;
  assert.ok(took >= 290 && took < 1500, `stop took ${took} ms`);
  assert.equal(h.exits[0]?.exit.signal, 'SIGKILL');
  await waitFor(() => sup.logTail('stubborn').some((l) => l.endsWith(' ignoring')), 3000, 'the TERM ignored');
});

test('stop: a SIGSTOPped process is continued so it acts on SIGTERM', async (t) => {
  const h = harness(t);
  const sup = h.make();
  const svc = spec('frozen', [node, '-e', TICK], { stopGraceMs: 5000 });
  const { pid } = await sup.start(svc);
  h.track(pid);
  process.kill(pid, 'SIGSTOP');
  await waitFor(() => sup.state('frozen').procState === 'T', 2000, 'state T');
  assert.equal(sup.state('frozen').running, true);
  const start = performance.now();
  await sup.stop(svc);
  assert.ok(performance.now() - start < 2000, 'did not need the 5 s grace');
  assert.equal(h.exits[0]?.exit.signal, 'SIGTERM');
});

test('restart: a new process, the old exit recorded', async (t) => {
  const h = harness(t);
  const sup = h.make();
  const svc = spec('api', [node, '-e', TICK]);
  const first = await sup.start(svc);
  h.track(first.pid);
  const second = await sup.restart(svc);
  h.track(second.pid);
  assert.notEqual(second.pid, first.pid);
  assert.equal(isAlive(first.pid, -1), false);
  assert.equal(sup.state('api').pid, second.pid);
  assert.equal(sup.state('api').exits.length, 1);
  assert.equal(h.registry.getProcess('api')?.pid, second.pid);
});

test('dispose leaves the child running; a new supervisor adopts it and sees its exit by polling', async (t) => {
  const h = harness(t);
  const first = h.make();
  const svc = spec('api', [node, '-e', TICK]);
  const { pid } = await first.start(svc);
  h.track(pid);
  first.dispose();
  await sleep(100);
  assert.equal(readProcStat(pid)?.state !== 'Z', true, 'still running after dispose');

  const second = h.make({ pollMs: 20 });
  assert.deepEqual(second.adopt([svc, spec('never-started', ['true'])]), { adopted: ['api'], gone: [] });
  const st = second.state('api');
  assert.equal(st.pid, pid);
  assert.equal(st.running, true);
  assert.ok(st.startedAt !== null);
  assert.deepEqual(await second.start(svc), { pid }, 'adopted: no new spawn');

  const killedAt = performance.now();
  process.kill(pid, 'SIGKILL');
  const seen = await waitFor(() => h.exits.find((e) => e.service === 'api'), 2000, 'polled exit');
  t.diagnostic(`exit detection latency (adopted, pollMs 20): ${(seen.at - killedAt).toFixed(2)} ms`);
  assert.deepEqual([seen.exit.code, seen.exit.signal], [null, null]);
  assert.ok((seen.exit.uptimeMs ?? -1) >= 100);
  assert.equal(h.registry.getProcess('api'), null);
});

test('adopt finds a process the registry never recorded, by its environment marker', async (t) => {
  const h = harness(t);
  const first = h.make();
  const svc = spec('api', [node, '-e', TICK]);
  const { pid } = await first.start(svc);
  h.track(pid);
  first.dispose();
  h.registry.deleteProcess('api'); // as if Warden died between spawn and putProcess

  // Another Warden: its own instance id and data dir.
  const other = h.make({ instanceId: 'someone-else', dataDir: join(h.dir, 'other') });
  assert.deepEqual(other.adopt([svc]), { adopted: [], gone: [] }, 'another instance\'s marker is not ours');
  const changed = h.make();
  assert.deepEqual(changed.adopt([spec('api', [node, '-e', 'other()'])]), { adopted: [], gone: [] }, 'argv must match');
  changed.dispose();

  const second = h.make();
  assert.deepEqual(second.adopt([svc]), { adopted: ['api'], gone: [] });
  assert.equal(second.state('api').pid, pid);
  const rec = h.registry.getProcess('api');
  assert.equal(rec?.pid, pid);
  assert.equal(rec?.procStart, readProcStat(pid)?.startTime);
  assert.ok(Math.abs((rec?.startedAt ?? 0) - Date.now()) < 5_000, 'start time from /proc');
});

test('adopt reports a recorded process that died while Warden was away as gone', async (t) => {
  const h = harness(t);
  const first = h.make();
  const svc = spec('api', [node, '-e', TICK]);
  const { pid } = await first.start(svc);
  h.track(pid);
  first.dispose();
  process.kill(pid, 'SIGKILL');
  await waitFor(() => { const s = readProcStat(pid); return s === null || s.state === 'Z'; }, 2000, 'dead');
  const second = h.make();
  assert.deepEqual(second.adopt([svc]), { adopted: [], gone: ['api'] });
  assert.equal(h.registry.getProcess('api'), null);
  assert.equal(second.state('api').running, false);
});

test('adopt a real redis-server, whose title rewrite wipes its environment, by its stdout log file', async (t) => {
  const h = harness(t);
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  const svc = spec('cache', ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '']);
  const first = h.make();
  const { pid } = await first.start(svc);
  h.track(pid);
  await waitFor(() => sup0Ready(first.logTail('cache', 50)), 5000, 'redis ready');
  first.dispose();
  h.registry.deleteProcess('cache');
  const second = h.make();
  assert.deepEqual(second.adopt([svc]), { adopted: ['cache'], gone: [] });
  await second.stop(svc);
  assert.equal(h.exits[0]?.service, 'cache');
});

function sup0Ready(lines: string[]): boolean {
  return lines.some((l) => l.includes('Ready to accept connections'));
}

test('start of a missing or non-executable program fails with SPAWN_FAILED', async (t) => {
  const h = harness(t);
  const sup = h.make();
  await assert.rejects(sup.start(spec('ghost', ['/nonexistent/bin/ghost'])), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SPAWN_FAILED');
    assert.match(err.message, /ENOENT/);
    return true;
  });
  assert.match(sup.state('ghost').spawnError ?? '', /ENOENT/);
  assert.equal(sup.state('ghost').running, false);
  await waitFor(() => /start failed: .*ENOENT/.test(sup.logTail('ghost').join('\n')), 3000, 'the failure in the log');

  const script = join(h.dir, 'not-executable.sh');
  writeFileSync(script, '#!/bin/sh\necho hi\n');
  chmodSync(script, 0o644);
  await assert.rejects(sup.start(spec('noexec', [script])), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SPAWN_FAILED');
    assert.match(err.message, /EACCES/);
    return true;
  });
  await assert.rejects(sup.start(spec('nocwd', [node, '-e', ''], { cwd: join(h.dir, 'missing') })), /is not a directory/);

  // A successful start clears the error.
  const ok = spec('ghost', [node, '-e', TICK]);
  const { pid } = await sup.start(ok);
  h.track(pid);
  assert.equal(sup.state('ghost').spawnError, null);
  assert.equal(h.registry.getProcess('noexec'), null);
});

test('what a dead leader left in its group is stopped before the service starts again', async (t) => {
  const h = harness(t);
  const sup = h.make();
  // The shell leads the group; the worker it started is killed with it only if the group is.
  const svc = spec('shell', ['sh', '-c', `${node} -e "setInterval(()=>{},1000)" & echo worker $!; wait`], { stopGraceMs: 300 });
  const { pid } = await sup.start(svc);
  h.track(pid);
  const worker = Number(await waitFor(() => sup.logTail('shell', 10).map((l) => /worker (\d+)$/.exec(l)?.[1]).find((x) => x), 5000, 'the worker pid'));
  process.kill(pid, 'SIGKILL');
  await waitFor(() => h.exits.some((e) => e.service === 'shell'), 3000, 'the shell exit');
  assert.notEqual(readProcStat(worker), null, 'the worker outlives its shell');
  const next = await sup.start(svc);
  h.track(next.pid);
  await waitFor(() => readProcStat(worker) === null || readProcStat(worker)?.state === 'Z', 3000, 'the old worker gone');
  // The note goes through the log collector, which writes it a moment later.
  await waitFor(() => sup.logTail('shell', 20).some((l) => l.includes(`stopping what is left of its previous run: pid ${worker}`)), 3000, 'the note in the log');
});

test('a start command that forks a daemon and exits 0 is reported as daemonized', async (t) => {
  const h = harness(t);
  const sup = h.make();
  // Double fork with setsid, as daemons do: the grandchild leaves the group and the session.
  const svc = spec('forker', ['sh', '-c', `setsid ${node} -e "setInterval(()=>{},1000)" >/dev/null 2>&1 < /dev/null & exit 0`]);
  await sup.start(svc);
  await waitFor(() => h.exits.some((e) => e.service === 'forker'), 3000, 'the start command exit');
  const st = sup.state('forker');
  assert.equal(st.running, false);
  assert.ok(st.daemonized, 'daemonized');
  h.track(st.daemonized.pid);
  assert.match(st.daemonized.command, /setInterval/);
  assert.notEqual(readProcStat(st.daemonized.pid), null);
});

test('a copy of the same program that another process started is not taken for the daemon', async (t) => {
  const h = harness(t);
  const sup = h.make();
  // The same script twice: run by the service, it forks itself into the background and exits 0;
  // with DECOY set it just runs. The decoy is started during the service's run, by a process that
  // is not Warden's (another supervisor on the same machine), and is older than the real daemon.
  // The start command waits for its daemon to be under way before it exits, as daemons do (the
  // shell's fork for `&` runs the script's own argv until it execs setsid).
  const script = join(h.dir, 'forker.sh');
  writeFileSync(script, `if [ -n "$DECOY" ] || [ "$1" = child ]; then while :; do sleep 1; done; fi
sleep 0.4; setsid sh ${script} child >/dev/null 2>&1 </dev/null & sleep 0.3; exit 0
`);
  const launcher = spawn('sh', ['-c', `sleep 0.15; DECOY=1 sh ${script}; true`], { stdio: 'ignore', detached: true });
  h.track(launcher.pid!);
  await sleep(100); // the launcher itself is older than the service's run, by more than a clock tick
  await sup.start(spec('forker', ['sh', script]));
  await waitFor(() => h.exits.some((e) => e.service === 'forker'), 3000, 'the start command exit');
  const decoy = await waitFor(() => listPids().find((p) => readProcStat(p)?.ppid === launcher.pid && readCmdline(p)?.join(' ') === `sh ${script}`), 3000, 'the decoy');
  const st = sup.state('forker');
  assert.ok(st.daemonized, 'daemonized');
  h.track(st.daemonized.pid);
  assert.notEqual(st.daemonized.pid, decoy, 'not the decoy');
  assert.deepEqual(readCmdline(st.daemonized.pid), ['sh', script, 'child']);
});

/** A shell whose worker calls setsid(): it leaves the shell's process group and its session. */
function escaper(): string[] {
  return ['sh', '-c', `setsid ${node} -e "setInterval(()=>{},1000)" & echo worker $!; wait`];
}

async function workerOf(sup: ProcessSupervisor, service: string, n = 1): Promise<number> {
  const seen = (): number[] => sup.logTail(service, 20).flatMap((l) => /worker (\d+)$/.exec(l)?.[1] ?? []).map(Number);
  const pid = await waitFor(() => seen()[n - 1], 5000, `worker ${n}`);
  await waitFor(() => readProcStat(pid)?.pgrp === pid, 3000, 'the worker in a group of its own');
  return pid;
}

test('stop: a child that called setsid() is stopped with the service (its cgroup)', async (t) => {
  const h = harness(t);
  const sup = h.make();
  const svc = spec('escaper', escaper(), { stopGraceMs: 300 });
  const { pid } = await sup.start(svc);
  h.track(pid);
  const worker = await workerOf(sup, 'escaper');
  h.track(worker);
  await sup.stop(svc);
  await waitFor(() => readProcStat(worker) === null || readProcStat(worker)?.state === 'Z', 3000, 'the setsid() worker gone');
  await waitFor(() => sup.logTail('escaper', 20).some((l) => l.includes(`stopped what had left its process group: pid ${worker} in its cgroup`)), 3000, 'the note in the log');
});

test('restart after the shell was killed: a setsid() worker of the old run does not run beside the new one', async (t) => {
  const h = harness(t);
  const sup = h.make();
  const svc = spec('escaper', escaper(), { stopGraceMs: 300 });
  const { pid } = await sup.start(svc);
  h.track(pid);
  const first = await workerOf(sup, 'escaper');
  h.track(first);
  process.kill(pid, 'SIGKILL');
  await waitFor(() => h.exits.some((e) => e.service === 'escaper'), 3000, 'the shell exit');
  const next = await sup.start(svc);
  h.track(next.pid);
  h.track(await workerOf(sup, 'escaper', 2));
  assert.ok(readProcStat(first) === null || readProcStat(first)?.state === 'Z', 'the old worker was stopped before the new run started');
});

test('without cgroups (unprivileged, or a read-only hierarchy) a stop still stops the process group', async (t) => {
  const h = harness(t);
  const sup = new ProcessSupervisor({ dataDir: h.dir, instanceId: 'test', registry: h.registry, clock: systemClock, onExit: () => undefined, cgroups: null });
  t.after(() => sup.dispose());
  const svc = spec('shell', ['sh', '-c', `${node} -e "setInterval(()=>{},1000)" & echo worker $!; wait`], { stopGraceMs: 300 });
  const { pid } = await sup.start(svc);
  h.track(pid);
  const worker = Number(await waitFor(() => sup.logTail('shell', 10).map((l) => /worker (\d+)$/.exec(l)?.[1]).find((x) => x), 5000, 'the worker pid'));
  h.track(worker);
  await sup.stop(svc);
  await waitFor(() => readProcStat(worker) === null || readProcStat(worker)?.state === 'Z', 3000, 'the worker gone');
  assert.equal(sup.cgroupDetail, 'cgroups not used');
});
