// Runbook workflows, declared reverts and scheduled actions on the real daemon, real processes and
// the real CLI (docs/runbooks.md).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, cliJson, morePasses, startLab, waitFor, type ActionJson } from './harness.js';

interface Shown extends ActionJson { error: string | null; revertOf?: string; at?: string; steps?: { name: string; branch: string; state: string; detail: string | null }[] }

const ALLOW = `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart, run-runbook]`;

test('a workflow whose step fails runs its on-failure steps, and not the steps after the failure', async (t) => {
  const run = await startLab({
    workerHttp: true,
    workerExtra: `    runbooks:
      - name: unstick
        for: [process_hung]
        steps:
          - { name: note, run: [sh, -c, 'echo note >> trace'] }
          - { name: migrate, run: [sh, -c, 'echo migrate >> trace; exit 4'], needs: [note] }
          - { name: finish, run: [sh, -c, 'echo finish >> trace'], needs: [migrate] }
        onFailure:
          - { name: thaw, run: [sh, -c, 'kill -CONT "$WARDEN_PID"; echo thaw >> trace'], if: { stepFailed: migrate } }
          - { name: page, run: [sh, -c, 'echo page >> trace'], if: { stepFailed: note } }
`,
    policy: ALLOW,
  });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web', 'worker']);
  process.kill(run.pid('worker'), 'SIGSTOP');
  const a = await waitFor(async () => (await run.actions()).find((x) => x.type === 'run-runbook' && (x.state === 'failed' || x.state === 'completed')), 30_000, 'the workflow to end');
  const shown = await cliJson<Shown>(['actions', 'show', a.id], run.lab.configPath);
  assert.equal(shown.state, 'failed');
  assert.equal(shown.error, 'workflow unstick: step migrate failed: step migrate of runbook unstick exited with 4; on failure: thaw succeeded, page skipped');
  assert.deepEqual(shown.steps?.map((s) => `${s.branch} ${s.name} ${s.state}`), ['steps note succeeded', 'steps migrate failed', 'onFailure thaw succeeded', 'onFailure page skipped']);
  assert.deepEqual(readFileSync(join(run.lab.dir, 'trace'), 'utf8').trim().split('\n'), ['note', 'migrate', 'thaw'], 'finish never ran');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.actionIds.includes(a.id) && x.status === 'escalated'), 15_000, 'the ticket to escalate');
  assert.match(tk.reason ?? '', /step migrate failed/);
});

test('a repair whose verification fails runs its declared revert, linked to it, and the ticket says so', async (t) => {
  const run = await startLab({
    workerExtra: `    reverts:
      restart: { runbook: rollback }
    runbooks:
      - name: rollback
        run: [sh, -c, 'rm -f "$POISON_FILE" && echo "rolled back $WARDEN_SERVICE" >> reverted']
        timeout: 5s
`,
    policy: ALLOW,
  });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web', 'worker']);
  // A bad input the worker cannot parse: its restart starts it, and it exits again at once.
  writeFileSync(run.lab.poisonFile, 'garbage');
  process.kill(run.pid('worker'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'worker' && (x.status === 'escalated' || x.status === 'resolved')), 30_000, 'the worker ticket to close');
  const acts = (await run.actions()).filter((a) => a.ticketId === tk.id).reverse();
  assert.deepEqual(acts.map((a) => `${a.type} ${a.state}`), ['restart completed', 'run-runbook completed'], tk.reason ?? '');
  const revert = await cliJson<Shown>(['actions', 'show', acts[1]!.id], run.lab.configPath);
  assert.equal(revert.revertOf, acts[0]!.id);
  assert.equal(tk.status, 'escalated');
  assert.equal(tk.reason, `repair ${acts[0]!.id} (restart worker) did not hold and was reverted by ${acts[1]!.id} (run-runbook rollback); a person must look`);
  assert.equal(existsSync(run.lab.poisonFile), false, 'the revert ran');
  assert.equal(readFileSync(join(run.lab.dir, 'reverted'), 'utf8'), 'rolled back worker\n');
});

test('a scheduled action runs at its time; a cancelled one never runs', async (t) => {
  const run = await startLab({ policy: ALLOW });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web', 'worker']);
  const [webPid, workerPid] = [run.pid('web'), run.pid('worker')];
  const cfg = run.lab.configPath;
  const web = await cli(['actions', 'submit', 'restart', 'web', '--at', '+10s', '--reason', 'nightly'], { config: cfg });
  assert.equal(web.code, 0, web.stderr);
  const webId = /^action (A\d+) \(restart web\) scheduled for /.exec(web.stdout)?.[1];
  assert.ok(webId, web.stdout);
  const worker = await cli(['actions', 'submit', 'restart', 'worker', '--at', '+10s'], { config: cfg });
  const workerId = /^action (A\d+)/.exec(worker.stdout)?.[1] ?? '';
  const listed = await cliJson<Shown[]>(['actions', 'list', '--state', 'scheduled'], cfg);
  assert.deepEqual(listed.map((a) => a.id).sort(), [webId, workerId].sort());
  assert.ok(listed.every((a) => typeof a.at === 'string' && !Number.isNaN(Date.parse(a.at))), 'each shows its time');
  assert.match((await cli(['actions', 'cancel', workerId], { config: cfg })).stdout, /cancelled/);

  const done = await waitFor(async () => {
    const a = await cliJson<Shown>(['actions', 'show', webId], cfg);
    return a.state === 'completed' || a.state === 'failed' ? a : null;
  }, 40_000, 'the scheduled restart to run');
  assert.equal(done.state, 'completed', done.error ?? '');
  assert.notEqual(run.pid('web'), webPid, 'web was restarted');
  // The cancelled one was due at the same time: passes after it show it never ran.
  await morePasses(cfg, 3);
  assert.equal((await cliJson<Shown>(['actions', 'show', workerId], cfg)).state, 'cancelled');
  assert.equal(run.pid('worker'), workerPid, 'the worker was never restarted');
});
