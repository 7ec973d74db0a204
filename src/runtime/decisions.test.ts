// Approve and reject from afar, in-process over a real store: a named token decides as its
// identity under the same rules as the CLI; the unnamed token decides nothing; an approval link
// decides once, as its approver, and a replayed, expired, forged or misdirected one is refused. Every
// refusal is in the audit log.
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Hono } from 'hono';
import { applyCommand } from '../app/commands.js';
import { makeConfig, T0 } from '../testing/domain.js';
import type { Action, ResolvedConfig } from '../domain/types.js';
import { createApi, daemonApiDeps } from './api.js';
import type { DecisionDeps } from './decisions.js';
import type { NamedToken } from './identity.js';
import { approvalLinks, linkKey, LINK_KEY_FILE } from './links.js';
import { WardenMetrics } from './metrics.js';
import { action, apiSpec, makeFixture, TOKEN, type Fixture } from './testing.js';

const NAMED: NamedToken[] = [
  { name: 'phone', secret: 'alice-phone-secret', by: 'person:alice', roles: ['oncall'] },
  { name: 'ci', secret: 'ci-secret', by: 'token:ci', roles: ['deploy'] },
];

function waiting(over: Partial<Action> = {}): Action {
  return action({
    id: 'A9', ticketId: 'T1', idempotencyKey: `T1/restart/web/${over.id ?? 'A9'}`, state: 'awaiting_approval', requestedBy: 'otto', startedAt: null, finishedAt: null, attempts: 0,
    approval: { quorum: 1, approvers: ['role:oncall'], by: [], expiresAt: T0 + 60_000, expiresMono: null }, ...over,
  });
}

function setup(t: { after: (fn: () => void) => void }, now = { wall: T0 + 1000 }): { fx: Fixture; app: Hono; config: ResolvedConfig; key: Buffer } {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const config = makeConfig({
    agent: { dataDir: fx.config.agent.dataDir, api: apiSpec({ publicUrl: 'https://warden.example.com/' }) },
    people: [{ name: 'alice', unix: 'alice', roles: ['oncall'] }, { name: 'bob', unix: 'bob', roles: ['oncall'] }, { name: 'carol', unix: 'carol', roles: [] }],
  });
  fx.store.transaction(() => fx.store.putAction(waiting()));
  const key = linkKey(fx.config.agent.dataDir);
  const decisions: DecisionDeps = {
    submit: (cmd) => Promise.resolve(applyCommand(fx.store, cmd, { wall: now.wall, mono: Number.NaN, boot: '' }, config)),
    action: (id) => fx.store.getAction(id),
    linkKey: () => key,
    audit: (actor, i) => fx.store.audit({ at: now.wall, actor, kind: i.kind, subject: i.subject, data: i.data }),
    now: () => now.wall,
  };
  const app = createApi(daemonApiDeps({
    config: () => config, store: fx.store, now: () => now.wall, lastPassAt: () => now.wall, running: () => true, summary: () => 'nominal',
    observe: () => ({ process: null, checks: [], logTail: [], logSource: null }), metrics: new WardenMetrics({ defaultMetrics: false }),
    named: () => NAMED, decisions,
  }, TOKEN));
  return { fx, app, config, key };
}

const post = (app: Hono, path: string, token: string, body?: unknown): Promise<Response> => Promise.resolve(app.request(path, {
  method: 'POST', headers: { Authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
}));

const audits = (fx: Fixture, kind: string): { actor: string; data: Record<string, unknown> }[] =>
  fx.store.listAudit({ limit: 1000 }).filter((r) => r.kind === kind);

test('POST /api/actions/ID/approve decides as the named token, under the approvers rule; a token without the role is refused (403, audited)', async (t) => {
  const { fx, app } = setup(t);
  const ci = await post(app, '/api/actions/A9/approve', 'ci-secret');
  assert.equal(ci.status, 403);
  const err = (await ci.json()) as { error: { code: string; message: string } };
  assert.equal(err.error.code, 'approval_refused');
  assert.match(err.error.message, /token:ci is not an approver of action A9 \(approvers: role:oncall\)/);
  assert.deepEqual(audits(fx, 'action.decision_refused').map((r) => [r.actor, r.data.via, r.data.code]), [['token:ci', 'token:ci', 'APPROVAL_REFUSED']]);

  const unnamed = await post(app, '/api/actions/A9/approve', TOKEN);
  assert.equal(unnamed.status, 403);
  assert.match(((await unnamed.json()) as { error: { message: string } }).error.message, /agent\.api\.tokenFile is nobody in particular and cannot approve; give approvers named tokens/);

  const alice = await post(app, '/api/actions/A9/approve', 'alice-phone-secret');
  assert.equal(alice.status, 200);
  const ok = (await alice.json()) as { ok: boolean; action: { state: string } };
  assert.equal(ok.action.state, 'validated');
  const approved = fx.store.listAudit({ limit: 1000 }).find((r) => r.kind === 'action.approved')!;
  assert.equal(approved.actor, 'person:alice');
  assert.equal(approved.data.via, 'token:phone');

  const again = await post(app, '/api/actions/A9/reject', 'alice-phone-secret', { reason: 'changed my mind' });
  assert.equal(again.status, 409, 'a validated action cannot be rejected');
  assert.equal((await post(app, '/api/actions/A404/approve', 'alice-phone-secret')).status, 404);
});

test('a requester cannot approve its own action through the API either', async (t) => {
  const { fx, app } = setup(t);
  fx.store.transaction(() => fx.store.putAction(waiting({ id: 'A10', requestedBy: 'person:alice' })));
  const r = await post(app, '/api/actions/A10/approve', 'alice-phone-secret');
  assert.equal(r.status, 403);
  assert.match(((await r.json()) as { error: { message: string } }).error.message, /person:alice requested action A10 and cannot approve it too/);
});

test('approval links: one per approver (role members, not the requester); the key is made 0600; GET shows a form, POST decides once', async (t) => {
  const { fx, app, config, key } = setup(t);
  assert.equal(statSync(join(fx.config.agent.dataDir, LINK_KEY_FILE)).mode & 0o777, 0o600);
  const links = approvalLinks(fx.store.getAction('A9')!, config.people, config.agent.api!.publicUrl!, key);
  assert.deepEqual(links.map((l) => l.by), ['person:alice', 'person:bob']);
  const path = (url: string): string => new URL(url).pathname;
  const bob = links[1]!;
  assert.ok(bob.approve.startsWith('https://warden.example.com/links/A9/'));

  const page = await app.request(path(bob.approve));
  assert.equal(page.status, 200, 'no bearer token needed');
  const html = await page.text();
  assert.match(html, /Approve action A9 \(restart web, ticket T1\)\?/);
  assert.match(html, /<form method="post"><button type="submit">Approve<\/button><\/form>/);
  assert.doesNotMatch(html, /<script/);
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(fx.store.getAction('A9')!.state, 'awaiting_approval', 'looking decides nothing');

  const done = await app.request(path(bob.approve), { method: 'POST' });
  assert.equal(done.status, 200);
  assert.match(await done.text(), /Approved/);
  const a = fx.store.getAction('A9')!;
  assert.equal(a.state, 'validated');
  assert.equal(a.approvedBy, 'person:bob');
  assert.equal(fx.store.listAudit({ limit: 1000 }).find((r) => r.kind === 'action.approved')!.data.via, 'link');

  const replay = await app.request(path(bob.approve), { method: 'POST' });
  assert.equal(replay.status, 403);
  assert.match(await replay.text(), /was used already; a link decides once/);
  const other = await app.request(path(bob.reject), { method: 'POST' });
  assert.equal(other.status, 403, 'the other link of the pair is spent too');
  assert.deepEqual(audits(fx, 'action.decision_refused').map((r) => [r.actor, r.data.via, r.data.code]), [['person:bob', 'link', 'LINK_USED'], ['person:bob', 'link', 'LINK_USED']]);
});

test('approval links: expired, for another action, or forged are refused and audited', async (t) => {
  const now = { wall: T0 + 1000 };
  const { fx, app, config, key } = setup(t, now);
  fx.store.transaction(() => fx.store.putAction(waiting({ id: 'A11' })));
  const [alice] = approvalLinks(fx.store.getAction('A9')!, config.people, 'https://w.example', key);
  const p = new URL(alice!.approve).pathname;

  const moved = await app.request(p.replace('/links/A9/', '/links/A11/'), { method: 'POST' });
  assert.equal(moved.status, 403);
  assert.match(await moved.text(), /the link is for action A9, not A11/);

  const forged = await app.request(`${p.slice(0, -4)}AAAA`, { method: 'POST' });
  assert.equal(forged.status, 403);
  assert.match(await forged.text(), /not signed by this Warden/);

  const foreign = approvalLinks(fx.store.getAction('A9')!, config.people, 'https://w.example', linkKey(mkdtempSync(join(tmpdir(), 'warden-otherkey-'))));
  assert.equal((await app.request(new URL(foreign[0]!.approve).pathname, { method: 'POST' })).status, 403);

  now.wall = T0 + 60_000;
  const late = await app.request(p, { method: 'POST' });
  assert.equal(late.status, 403);
  assert.match(await late.text(), /the link expired at .* with its approval request: it is denied/);
  assert.equal(fx.store.getAction('A9')!.state, 'awaiting_approval');
  assert.deepEqual(audits(fx, 'link.refused').map((r) => [r.actor, /for action A9|not signed|expired/.exec(String(r.data.reason))?.[0]]), [
    ['person:alice', 'for action A9'], ['link', 'not signed'], ['link', 'not signed'], ['person:alice', 'expired'],
  ]);
});

test('a lapsed request is denied at the CLI and the API even before a pass has marked it expired', async (t) => {
  const now = { wall: T0 + 60_000 };
  const { fx, app } = setup(t, now);
  const r = await post(app, '/api/actions/A9/approve', 'alice-phone-secret');
  assert.equal(r.status, 403);
  assert.match(((await r.json()) as { error: { message: string } }).error.message, /approval request of action A9 expired at .*: it is denied/);
  assert.equal(fx.store.getAction('A9')!.state, 'awaiting_approval');
});
