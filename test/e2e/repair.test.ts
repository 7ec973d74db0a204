// The real daemon repairing real processes: kill -9, SIGSTOP hang, a killed dependency, and a crash
// loop that must be bounded and then left alone.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli, gone, sleep, startLab, waitFor, type TicketJson } from './harness.js';

const closed = (t: TicketJson | undefined): boolean => !!t && (t.status === 'resolved' || t.status === 'escalated');

test('kill -9, SIGSTOP and a killed dependency are each repaired with one ticket and the right action', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);
  const deploys = (await run.actions()).filter((a) => a.ticketId === null);
  assert.deepEqual(deploys.map((a) => `${a.type} ${a.target} ${a.state}`).sort(), ['start cache completed', 'start web completed']);
  assert.deepEqual(await run.tickets(), [], 'a clean start opens no ticket');

  // kill -9 → process_exited → restart web → verified → resolved.
  const webPid = run.pid('web');
  process.kill(webPid, 'SIGKILL');
  const t1 = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && closed(x)), 20_000, 'web ticket closed');
  assert.equal(t1.status, 'resolved', t1.reason ?? '');
  assert.equal(t1.cause, 'process_exited');
  assert.deepEqual(t1.rootCause && [t1.rootCause.service, t1.rootCause.cause], ['web', 'process_exited']);
  let actions = (await run.actions()).filter((a) => a.ticketId === t1.id);
  assert.deepEqual(actions.map((a) => `${a.type} ${a.target} ${a.state}`), ['restart web completed']);
  assert.notEqual(run.pid('web'), webPid, 'web runs as a new process');
  await run.waitHealthy(['web']);

  // SIGSTOP: alive but not answering → process_hung → restart (the stopped process is killed).
  const hungPid = run.pid('web');
  process.kill(hungPid, 'SIGSTOP');
  const t2 = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.id !== t1.id && closed(x) || (x.id === t1.id && x.occurrences === 2 && closed(x))), 20_000, 'hang ticket closed');
  assert.equal(t2.status, 'resolved', t2.reason ?? '');
  assert.equal(t2.cause, 'process_hung');
  assert.notEqual(run.pid('web'), hungPid);
  assert.ok(gone(hungPid), 'the hung process is gone');
  await run.waitHealthy(['web']);

  // Dependency killed: one ticket, root cause the cache, only the cache restarted.
  const before = new Set((await run.tickets()).map((x) => `${x.id}/${x.occurrences}`));
  const actionsBefore = new Set((await run.actions()).map((a) => a.id));
  process.kill(run.pid('cache'), 'SIGKILL');
  const t3 = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'cache' && closed(x)), 20_000, 'cache ticket closed');
  await run.waitHealthy(['cache', 'web']);
  await sleep(1500); // time for any wrongly attributed web ticket to appear
  const fresh = (await run.tickets()).filter((x) => !before.has(`${x.id}/${x.occurrences}`));
  assert.deepEqual(fresh.map((x) => x.id), [t3.id], 'one ticket for the whole incident');
  assert.equal(t3.status, 'resolved', t3.reason ?? '');
  assert.deepEqual(t3.rootCause && [t3.rootCause.service, t3.rootCause.cause], ['cache', 'process_exited']);
  actions = (await run.actions()).filter((a) => !actionsBefore.has(a.id));
  assert.deepEqual(actions.map((a) => `${a.type} ${a.target}`), ['restart cache'], 'only the dependency is restarted');

  // The audit chain recorded all of it and is intact.
  const audit = JSON.parse((await cli(['audit', 'verify', '--json'], { config: run.lab.configPath })).stdout) as { ok: boolean; records: number };
  assert.equal(audit.ok, true);
  assert.ok(audit.records > 10);
});

test('a crash loop gets bounded restarts, then is escalated and left alone', async (t) => {
  const run = await startLab({ restartLimit: 3 });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web', 'worker']);
  writeFileSync(run.lab.poisonFile, 'garbage'); // every later start fails 100 ms in
  process.kill(run.pid('worker'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'worker' && x.status === 'escalated'), 30_000, 'worker escalated');
  assert.equal(tk.cause, 'crash_loop');
  assert.match(tk.reason ?? '', /limit reached: restart at most 3 per 10m on worker/);
  const restarts = (await run.actions()).filter((a) => a.target === 'worker' && a.type === 'restart');
  assert.equal(restarts.length, 3, 'exactly the limit');
  const starts = readFileSync(run.lab.startsFile, 'utf8').trim().split('\n').length;
  assert.equal(starts, 4, 'first start + 3 restarts');

  // Left alone: no further action and no further start, although the worker stays down.
  await sleep(3000);
  assert.equal((await run.actions()).filter((a) => a.target === 'worker').length, 4, 'deploy + 3 restarts, nothing more');
  assert.equal(readFileSync(run.lab.startsFile, 'utf8').trim().split('\n').length, 4);
  const status = JSON.parse((await cli(['status', '--json'], { config: run.lab.configPath })).stdout) as { summary: string; services: { name: string; health: string }[] };
  assert.equal(status.summary, 'unstable');
  assert.equal(status.services.find((s) => s.name === 'worker')?.health, 'missing');

  // The diagnostics bundle shows a person why: the exit code and the log line.
  const dbg = JSON.parse((await cli(['debug', 'worker', '--json'], { config: run.lab.configPath })).stdout) as { health: string; lastExit: { code: number }; log: string[]; tickets: { id: string }[] };
  assert.equal(dbg.health, 'missing');
  assert.equal(dbg.lastExit.code, 1);
  assert.ok(dbg.log.some((l) => l.includes('fatal: cannot parse')), 'log tail carries the cause');
  assert.equal(dbg.tickets[0]?.id, tk.id);

  // The person fixes the input and resolves the ticket: automation may try again, and it works.
  rmSync(run.lab.poisonFile);
  const res = await cli(['tickets', 'resolve', tk.id, '--reason', 'fixed the input'], { config: run.lab.configPath });
  assert.equal(res.code, 0, res.stderr);
  await run.waitHealthy(['worker']);
  // Restarting a service someone resolved by hand is a new occurrence of the same problem.
  const after = await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved' && x.occurrences === 2), 15_000, 'reopened ticket resolved');
  assert.equal(after.status, 'resolved');
  assert.equal(readFileSync(run.lab.startsFile, 'utf8').trim().split('\n').length, 5, 'one more start, after the person acted');
});
