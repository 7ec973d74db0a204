// The outbox against a real store and a real HTTP receiver (standing in for a hosted service), on
// a simulated clock: timeouts, backoff, holds and windows are driven by the test, not waited for.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { WebhookChannel } from '../domain/types.js';
import { SimulatedClock } from '../testing/clock.js';
import { startTestReceiver, type TestReceiver } from '../testing/receiver.js';
import { Store } from '../store/store.js';
import type { NotifyEvent } from './event.js';
import { AUDIT_CURSOR_FLAG, Outbox, retryDelayMs, type OutboxDeps } from './outbox.js';
import type { Draft } from './semantics.js';

function channel(url: string, over: Partial<WebhookChannel> = {}): WebhookChannel {
  return {
    name: 'ops', type: 'webhook', url, headers: {}, secret: null, events: ['*'], timeoutMs: 600_000, retries: 0, ttlMs: 24 * 3_600_000,
    route: { severity: 'info', services: [], labels: {} }, rateLimit: null, quietHours: null, digest: null, repeatMs: null, resolveHoldMs: 0, ...over,
  };
}

const draft = (kind: string, key: string | null, over: Partial<Draft> = {}): Draft => ({
  kind, subject: 'T1', key, severity: kind === 'ticket.escalated' ? 'critical' : kind === 'ticket.resolved' ? 'info' : 'warning', service: 'web', summary: `${kind} ${key ?? ''}`, data: {}, ...over,
});

interface Rig {
  store: Store;
  dir: string;
  clock: SimulatedClock;
  outbox: Outbox;
  audits: { kind: string; data: Record<string, unknown> }[];
  channels: WebhookChannel[];
}

function rig(t: TestContext, channels: WebhookChannel[], over: Partial<OutboxDeps> = {}, reuse?: { dir: string; clock: SimulatedClock }): Rig {
  const dir = reuse?.dir ?? mkdtempSync(join(tmpdir(), 'warden-outbox-'));
  const store = Store.open(dir);
  const clock = reuse?.clock ?? new SimulatedClock(Date.UTC(2025, 0, 1, 12));
  const audits: Rig['audits'] = [];
  const outbox = new Outbox({
    store, clock, boot: () => 'boot-1', agent: () => 'otto', channels: () => channels,
    labels: (s) => (s === 'db' ? { team: 'data' } : { team: 'web' }), draftsOf: () => [], stillOpen: () => true,
    audit: (kind, _s, data) => audits.push({ kind, data }), log: process.env.OUTBOX_LOG ? (l) => process.stderr.write(`${l}\n`) : () => undefined, random: () => 0.5, ...over,
  });
  outbox.start();
  t.after(async () => {
    await outbox.stop(0);
    store.close();
    if (!reuse) rmSync(dir, { recursive: true, force: true });
  });
  return { store, dir, clock, outbox, audits, channels };
}

/**
 * Lets real I/O (the receiver, fetch) run while simulated time stands still or moves by `stepMs`.
 * Channels get long timeouts unless a test is about them: simulated time runs ahead of real requests.
 */
async function until(r: Rig, cond: () => boolean, what: string, stepMs = 0): Promise<void> {
  for (let i = 0; i < 500; i++) {
    r.clock.advance(stepMs);
    if (cond()) return;
    await new Promise((res) => setTimeout(res, 4));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const kinds = (rcv: TestReceiver): string[] => rcv.json<NotifyEvent>().map((e) => e.kind);
const states = (r: Rig): string[] => r.store.outbox.list({}).reverse().map((x) => x.state);

test('a hung channel: recording is immediate, the attempt times out, is retried with backoff, and nothing is lost', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  rcv.hang();
  const r = rig(t, [channel(rcv.url, { timeoutMs: 1000 })]);
  r.store.transaction(() => r.outbox.enqueue([draft('ticket.opened', 'fp1'), draft('ticket.opened', 'fp2'), draft('ticket.resolved', 'fp1')]));
  assert.deepEqual(states(r), ['pending', 'pending', 'pending'], 'recorded at once, none delivered yet');
  await until(r, () => rcv.received.length === 1, 'the first attempt to reach the hung receiver');
  r.clock.advance(1000); // the channel's timeout
  await until(r, () => r.store.outbox.list({}).some((x) => x.attempts === 1), 'the timed-out attempt to be counted');
  const first = r.store.outbox.list({}).find((x) => x.attempts === 1)!;
  assert.match(first.lastError ?? '', /no answer in time/);
  assert.equal(first.dueAt - r.clock.now(), retryDelayMs(1, () => 0.5), 'retried after backoff with jitter');
  rcv.release();
  await until(r, () => states(r).every((s) => s === 'delivered'), 'everything delivered once the receiver answers', 50);
  assert.deepEqual(kinds(rcv).slice(1), ['ticket.opened', 'ticket.opened', 'ticket.resolved']);
  assert.deepEqual(rcv.json<NotifyEvent>().slice(1).map((e) => e.key), ['fp1', 'fp2', 'fp1']);
});

test('undelivered notifications survive a restart of the daemon', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const dir = mkdtempSync(join(tmpdir(), 'warden-outbox-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new SimulatedClock();
  const down = rig(t, [channel('http://127.0.0.1:1')], {}, { dir, clock });
  down.store.transaction(() => down.outbox.enqueue([draft('ticket.opened', 'fp1')]));
  await until(down, () => down.store.outbox.list({})[0]!.attempts === 1, 'a refused attempt');
  await down.outbox.stop(0);
  down.store.close();
  // A long timeout: simulated time runs ahead of the real request here.
  const up = rig(t, [channel(rcv.url, { timeoutMs: 3_600_000 })], {}, { dir, clock });
  await until(up, () => states(up)[0] === 'delivered', 'delivery after the restart', 1000);
  assert.deepEqual(kinds(rcv), ['ticket.opened']);
});

test('a notification still undelivered at its ttl is dropped and audited', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  rcv.otherwise(503);
  const r = rig(t, [channel(rcv.url, { ttlMs: 20_000 })]);
  r.store.transaction(() => r.outbox.enqueue([draft('ticket.opened', 'fp1')]));
  await until(r, () => states(r)[0] === 'dropped', 'the drop at ttl', 1000);
  const row = r.store.outbox.list({})[0]!;
  assert.ok(row.attempts >= 3, `retried before the drop (${row.attempts} attempts)`);
  assert.deepEqual(r.audits.map((a) => [a.kind, a.data.channel, a.data.event, a.data.key]), [['notify.dropped', 'ops', 'ticket.opened', 'fp1']]);
  assert.match(String(r.audits[0]!.data.reason), /ttl/);
});

test('a 4xx is final at once: failed and audited, not retried', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  rcv.answer([400], 'bad payload');
  const r = rig(t, [channel(rcv.url)]);
  r.store.transaction(() => r.outbox.enqueue([draft('ticket.opened', 'fp2')]));
  await until(r, () => r.audits.length === 1, 'the rejection', 100);
  assert.equal(r.audits[0]!.kind, 'notify.failed');
  assert.match(String(r.audits[0]!.data.reason), /HTTP 400: bad payload/);
  assert.equal(r.store.outbox.list({})[0]!.attempts, 1, 'a 400 is not retried');
});

test('a problem that comes back before its held resolve went out stays one incident', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const r = rig(t, [channel(rcv.url, { resolveHoldMs: 30_000 })]);
  r.store.transaction(() => r.outbox.enqueue([draft('ticket.opened', 'fp1')]));
  await until(r, () => rcv.received.length === 1, 'opened');
  for (let i = 0; i < 3; i++) {
    r.store.transaction(() => r.outbox.enqueue([draft('ticket.resolved', 'fp1')]));
    r.clock.advance(5_000);
    r.store.transaction(() => r.outbox.enqueue([draft('ticket.reopened', 'fp1')]));
  }
  r.store.transaction(() => r.outbox.enqueue([draft('ticket.resolved', 'fp1')]));
  await until(r, () => rcv.received.length === 2, 'the last resolve after its hold', 1000);
  assert.deepEqual(kinds(rcv), ['ticket.opened', 'ticket.resolved']);
  assert.equal(states(r).filter((s) => s === 'suppressed').length, 6, 'three held resolves and three reopens, kept as suppressed');
});

test('routes by severity, service and labels; a resolve goes only, and always, where its problem went', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const pager = channel(`${rcv.url}/pager`, { name: 'pager', route: { severity: 'critical', services: [], labels: {} } });
  const data = channel(`${rcv.url}/data`, { name: 'data', route: { severity: 'info', services: ['d*'], labels: { team: 'da*' } } });
  const r = rig(t, [pager, data]);
  r.store.transaction(() => r.outbox.enqueue([
    draft('ticket.opened', 'web-fp'), draft('ticket.opened', 'db-fp', { service: 'db' }),
    draft('ticket.escalated', 'web-fp'), draft('ticket.resolved', 'web-fp'), draft('ticket.resolved', 'db-fp', { service: 'db' }),
    draft('agent.degraded', 'agent:otto:health', { service: null, severity: 'critical' }),
  ]));
  await until(r, () => states(r).every((s) => s === 'delivered'), 'deliveries');
  const at = (p: string): string[] => rcv.received.filter((x) => x.path === p).map((x) => `${(JSON.parse(x.body) as NotifyEvent).kind} ${(JSON.parse(x.body) as NotifyEvent).key}`);
  assert.deepEqual(at('/pager'), ['ticket.escalated web-fp', 'ticket.resolved web-fp', 'agent.degraded agent:otto:health']);
  assert.deepEqual(at('/data'), ['ticket.opened db-fp', 'ticket.resolved db-fp', 'agent.degraded agent:otto:health']);
});

test('quiet hours hold all but escalations, which take what is held of their problem along', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const r = rig(t, [channel(rcv.url, { quietHours: { from: 22 * 60, to: 7 * 60, timezone: 'UTC' } })]);
  r.clock.advance(11 * 3600_000); // 23:00 UTC
  r.store.transaction(() => r.outbox.enqueue([draft('ticket.opened', 'fp1'), draft('ticket.opened', 'fp2')]));
  r.store.transaction(() => r.outbox.enqueue([draft('ticket.escalated', 'fp1')]));
  await until(r, () => rcv.received.length === 2, 'the escalation');
  assert.deepEqual(rcv.json<NotifyEvent>().map((e) => `${e.kind} ${e.key}`), ['ticket.opened fp1', 'ticket.escalated fp1']);
  assert.equal(r.store.outbox.list({ states: ['pending'] }).find((x) => x.key === 'fp2')?.hold, 'quiet');
  await until(r, () => rcv.received.length === 3, 'the end of quiet hours', 600_000);
  assert.equal(new Date(r.clock.now()).getUTCHours(), 7);
  assert.equal(rcv.json<NotifyEvent>()[2]!.key, 'fp2');
});

test('more than N events in a window: the rest of the window goes as one digest', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const r = rig(t, [channel(rcv.url, { digest: { after: 2, windowMs: 60_000 } })]);
  r.store.transaction(() => r.outbox.enqueue(['a', 'b', 'c', 'd', 'e'].map((k) => draft('ticket.opened', k))));
  r.store.transaction(() => r.outbox.enqueue([draft('ticket.escalated', 'a')]));
  await until(r, () => rcv.received.length === 3, 'the first two and the escalation');
  await until(r, () => rcv.received.length === 4, 'the digest', 5_000);
  const digest = rcv.json<NotifyEvent>()[3]!;
  assert.equal(digest.kind, 'notify.digest');
  assert.equal(digest.data.count, 3);
  assert.deepEqual((digest.data.events as { key: string }[]).map((e) => e.key), ['c', 'd', 'e']);
  assert.deepEqual(states(r).filter((s) => s === 'digested').length, 3);
});

test('a rate limit paces deliveries; nothing is lost', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const r = rig(t, [channel(rcv.url, { rateLimit: { max: 2, perMs: 10_000 } })]);
  r.store.transaction(() => r.outbox.enqueue(['a', 'b', 'c', 'd', 'e'].map((k) => draft('ticket.opened', k))));
  await until(r, () => rcv.received.length === 2, 'the first two');
  const t0 = r.clock.mono();
  await until(r, () => rcv.received.length === 4, 'two more', 1000);
  assert.ok(r.clock.mono() - t0 >= 10_000, 'not before the period ended');
  await until(r, () => rcv.received.length === 5, 'the last', 1000);
  assert.deepEqual(rcv.json<NotifyEvent>().map((e) => e.key), ['a', 'b', 'c', 'd', 'e']);
});

test('a reminder while a problem stays unresolved, none once it is resolved', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  let open = true;
  const r = rig(t, [channel(rcv.url, { repeatMs: 60_000 })], { stillOpen: () => open });
  r.store.transaction(() => r.outbox.enqueue([draft('ticket.opened', 'fp1')]));
  await until(r, () => rcv.received.length === 1, 'opened');
  await until(r, () => rcv.received.length === 2, 'a reminder', 5_000);
  const reminder = rcv.json<NotifyEvent>()[1]!;
  assert.equal(reminder.kind, 'ticket.reminder');
  assert.equal(reminder.key, 'fp1');
  assert.match(reminder.summary, /^still unresolved since /);
  open = false;
  r.clock.advance(10 * 60_000);
  r.store.transaction(() => r.outbox.enqueue([draft('ticket.resolved', 'fp1')]));
  await until(r, () => rcv.received.length === 3, 'the resolve', 1000);
  r.clock.advance(10 * 60_000);
  assert.equal(kinds(rcv).at(-1), 'ticket.resolved');
});

test('one channel down delays no other; the audit log is announced exactly once from its cursor', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const r = rig(t, [channel('http://127.0.0.1:1', { name: 'down' }), channel(rcv.url, { name: 'up' })], {
    draftsOf: (rec) => (rec.kind === 'ticket.opened' ? [draft('ticket.opened', String(rec.data.fingerprint))] : []),
  });
  assert.equal(r.store.getFlag(AUDIT_CURSOR_FLAG), '0', 'a new store is followed from its head');
  r.store.auditBatch([
    { at: r.clock.now(), actor: 'otto', kind: 'ticket.opened', subject: 'T1', data: { fingerprint: 'fp1' } },
    { at: r.clock.now(), actor: 'otto', kind: 'action.proposed', subject: 'A1', data: {} },
    { at: r.clock.now(), actor: 'otto', kind: 'ticket.opened', subject: 'T2', data: { fingerprint: 'fp2' } },
  ]);
  r.outbox.kick();
  await until(r, () => rcv.received.length === 2, 'both on the working channel');
  r.outbox.tail();
  assert.equal(r.store.outbox.list({ channel: 'up' }).length, 2, 'no record is announced twice');
  assert.equal(r.store.getFlag(AUDIT_CURSOR_FLAG), '3');
  assert.deepEqual(r.store.outbox.list({ channel: 'down' }).map((x) => x.state), ['pending', 'pending']);
});

test('Warden recovered reaches the channels though its alarm went from memory; a ticket\'s resolve needs its opening', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const r = rig(t, [channel(rcv.url)]);
  r.store.transaction(() => r.outbox.enqueue([
    draft('ticket.resolved', 'fp-never-told'),
    draft('agent.recovered', 'agent:otto:health', { service: null, severity: 'info' }),
  ]));
  await until(r, () => rcv.received.length === 1 && states(r).every((s) => s === 'delivered'), 'the recovery');
  assert.deepEqual(kinds(rcv), ['agent.recovered']);
});
