// Services that misbehave toward their supervisor, on real processes through the real daemon: a
// worker orphaned when its shell is killed, and a start command that forks a daemon and exits 0.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { readProcStat } from '../../src/lib/proc.js';
import { morePasses, startLab, startsOf, waitFor } from './harness.js';

const node = process.execPath;
const dead = (pid: number): boolean => { const st = readProcStat(pid); return st === null || st.state === 'Z'; };

test('a restart after the shell was killed leaves no worker of the old run beside the new one', async (t) => {
  const cmd = `${node} -e "setInterval(()=>{},1000)" & echo worker $!; wait`;
  const run = await startLab({ noWorker: true, extraServices: `  - name: shell\n    kind: process\n    start: ["sh", "-c", ${JSON.stringify(cmd)}]\n    stopGrace: 1s\n` });
  const workers = (): number[] => readFileSync(join(run.lab.dir, 'data', 'logs', 'shell.log'), 'utf8').split('\n').flatMap((l) => /worker (\d+)$/.exec(l)?.[1] ?? []).map(Number);
  t.after(async () => {
    for (const w of workers()) try { process.kill(w, 'SIGKILL'); } catch { /* gone */ }
    await run.cleanup();
  });
  await run.daemon.start();
  const first = await waitFor(async () => workers()[0], 20_000, 'the first worker');
  const shell = run.pid('shell');
  process.kill(shell, 'SIGKILL');
  // Restarted: a second worker, and the first one stopped, not left running beside it.
  await waitFor(async () => workers().length >= 2, 20_000, 'the restart');
  await waitFor(async () => dead(first), 10_000, 'the orphaned worker stopped');
  assert.equal(dead(workers()[1]!), false, 'the new worker runs');
});

test('a worker that called setsid() is stopped with its service: a restart leaves no old one running', async (t) => {
  // setsid: the worker leaves the shell's process group, so only the service's cgroup still holds it.
  const cmd = `setsid ${node} -e "setInterval(()=>{},1000)" & echo worker $!; wait`;
  const run = await startLab({ noWorker: true, extraServices: `  - name: escaper\n    kind: process\n    start: ["sh", "-c", ${JSON.stringify(cmd)}]\n    stopGrace: 1s\n` });
  const workers = (): number[] => readFileSync(join(run.lab.dir, 'data', 'logs', 'escaper.log'), 'utf8').split('\n').flatMap((l) => /worker (\d+)$/.exec(l)?.[1] ?? []).map(Number);
  t.after(async () => {
    for (const w of workers()) try { process.kill(w, 'SIGKILL'); } catch { /* gone */ }
    await run.cleanup();
  });
  await run.daemon.start();
  const first = await waitFor(async () => workers()[0], 20_000, 'the first worker');
  await waitFor(async () => readProcStat(first)?.pgrp === first, 5_000, 'the worker in a group of its own');
  process.kill(run.pid('escaper'), 'SIGKILL');
  await waitFor(async () => workers().length >= 2, 20_000, 'the restart');
  // Stopped before the new run started, not merely some time later.
  assert.equal(dead(first), true, 'the old worker stopped');
  assert.equal(dead(workers()[1]!), false, 'the new worker runs');
});

test('a start command that daemonizes is reported once, with what to do, and not restarted', async (t) => {
  const port = await freePort();
  const pidFile = join('/tmp', `warden-daemonized-${port}.pid`);
  const run = await startLab({
    noWorker: true,
    extraServices: `  - name: forker
    kind: process
    start: [redis-server, --port, "${port}", --bind, 127.0.0.1, --save, "", --appendonly, "no", --daemonize, "yes", --pidfile, "${pidFile}"]
    checks:
      - tcp: { address: "127.0.0.1:${port}" }
        interval: 250ms
        timeout: 200ms
`,
  });
  t.after(async () => {
    try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch { /* gone */ }
    await run.cleanup();
  });
  await run.daemon.start();
  const ticket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'forker' && x.status === 'escalated'), 20_000, 'the forker ticket escalated');
  const daemonPid = Number(readFileSync(pidFile, 'utf8'));
  assert.equal(ticket.cause, 'config_drift');
  assert.match(ticket.reason ?? '', new RegExp(`^forker daemonized: its start command exited 0 and left pid ${daemonPid} \\(redis-server .*\\) running.*foreground`));
  assert.equal(ticket.actionIds.length, 0, 'no restart: it would start a second copy');

  // No restarts while the daemon keeps serving: across several passes, forker is not started again.
  const before = startsOf(join(run.lab.dir, 'data'), 'forker');
  assert.equal(before, 1);
  await morePasses(run.lab.configPath, 3);
  assert.equal(startsOf(join(run.lab.dir, 'data'), 'forker'), before);
  assert.equal(dead(daemonPid), false, 'the daemon it forked still serves');
  assert.equal((await run.tickets()).filter((x) => x.service === 'forker').length, 1);
});
