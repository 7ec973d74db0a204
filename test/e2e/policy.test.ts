// The policy gate with the real daemon: observe mode, approvals, and the kill switch.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli, Daemon, sleep, startLab, waitFor } from './harness.js';

test('mode observe: a dead service gets a ticket and a diagnosis but no action', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  await run.daemon.stop();
  // Same lab, now only watched: the new daemon adopts the running services.
  writeFileSync(run.lab.configPath, readFileSync(run.lab.configPath, 'utf8').replace('mode: execute', 'mode: observe'));
  const observer = new Daemon(run.lab.configPath);
  run.daemon = observer;
  await observer.start();
  assert.match(observer.output, /adopted 2 running/);
  const actionsBefore = (await run.actions()).length;
  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.cause !== null), 10_000, 'web ticket diagnosed');
  await sleep(2000);
  const again = (await run.tickets()).find((x) => x.id === tk.id)!;
  assert.equal(again.status, 'open');
  assert.equal(again.cause, 'process_exited');
  assert.match(again.reason ?? '', /observe mode/);
  assert.equal((await run.actions()).length, actionsBefore, 'no action created');
});

test('approval required: nothing runs until a person approves', async (t) => {
  const run = await startLab({
    noWorker: true,
    policy: `policy:
  rules:
    - match: { service: "*" }
      allow: [start]
    - match: { service: "*" }
      allow: [restart]
      approval: required`,
  });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);
  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'awaiting_approval'), 10_000, 'ticket awaiting approval');
  const pending = (await run.actions()).find((a) => a.ticketId === tk.id)!;
  assert.equal(pending.state, 'awaiting_approval');
  await sleep(2000);
  assert.equal((await run.actions()).find((a) => a.id === pending.id)!.state, 'awaiting_approval', 'still waiting');
  assert.throws(() => run.pid('web'), 'web is still down');

  const ok = await cli(['actions', 'approve', pending.id, '--as', 'person:alice'], { config: run.lab.configPath });
  assert.equal(ok.code, 0, ok.stderr);
  const done = await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved'), 15_000, 'ticket resolved after approval');
  assert.equal(done.status, 'resolved');
  const audit = await cli(['audit', 'list', '--limit', '500', '--json'], { config: run.lab.configPath });
  const approvals = (JSON.parse(audit.stdout) as { kind: string; actor: string; subject: string }[]).filter((r) => r.kind === 'action.approved');
  assert.deepEqual(approvals.map((r) => [r.actor, r.subject]), [['person:alice', pending.id]]);
});

test('freeze: nothing runs while frozen; unfreeze lets the repair through', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);
  const fr = await cli(['freeze', '--reason', 'maintenance'], { config: run.lab.configPath });
  assert.equal(fr.code, 0, fr.stderr);
  const status = JSON.parse((await cli(['status', '--json'], { config: run.lab.configPath })).stdout) as { frozen: boolean };
  assert.equal(status.frozen, true);
  const actionsBefore = (await run.actions()).length;
  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.cause !== null), 10_000, 'web ticket');
  await sleep(2500);
  assert.equal((await run.actions()).length, actionsBefore, 'no action while frozen');
  assert.match((await run.tickets()).find((x) => x.id === tk.id)!.reason ?? '', /frozen/);
  assert.throws(() => run.pid('web'), 'web is still down');

  assert.equal((await cli(['unfreeze'], { config: run.lab.configPath })).code, 0);
  const done = await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved'), 15_000, 'resolved after unfreeze');
  assert.equal(done.cause, 'process_exited');
});

test('hold: a person takes a ticket out of automation; nothing runs on it', async (t) => {
  const run = await startLab({ noWorker: true, policy: `policy:
  rules:
    - match: { service: "*" }
      allow: [start]
    - match: { service: "*" }
      allow: [restart]
      approval: required` });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  // A slow start on a loaded machine may have asked (and dropped) an approval on the same ticket.
  const before = new Set((await run.actions()).map((a) => a.id));
  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'awaiting_approval'), 10_000, 'awaiting approval');
  const held = await cli(['tickets', 'hold', tk.id, '--reason', 'investigating', '--as', 'person:carol'], { config: run.lab.configPath });
  assert.equal(held.code, 0, held.stderr);
  await sleep(1500);
  const after = (await run.tickets()).find((x) => x.id === tk.id)!;
  assert.equal(after.status, 'held');
  assert.match(after.reason ?? '', /investigating \(person:carol\)/);
  assert.deepEqual((await run.actions()).filter((a) => a.ticketId === tk.id && !before.has(a.id)).map((a) => a.state), ['cancelled']);
  assert.throws(() => run.pid('web'), 'web stays down: a person has it');
});
