// Issue 7, point 13: the inventory is the truth. A service a reload removes is stopped by an audited
// action and its tickets close; with `onRemove: leave` it runs on and is reported as unmanaged.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { cliJson, gone, startLab, statusJson, waitFor, type LabRun } from './harness.js';

interface Audit { kind: string; actor: string; subject: string | null; data: Record<string, unknown> }
interface Status { summary: string; unmanaged?: { service: string; pid: number | null; reason: string }[]; daemon: { lastPassAt: string | null } }

// Restarting the worker is denied, so a hung worker keeps an escalated ticket (summary unstable).
const POLICY = `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart, stop]
    - match: { service: worker }
      allow: [stop]
      deny: [restart]`;

/** Removes the worker's entry from the lab config and reloads the daemon. */
function removeWorker(run: LabRun): void {
  const yaml = readFileSync(run.lab.configPath, 'utf8');
  const next = yaml.replace(/ {2}- name: worker\n(?: {4}.*\n)*/, '');
  assert.notEqual(next, yaml);
  writeFileSync(run.lab.configPath, next);
  run.daemon.proc!.kill('SIGHUP');
}

const audit = (run: LabRun): Promise<Audit[]> => cliJson<Audit[]>(['audit', 'list', '--limit', '1000'], run.lab.configPath);

test('a service removed on reload is stopped by an audited action and its ticket closes', async (t) => {
  const run = await startLab({ workerHttp: true, policy: POLICY });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web', 'worker']);
  const pid = run.pid('worker');
  process.kill(pid, 'SIGSTOP');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'worker' && x.status === 'escalated'), 15_000, 'worker ticket escalated');
  await waitFor(async () => (await statusJson<Status>(run.lab.configPath)).status.summary === 'unstable', 10_000, 'summary unstable');

  removeWorker(run);
  const stop = await waitFor(async () => (await run.actions()).find((a) => a.type === 'stop' && a.target === 'worker' && a.state === 'completed'), 15_000, 'worker stopped');
  assert.ok(gone(pid), 'the removed worker no longer runs');
  const closed = (await run.tickets()).find((x) => x.id === tk.id)!;
  assert.equal(closed.status, 'resolved');
  assert.equal(closed.reason, 'removed from the inventory');
  const recs = await audit(run);
  const proposed = recs.find((r) => r.kind === 'action.proposed' && r.subject === stop.id)!;
  assert.equal(proposed.actor, 'lab-warden');
  assert.equal(proposed.data.reason, 'removed from the inventory');
  await waitFor(async () => (await statusJson<Status>(run.lab.configPath)).status.summary === 'nominal', 10_000, 'summary nominal without the worker');
});

test('a service removed with onRemove: leave runs on and is reported as unmanaged', async (t) => {
  const run = await startLab({ workerExtra: '    onRemove: leave\n' });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web', 'worker']);
  const pid = run.pid('worker');

  removeWorker(run);
  const st = await waitFor(async () => {
    const { status: s } = await statusJson<Status>(run.lab.configPath);
    return s.unmanaged ? s : null;
  }, 10_000, 'worker reported unmanaged');
  assert.deepEqual(st.unmanaged!.map((u) => [u.service, u.pid]), [['worker', pid]]);
  assert.match(st.unmanaged![0]!.reason, /removed from the inventory; onRemove: leave/);
  assert.ok((await audit(run)).some((r) => r.kind === 'service.unmanaged' && r.subject === 'worker'));
  assert.match(run.daemon.output, /worker is unmanaged \(pid \d+ left running\)/);
  // Three passes after the reload (a full pass among them): nothing stopped the worker.
  const passes = new Set<string>();
  await waitFor(async () => {
    const { status: s } = await statusJson<Status>(run.lab.configPath);
    if (s.daemon.lastPassAt) passes.add(s.daemon.lastPassAt);
    return passes.size >= 3;
  }, 15_000, 'three more passes');
  assert.ok(!gone(pid), 'the worker runs on');
  assert.ok(!(await run.actions()).some((a) => a.target === 'worker' && a.type === 'stop'), 'no stop was planned');
});
