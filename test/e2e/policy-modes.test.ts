// Policy semantics and recommend mode with the real daemon and CLI: the most restrictive matching
// rule wins, a person approves a proposal and it runs once, and a reload out of recommend mode
// supersedes old proposals instead of leaving them to block the new mode.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli, cliJson, Daemon, startLab, statusJson, waitFor, type ActionJson } from './harness.js';

type Action = ActionJson & { error: string | null; approvedBy: string | null };
type Audit = { kind: string; subject: string | null; actor: string };

test('"*" allows restart, then web requires approval: web waits for a person, cache does not', async (t) => {
  const run = await startLab({
    noWorker: true,
    policy: `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart]
    - match: { service: web }
      allow: [restart]
      approval: required
    - match: { service: wbe }
      deny: [restart]`,
  });
  t.after(() => run.cleanup());
  const v = await cli(['validate'], { config: run.lab.configPath });
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stderr, /warning: policy\.rules\[2\] \(service: wbe\) matches no service; it has no effect/);
  assert.doesNotMatch(v.stderr, /policy\.rules\[[01]\]/);

  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  // cache: only the "*" rule matches; repaired without anyone.
  process.kill(run.pid('cache'), 'SIGKILL');
  const cacheTicket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'cache' && x.status === 'resolved'), 20_000, 'cache repaired');
  const cacheActions = (await cliJson<Action[]>(['actions', 'list', '--limit', '1000'], run.lab.configPath)).filter((a) => a.ticketId === cacheTicket.id);
  assert.deepEqual(cacheActions.map((a) => [a.type, a.state, a.approvedBy]), [['restart', 'completed', null]]);
  await run.waitSettled(['cache', 'web']);

  // web: both rules match; the stricter one's approval holds, whatever the order.
  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'awaiting_approval'), 10_000, 'web awaiting approval');
  const pending = (await run.actions()).find((a) => a.ticketId === tk.id)!;
  assert.equal(pending.state, 'awaiting_approval');
  assert.throws(() => run.pid('web'), 'web is still down');
  const ok = await cli(['actions', 'approve', pending.id, '--as', 'person:alice'], { config: run.lab.configPath });
  assert.equal(ok.code, 0, ok.stderr);
  await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved'), 15_000, 'web resolved after approval');
});

test('recommend mode: approving a proposal runs it once and the ticket resolves', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  await run.daemon.stop();
  writeFileSync(run.lab.configPath, readFileSync(run.lab.configPath, 'utf8').replace('mode: execute', 'mode: recommend'));
  run.daemon = new Daemon(run.lab.configPath);
  await run.daemon.start();
  // The ticket may be a reopened one (a slow first start): only actions from now on count.
  const before = new Set((await run.actions()).map((a) => a.id));

  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && /recommend mode: restart web proposed/.test(x.reason ?? '')), 10_000, 'web restart proposed');
  const proposal = (await run.actions()).find((a) => a.ticketId === tk.id && a.state === 'proposed')!;
  assert.throws(() => run.pid('web'), 'a proposal does not run by itself');

  const ok = await cli(['actions', 'approve', proposal.id, '--as', 'person:bob'], { config: run.lab.configPath });
  assert.equal(ok.code, 0, ok.stderr);
  await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved'), 15_000, 'web resolved after approval');
  await run.waitHealthy(['web']);
  const acts = (await cliJson<Action[]>(['actions', 'list', '--limit', '1000'], run.lab.configPath)).filter((a) => !before.has(a.id));
  assert.deepEqual(acts.map((a) => [a.id, a.state, a.attempts, a.approvedBy]), [[proposal.id, 'completed', 1, 'person:bob']]);
  const audit = await cliJson<Audit[]>(['audit', 'list', '--limit', '1000'], run.lab.configPath);
  assert.equal(audit.filter((r) => r.kind === 'action.executing' && r.subject === proposal.id).length, 1, 'executed once');
  assert.deepEqual(audit.filter((r) => r.kind === 'action.approved').map((r) => [r.actor, r.subject]), [['person:bob', proposal.id]]);
  const statuses = audit.filter((r) => r.kind === 'ticket.status' && r.subject === tk.id).length;
  assert.ok(statuses >= 3, 'open → remediating → verifying → resolved');
});

test('reload from recommend to execute starts a missing service without manual cleanup', async (t) => {
  const run = await startLab({ noWorker: true, mode: 'recommend' });
  t.after(() => run.cleanup());
  await run.daemon.start();
  const proposal = await waitFor(async () => (await run.actions()).find((a) => a.type === 'start' && a.target === 'cache' && a.state === 'proposed'), 10_000, 'start cache proposed');
  const { status: st, code } = await statusJson<{ summary: string }>(run.lab.configPath);
  assert.equal(code, 1, 'status exits 1 while not nominal');
  assert.notEqual(st.summary, 'nominal', 'a missing service is not nominal in recommend mode');

  writeFileSync(run.lab.configPath, readFileSync(run.lab.configPath, 'utf8').replace('mode: recommend', 'mode: execute'));
  run.daemon.proc!.kill('SIGHUP');
  await waitFor(async () => run.daemon.output.includes('reloaded'), 5000, 'reloaded');
  await run.waitHealthy(['cache', 'web']);
  const acts = await cliJson<Action[]>(['actions', 'list', '--limit', '1000'], run.lab.configPath);
  const old = acts.find((a) => a.id === proposal.id)!;
  assert.equal(old.state, 'cancelled');
  assert.equal(old.error, 'superseded: the mode is now execute');
  assert.deepEqual(acts.filter((a) => a.state === 'completed').map((a) => `${a.type} ${a.target}`).sort(), ['start cache', 'start web']);
});
