// kill -9 of Warden in the middle of an action: after restart the action is re-verified and
// completed, never run a second time, and the ticket completes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cliJson, Daemon, gone, startLab, waitFor, type ActionJson } from './harness.js';

test('kill -9 of Warden during a restart: after restart no duplicate action, effect exactly once, ticket resolved', async (t) => {
  // The worker ignores SIGTERM, so a restart spends its whole 3 s stop grace period executing.
  const run = await startLab({ workerHttp: true, workerEnv: { SLOW_STOP: '1' }, stopGrace: '3s' });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web', 'worker']);
  const starts = (): string[] => readFileSync(run.lab.startsFile, 'utf8').trim().split('\n');
  assert.equal(starts().length, 1);

  const hung = run.pid('worker');
  process.kill(hung, 'SIGSTOP');
  const executing = await waitFor(async () => (await run.actions()).find((a) => a.target === 'worker' && a.type === 'restart' && a.state === 'executing'), 15_000, 'restart executing');
  await run.daemon.signal('SIGKILL');

  const again = new Daemon(run.lab.configPath);
  run.daemon = again;
  await again.start();
  assert.match(again.output, /1 actions resumed/);
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'worker' && (x.status === 'resolved' || x.status === 'escalated')), 20_000, 'worker ticket closed');
  assert.equal(tk.status, 'resolved', tk.reason ?? '');
  assert.equal(tk.cause, 'process_hung');

  const restarts = (await run.actions()).filter((a: ActionJson) => a.target === 'worker' && a.type === 'restart');
  assert.deepEqual(restarts.map((a) => [a.id, a.state]), [[executing.id, 'completed']], 'one restart action, completed');
  assert.equal(restarts[0]!.attempts, 1, 'one attempt: resumed, not retried');
  assert.equal(starts().length, 2, 'the worker was started exactly once more');
  assert.ok(gone(hung), 'the hung process is gone');
  const audit = await cliJson<{ kind: string; subject: string; data: { outcome?: string } }[]>(['audit', 'list', '--limit', '1000', '--subject', executing.id], run.lab.configPath);
  assert.deepEqual(audit.filter((r) => r.kind === 'action.resumed').map((r) => r.data.outcome), ['continue']);
  assert.equal(audit.filter((r) => r.kind === 'action.executing').length, 1, 'the effect was started once');
});
