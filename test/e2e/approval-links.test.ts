// Approvals from anywhere (issue 13 point 4, issue 12 points 1 and 3), on the real daemon: the
// approval request reaches a webhook with each approver's signed links; a token without approver
// rights is refused by POST /api/actions/ID/approve; the link's page is plain HTML whose form POST
// approves exactly once, as the approver; a replay, and a link past its request's expiry, are
// refused and audited. The browser is stood in for by plain HTTP: a GET, then the form's POST.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import type { NotifyEvent } from '../../src/notify/event.js';
import { startTestReceiver } from '../../src/testing/receiver.js';
import { cliJson, startLab, waitFor } from './harness.js';

interface Audit { kind: string; actor: string; subject: string; data: Record<string, unknown> }
interface Approval { by: string; approve: string; reject: string }

async function setup(t: { after: (fn: () => Promise<unknown> | void) => void }, ttl: string) {
  const port = await freePort();
  const dir = join(tmpdir(), `warden-links-${port}`);
  const token = (name: string, secret: string): string => {
    const f = `${dir}-${name}.token`;
    writeFileSync(f, `${secret}\n`, { mode: 0o600 });
    t.after(() => rmSync(f, { force: true }));
    return f;
  };
  const hook = await startTestReceiver();
  t.after(() => hook.close());
  const run = await startLab({
    noWorker: true,
    api: {
      port, tokenFile: token('main', 'main-secret'),
      extra: `publicUrl: "http://127.0.0.1:${port}", tokens: [{ name: viewer, file: ${token('viewer', 'viewer-secret')}, role: viewer }, { name: phone, file: ${token('phone', 'phone-secret')}, person: alice }]`,
    },
    notify: `notify:
  - name: hook
    webhook: { url: "${hook.url}/hook" }
    events: [ticket.awaiting_approval]
people:
  - { name: alice, roles: [oncall] }
  - { name: bob, roles: [oncall] }`,
    policy: `policy:
  approvalTtl: ${ttl}
  rules:
    - match: { service: "*" }
      allow: [start]
    - match: { service: "*" }
      allow: [restart]
      approval: required
      approvers: [role:oncall]`,
  });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  // A slow start on a loaded machine may have asked (and dropped) an approval already: not that one.
  const before = new Set((await run.actions()).map((a) => a.id));
  process.kill(run.pid('web'), 'SIGKILL');
  const asked = await waitFor(async () => hook.json<NotifyEvent>().find((e) => e.kind === 'ticket.awaiting_approval' && !before.has(String(e.data.action))), 20_000, 'the approval request on the webhook');
  const audit = async (): Promise<Audit[]> => cliJson<Audit[]>(['audit', 'list', '--limit', '1000', '--json'], run.lab.configPath);
  return { run, port, asked, audit, base: `http://127.0.0.1:${port}` };
}

test('an approval link approves exactly once as its approver; a token without approver rights is refused; a replay is refused and audited', async (t) => {
  const { run, asked, audit, base } = await setup(t, '10m');
  const actionId = String(asked.data.action);
  const approvals = asked.data.approvals as Approval[];
  assert.deepEqual(approvals.map((a) => a.by), ['person:alice', 'person:bob']);
  assert.ok(approvals.every((a) => a.approve.startsWith(`${base}/links/${actionId}/`)));

  const viewer = await fetch(`${base}/api/actions/${actionId}/approve`, { method: 'POST', headers: { Authorization: 'Bearer viewer-secret' } });
  assert.equal(viewer.status, 403);
  assert.match(((await viewer.json()) as { error: { message: string } }).error.message, /token:viewer is not an approver of action A\d+ \(approvers: role:oncall\)/);
  assert.equal((await run.actions()).find((a) => a.id === actionId)?.state, 'awaiting_approval');

  const bob = approvals.find((a) => a.by === 'person:bob')!;
  const page = await fetch(bob.approve);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<form method="post">/);
  assert.doesNotMatch(html, /<script/i);
  // The form posts back to the page's own URL, as a browser would.
  const first = await fetch(bob.approve, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  assert.equal(first.status, 200, await first.clone().text());
  assert.match(await first.text(), /Approved/);
  const replay = await fetch(bob.approve, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  assert.equal(replay.status, 403);
  assert.match(await replay.text(), /used already/);

  await waitFor(async () => (await run.actions()).find((a) => a.id === actionId && a.state === 'completed'), 20_000, 'the restart done');
  const mine = (await audit()).filter((r) => r.subject === actionId);
  assert.deepEqual(mine.filter((r) => r.kind === 'action.approved').map((r) => [r.actor, r.data.via]), [['person:bob', 'link']]);
  assert.deepEqual(mine.filter((r) => r.kind === 'action.decision_refused').map((r) => [r.actor, r.data.via, r.data.code]), [
    ['token:viewer', 'token:viewer', 'APPROVAL_REFUSED'], ['person:bob', 'link', 'LINK_USED'],
  ]);
  assert.equal(mine.filter((r) => r.kind === 'action.executing').length, 1, 'approved once, run once');
});

test('a link used after its request expired is refused (expiry denies) and audited', async (t) => {
  const { run, asked, audit, base } = await setup(t, '3s');
  const actionId = String(asked.data.action);
  const alice = (asked.data.approvals as Approval[]).find((a) => a.by === 'person:alice')!;
  await waitFor(async () => (await run.actions()).find((a) => a.id === actionId && a.state === 'cancelled'), 20_000, 'the request expired');
  const metrics = await (await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer main-secret' } })).text();
  assert.match(metrics, /^warden_actions_blocked_total\{by="approval_expired"\} 1$/m, 'the lapsed request counted once');
  const late = await fetch(alice.approve, { method: 'POST' });
  assert.equal(late.status, 403);
  assert.match(await late.text(), /expired/);
  const refused = (await audit()).filter((r) => r.subject === actionId && r.kind === 'link.refused');
  assert.deepEqual(refused.map((r) => [r.actor, r.data.verb]), [['person:alice', 'approve']]);
  assert.equal((await run.actions()).find((a) => a.id === actionId)?.state, 'cancelled');
});

test('an API token without the action\'s tier on its target cannot approve it; one with the tier can', async (t) => {
  const port = await freePort();
  const dir = join(tmpdir(), `warden-tiers-${port}`);
  const token = (name: string, secret: string): string => {
    const f = `${dir}-${name}.token`;
    writeFileSync(f, `${secret}\n`, { mode: 0o600 });
    t.after(() => rmSync(f, { force: true }));
    return f;
  };
  // Both tokens may approve by the rule (no approvers list: anyone but the requester); the tiers decide.
  const run = await startLab({
    noWorker: true,
    api: {
      port, tokenFile: token('main', 'main-secret'),
      extra: `tokens: [{ name: bot, file: ${token('bot', 'bot-secret')}, role: viewer }, { name: pager, file: ${token('pager', 'pager-secret')}, role: oncall }]`,
    },
    policy: `policy:
  rules:
    - match: { service: "*" }
      allow: [start]
    - match: { service: "*" }
      allow: [restart]
      approval: required
  tiers:
    - { who: [lab-warden], scope: {}, tier: repair-service }
    - { who: [role:viewer], scope: {}, tier: propose }
    - { who: [role:oncall], scope: { service: "web" }, tier: repair-service }`,
  });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  const before = new Set((await run.actions()).map((a) => a.id));
  process.kill(run.pid('web'), 'SIGKILL');
  const asked = await waitFor(async () => (await run.actions()).find((a) => !before.has(a.id) && a.target === 'web' && a.state === 'awaiting_approval'), 20_000, 'the restart awaiting approval');
  const approve = (secret: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${port}/api/actions/${asked.id}/approve`, { method: 'POST', headers: { Authorization: `Bearer ${secret}` } });

  const bot = await approve('bot-secret');
  assert.equal(bot.status, 403);
  const refused = (await bot.json()) as { error: { code: string; message: string } };
  assert.equal(refused.error.code, 'approval_refused');
  assert.equal(refused.error.message, 'token:bot holds propose on web (by policy.tiers[1]); approving restart needs repair-service; a person with that tier approves it');
  assert.equal((await run.actions()).find((a) => a.id === asked.id)?.state, 'awaiting_approval', 'still waiting');

  const pager = await approve('pager-secret');
  assert.equal(pager.status, 200, await pager.clone().text());
  await waitFor(async () => (await run.actions()).find((a) => a.id === asked.id && a.state === 'completed'), 20_000, 'the restart done');
  const audit = await cliJson<Audit[]>(['audit', 'list', '--limit', '1000', '--json'], run.lab.configPath);
  const mine = audit.filter((r) => r.subject === asked.id);
  assert.deepEqual(mine.filter((r) => r.kind === 'action.decision_refused').map((r) => [r.actor, r.data.code]), [['token:bot', 'APPROVAL_REFUSED']]);
  assert.deepEqual(mine.filter((r) => r.kind === 'action.approved').map((r) => r.actor), ['token:pager']);
});
