// Approvals with the real daemon and the real CLI: a request nobody answers is denied when it
// lapses (and the ticket says so); a quorum of two needs two different people; the person who asked
// for an action cannot approve it; --as is recorded as an override.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli, startLab, waitFor } from './harness.js';

const policy = (extra: string): string => `policy:
  rules:
    - match: { service: "*" }
      allow: [start]
    - match: { service: "*" }
      allow: [restart]
      approval: required
${extra}`;

test('an approval request nobody answers is denied when it lapses; the ticket escalates and says so', async (t) => {
  const run = await startLab({ noWorker: true, policy: policy('      approvalTtl: 2s') });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);
  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'escalated'), 20_000, 'the ticket escalated');
  assert.match(tk.reason ?? '', /approval expired \(0 of 1 approval by .*\): denied; a person must act/);
  const a = (await run.actions()).find((x) => x.ticketId === tk.id)!;
  assert.equal(a.state, 'cancelled');
  const late = await cli(['actions', 'approve', a.id, '--as', 'person:alice'], { config: run.lab.configPath });
  assert.notEqual(late.code, 0, 'too late to approve');
  assert.match(late.stderr, /is cancelled; approve needs/);
  const audit = JSON.parse((await cli(['audit', 'list', '--limit', '500', '--json'], { config: run.lab.configPath })).stdout) as { kind: string; subject: string }[];
  assert.ok(audit.some((r) => r.kind === 'action.expired' && r.subject === a.id));
});

test('2 of 3 approvers: one approval is not enough, the same person twice is refused, a second person runs it', async (t) => {
  const run = await startLab({ noWorker: true, policy: `people:
  - { name: alice, roles: [oncall] }
  - { name: bob, roles: [oncall] }
  - { name: carol, roles: [oncall] }
${policy('      approvers: [role:oncall]\n      quorum: 2')}` });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);
  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'awaiting_approval'), 10_000, 'awaiting approval');
  const a = (await run.actions()).find((x) => x.ticketId === tk.id)!;
  const cfg = { config: run.lab.configPath };

  const one = await cli(['actions', 'approve', a.id, '--as', 'alice'], cfg);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /approval recorded \(1 of 2\)/);
  const twice = await cli(['actions', 'approve', a.id, '--as', 'alice'], cfg);
  assert.notEqual(twice.code, 0);
  assert.match(twice.stderr, /person:alice has approved action A\d+ already \(1 of 2\)/);
  const outsider = await cli(['actions', 'approve', a.id, '--as', 'mallory'], cfg);
  assert.match(outsider.stderr, /person:mallory is not an approver/);
  assert.equal((await run.actions()).find((x) => x.id === a.id)!.state, 'awaiting_approval');

  const two = await cli(['actions', 'approve', a.id, '--as', 'bob'], cfg);
  assert.equal(two.code, 0, two.stderr);
  await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved'), 15_000, 'resolved after two approvals');
  const audit = JSON.parse((await cli(['audit', 'list', '--limit', '500', '--json'], cfg)).stdout) as { kind: string; actor: string; subject: string; data: Record<string, unknown> }[];
  const mine = audit.filter((r) => r.subject === a.id && r.kind.startsWith('action.approv'));
  assert.deepEqual(mine.map((r) => [r.kind, r.actor]), [['action.approval_recorded', 'person:alice'], ['action.approved', 'person:bob']]);
  assert.ok(mine.every((r) => r.data.override === 'person:root'), 'acting --as is recorded as an override');
});

test('a person who asks for an action cannot approve it', async (t) => {
  const run = await startLab({ noWorker: true, policy: policy('') });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);
  const cfg = { config: run.lab.configPath };
  const asked = await cli(['restart', 'web', '--as', 'alice'], cfg);
  assert.equal(asked.code, 0, asked.stderr);
  const id = /action (A\d+)/.exec(asked.stdout)?.[1];
  assert.ok(id, asked.stdout);
  const self = await cli(['actions', 'approve', id, '--as', 'alice'], cfg);
  assert.notEqual(self.code, 0);
  assert.match(self.stderr, /person:alice requested action A\d+ and cannot approve it too/);
  const other = await cli(['actions', 'approve', id, '--as', 'bob'], cfg);
  assert.equal(other.code, 0, other.stderr);
  await waitFor(async () => (await run.actions()).find((x) => x.id === id && x.state === 'completed'), 15_000, 'the restart done');
});
