// An operator's runbook as the repair: the worker hangs (SIGSTOP), the diagnosis is process_hung,
// and the runbook declared for that cause runs (with the target's pid) instead of a restart.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLab, waitFor } from './harness.js';

test('a runbook declared for the diagnosed cause is the repair; its outcome is verified', async (t) => {
  const run = await startLab({
    workerHttp: true,
    workerExtra: `    runbooks:
      - name: thaw
        run: [sh, -c, 'kill -CONT "$WARDEN_PID" && echo "thawed $WARDEN_SERVICE pid $WARDEN_PID"']
        timeout: 5s
        for: [process_hung]
`,
    policy: `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart, run-runbook]`,
  });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web', 'worker']);
  const pid = run.pid('worker');
  process.kill(pid, 'SIGSTOP');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'worker' && (x.status === 'resolved' || x.status === 'escalated')), 20_000, 'worker ticket closed');
  assert.equal(tk.status, 'resolved', tk.reason ?? '');
  assert.equal(tk.cause, 'process_hung');
  const actions = (await run.actions()).filter((a) => a.ticketId === tk.id);
  assert.deepEqual(actions.map((a) => `${a.type} ${a.state}`), ['run-runbook completed']);
  assert.equal(run.pid('worker'), pid, 'thawed, not restarted');
  const out = readFileSync(join(run.lab.dir, 'data', 'logs', 'runbook-worker-thaw.log'), 'utf8');
  assert.match(out, new RegExp(`thawed worker pid ${pid}`));
});

test('a full disk: resource_exhausted from the log, the free-disk runbook, then a restart (a chain), verified', async (t) => {
  const run = await startLab({
    noWorker: false,
    workerEnv: { DISK_FULL_FILE: '/tmp/warden-e2e-disk-full-placeholder' },
    workerExtra: `    runbooks:
      - name: free-disk
        run: [sh, -c, 'rm -f "$DISK_FULL_FILE" && echo "freed space for $WARDEN_SERVICE"']
        timeout: 5s
        for: [resource_exhausted]
`,
    policy: `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart, run-runbook]`,
  });
  t.after(() => run.cleanup());
  // The marker lives in the lab directory; the config names it through the worker's env.
  const marker = join(run.lab.dir, 'disk-full');
  writeFileSync(run.lab.configPath, readFileSync(run.lab.configPath, 'utf8').replace('/tmp/warden-e2e-disk-full-placeholder', marker));
  await run.daemon.start();
  await run.waitSettled(['cache', 'web', 'worker']);
  writeFileSync(marker, 'full');
  process.kill(run.pid('worker'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'worker' && (x.status === 'resolved' || x.status === 'escalated')), 30_000, 'worker ticket closed');
  assert.equal(tk.status, 'resolved', tk.reason ?? '');
  assert.equal(tk.cause, 'resource_exhausted');
  const actions = (await run.actions()).filter((a) => a.ticketId === tk.id);
  assert.deepEqual(actions.map((a) => `${a.type} ${a.state}`), ['restart completed', 'run-runbook completed', 'restart completed'],
    'a plain restart first (the kill looked like an exit); the ENOSPC in the log then chose the runbook and a restart');
  assert.equal(existsSync(marker), false, 'the runbook freed the disk');
});
