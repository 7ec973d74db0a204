// Notifications end to end, on the real daemon and real processes. Local HTTP servers stand in for
// the hosted services (a generic webhook receiver, PagerDuty's Events API v2): they record what the
// provider would receive. One of them hangs, to show a channel that does not answer delays nothing
// and loses nothing.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type { NotifyEvent } from '../../src/notify/event.js';
import { startTestReceiver } from '../../src/testing/receiver.js';
import { SMTP_DOMAIN, smtpUnavailable, startSmtp } from '../../src/testing/smtp.js';
import { cliJson, startLab, waitFor } from './harness.js';

interface OutboxJson { channel: string; kind: string; key: string | null; state: string; attempts: number; lastError: string | null }

test('a crash, then a flap: one opened and one resolved per channel, keyed by the fingerprint; a hung channel delays nothing', async (t) => {
  const hook = await startTestReceiver();
  const pd = await startTestReceiver();
  const slow = await startTestReceiver();
  t.after(() => Promise.all([hook.close(), pd.close(), slow.close()]));
  pd.otherwise(202, '{"status":"success"}');
  slow.hang();
  const run = await startLab({
    noWorker: true,
    notify: `notify:
  - name: hook
    webhook: { url: "${hook.url}/hook" }
    events: [ticket.opened, ticket.reopened, ticket.resolved, ticket.escalated]
    resolveHold: 4s
  - name: pd
    pagerduty: { routingKey: R0UT1NGKEY, url: "${pd.url}/v2/enqueue" }
    events: [ticket.opened, ticket.reopened, ticket.resolved, ticket.escalated]
    resolveHold: 4s
  - name: slow
    webhook: { url: "${slow.url}/hook" }
    timeout: 300ms`,
  });
  t.after(() => run.cleanup());
  // A slow first start on a loaded machine can open a ticket too: two kills must not make it flapping.
  writeFileSync(run.lab.configPath, readFileSync(run.lab.configPath, 'utf8').replace('crashLoop: { exits: 3, window: 60s }', 'crashLoop: { exits: 3, window: 60s }\n  flapThreshold: 5'));
  chmodSync(run.lab.configPath, 0o600); // it holds a routing key: Warden refuses a config others can read
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  await waitFor(async () => slow.received.length > 0, 10_000, 'the slow channel to be tried (agent.online)');
  // What start-up said is settled (a held resolve included) before the story begins.
  await waitFor(async () => (await cliJson<OutboxJson[]>(['notify', 'list', '--channel', 'hook', '--state', 'pending'], run.lab.configPath)).length === 0, 15_000, 'start-up notifications settled');
  const base = { hook: hook.received.length, pd: pd.received.length };
  const occurrences = async (): Promise<number> => (await run.tickets()).filter((x) => x.service === 'web').reduce((n, x) => n + x.occurrences, 0);
  const before = await occurrences();

  // A crash, repaired and resolved while the slow channel hangs on its first message.
  process.kill(run.pid('web'), 'SIGKILL');
  await waitFor(async () => (await occurrences()) === before + 1 && (await run.tickets()).every((x) => x.status === 'resolved'), 20_000, 'the crash resolved');
  // It comes back within the resolve hold: a flap, not a second incident.
  process.kill(run.pid('web'), 'SIGKILL');
  await waitFor(async () => (await occurrences()) === before + 2 && (await run.tickets()).every((x) => x.status === 'resolved'), 20_000, 'the flap resolved');
  const ticket = (await run.tickets()).find((x) => x.service === 'web')!;
  const fingerprint = (await cliJson<{ fingerprint: string }>(['tickets', 'show', ticket.id], run.lab.configPath)).fingerprint;

  await waitFor(async () => hook.json<NotifyEvent>().slice(base.hook).some((e) => e.kind === 'ticket.resolved'), 15_000, 'the held resolve');
  const told = hook.json<NotifyEvent>().slice(base.hook).map((e) => `${e.kind} ${e.key}`);
  const opening = before === 0 ? 'ticket.opened' : 'ticket.reopened';
  assert.deepEqual(told, [`${opening} ${fingerprint}`, `ticket.resolved ${fingerprint}`], 'one opened and one resolved, the flap inside');
  await waitFor(async () => pd.received.length >= base.pd + 2, 10_000, 'PagerDuty resolve');
  assert.deepEqual(pd.json<{ event_action: string; dedup_key: string }>().slice(base.pd).map((e) => `${e.event_action} ${e.dedup_key}`), [`trigger ${fingerprint}`, `resolve ${fingerprint}`]);

  // The hung channel held only its own messages: they wait in the outbox, retried, none lost.
  const waiting = await cliJson<OutboxJson[]>(['notify', 'list', '--channel', 'slow', '--state', 'pending'], run.lab.configPath);
  assert.ok(waiting.some((r) => r.attempts >= 1 && /no answer in time/.test(r.lastError ?? '')), JSON.stringify(waiting));
  assert.ok(waiting.some((r) => r.kind === 'ticket.opened' && r.key === fingerprint));
  slow.release();
  slow.otherwise(204);
  await waitFor(async () => (await cliJson<OutboxJson[]>(['notify', 'list', '--channel', 'slow', '--state', 'pending'], run.lab.configPath)).length === 0, 60_000, 'the slow channel to catch up');
  // Each timed-out attempt reached the hung server (delivery is at least once); what matters is
  // that the story arrived whole and in order. Its flap never reached it (the resolve was still
  // queued when the problem came back), so to this channel too it is one incident.
  const caughtUp = [...new Set(slow.json<NotifyEvent>().map((e) => e.kind))];
  assert.deepEqual(caughtUp.filter((k) => k.startsWith('ticket.') && k !== 'ticket.diagnosed'), [opening, 'ticket.resolved'], caughtUp.join(', '));
  const settled = await cliJson<OutboxJson[]>(['notify', 'list', '--channel', 'slow', '-n', '1000'], run.lab.configPath);
  assert.deepEqual(settled.filter((r) => r.state === 'failed' || r.state === 'dropped'), [], 'nothing lost');
});

test('an escalation notifies again, by webhook and by mail to a real SMTP server; warden notify test proves a channel', { skip: smtpUnavailable() ?? false }, async (t) => {
  const hook = await startTestReceiver();
  t.after(() => hook.close());
  const smtp = await startSmtp();
  t.after(() => smtp.stop());
  const run = await startLab({
    noWorker: true,
    policy: 'policy:\n  rules:\n    - match: { service: cache }\n      allow: [start, restart]\n    - match: { service: web }\n      allow: [start]',
    notify: `notify:\n  - name: hook\n    webhook: { url: "${hook.url}/hook" }\n    events: [ticket.opened, ticket.escalated, ticket.resolved, notify.test]
  - name: mail\n    email: { host: 127.0.0.1, port: ${smtp.port}, from: warden@${SMTP_DOMAIN}, to: oncall@${SMTP_DOMAIN} }\n    events: [ticket.escalated]`,
  });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);
  process.kill(run.pid('web'), 'SIGKILL');
  await waitFor(async () => hook.json<NotifyEvent>().some((e) => e.kind === 'ticket.escalated'), 20_000, 'the escalation');
  const [opened, escalated] = hook.json<NotifyEvent>();
  assert.equal(opened!.kind, 'ticket.opened');
  assert.equal(escalated!.key, opened!.key, 'the same problem, notified again');
  assert.equal(escalated!.severity, 'critical');
  const mail = await waitFor(async () => smtp.mails()[0], 15_000, 'the escalation by mail');
  assert.match(mail, /^X-Warden-Event: ticket\.escalated$/m);
  assert.match(mail, /^Subject: =\?UTF-8\?Q\?=5Blab-warden=5D_ticket_T\d+/m, 'the subject, MIME-encoded for its arrow');
  assert.match(mail, new RegExp(`^X-Warden-Key: ${escalated!.key!.replace(/[/.]/g, '\\$&')}$`, 'm'));

  const r = await cliJson<{ ok: boolean; status: number }>(['notify', 'test', 'hook'], run.lab.configPath);
  assert.deepEqual([r.ok, r.status], [true, 200]);
  assert.equal(hook.json<NotifyEvent>().at(-1)!.kind, 'notify.test');
  const listed = await cliJson<OutboxJson[]>(['notify', 'list', '--channel', 'hook'], run.lab.configPath);
  assert.deepEqual(listed.map((x) => `${x.kind} ${x.state}`).slice(0, 3), ['notify.test delivered', 'ticket.escalated delivered', 'ticket.opened delivered']);
});
