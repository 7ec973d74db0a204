// An operator's runbook as the repair: the worker hangs (SIGSTOP), the diagnosis is process_hung,
// and the runbook declared for that cause runs (with the target's pid) instead of a restart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
