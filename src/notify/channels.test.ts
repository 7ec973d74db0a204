// Each channel against a local HTTP server that stands in for the hosted service (Slack,
// Mattermost, ntfy, Twilio, PagerDuty, Telegram, an Alertmanager receiver): the test reads what the
// provider would receive, in the provider's documented wire format, and answers as it would.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import type { ChannelCommon, NotifyChannel } from '../domain/types.js';
import { startTestReceiver } from '../testing/receiver.js';
import { channelSecrets, deliverOnce } from './channels.js';
import type { NotifyEvent } from './event.js';

const common: Omit<ChannelCommon, 'name'> = {
  events: ['*'], timeoutMs: 2000, retries: 0, ttlMs: 60_000, route: { severity: 'info', services: [], labels: {} },
  rateLimit: null, quietHours: null, digest: null, repeatMs: null, resolveHoldMs: 0,
};

const opened: NotifyEvent = {
  kind: 'ticket.opened', agent: 'otto', at: '2025-01-01T12:00:00.000Z', subject: 'T7', key: 'fp-web-1', severity: 'warning', service: 'web',
  summary: 'ticket T7 opened for web: web missing_service (process not running)', data: { fingerprint: 'fp-web-1', openedAt: '2025-01-01T12:00:00.000Z' },
};
const escalated: NotifyEvent = { ...opened, kind: 'ticket.escalated', severity: 'critical', summary: 'ticket T7 remediating → escalated' };
const resolved: NotifyEvent = { ...opened, kind: 'ticket.resolved', severity: 'info', at: '2025-01-01T12:05:00.000Z', summary: 'ticket T7 verifying → resolved' };
const never = new AbortController().signal;

test('webhook: the event as JSON, signed with HMAC-SHA256 over "<timestamp>.<body>"', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const ch: NotifyChannel = { ...common, name: 'hook', type: 'webhook', url: `${rcv.url}/hook`, headers: { 'x-team': 'sre' }, secret: 's3cret' };
  assert.deepEqual(await deliverOnce(ch, opened, never), { ok: true, status: 200, error: null, retryable: false });
  const req = rcv.received[0]!;
  assert.deepEqual(JSON.parse(req.body), opened);
  assert.equal(req.headers['x-team'], 'sre');
  const ts = String(req.headers['x-warden-timestamp']);
  const expected = `sha256=${createHmac('sha256', 's3cret').update(`${ts}.${req.body}`).digest('hex')}`;
  assert.equal(req.headers['x-warden-signature'], expected, 'a receiver recomputes the signature from the raw body');
  assert.deepEqual(channelSecrets(ch), ['notify "hook" webhook secret']);
});

test('slack: Block Kit with the summary, facts and link buttons; Slack\'s error answers are final', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  rcv.otherwise(200, 'ok');
  const ch: NotifyChannel = { ...common, name: 'chat', type: 'slack', url: `${rcv.url}/services/T000/B000/XXX`, linkBase: 'https://warden.example.com' };
  const withLinks = { ...opened, kind: 'ticket.awaiting_approval', data: { ...opened.data, links: { approve: 'https://warden.example.com/a/ok', reject: 'https://warden.example.com/a/no' } } };
  assert.equal((await deliverOnce(ch, withLinks, never)).ok, true);
  const body = rcv.json<{ text: string; blocks: { type: string; elements?: { type: string; url: string; text: { text: string } }[] }[] }>()[0]!;
  assert.equal(body.text, `[otto] ${opened.summary}`);
  assert.deepEqual(body.blocks.map((b) => b.type), ['header', 'section', 'section', 'actions', 'context']);
  assert.deepEqual(body.blocks[3]!.elements!.map((e) => [e.type, e.text.text, e.url]), [
    ['button', 'Approve', 'https://warden.example.com/a/ok'], ['button', 'Reject', 'https://warden.example.com/a/no'],
    ['button', 'Ticket T7', 'https://warden.example.com/api/tickets/T7'],
  ]);
  rcv.answer([400], 'invalid_blocks');
  assert.deepEqual(await deliverOnce(ch, opened, never), { ok: false, status: 400, error: 'HTTP 400: invalid_blocks', retryable: false });
});

test('mattermost: an attachment coloured by severity, with fields and buttons', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const ch: NotifyChannel = { ...common, name: 'mm', type: 'mattermost', url: `${rcv.url}/hooks/abc`, linkBase: 'https://w.example', channel: 'ops', username: 'warden' };
  assert.equal((await deliverOnce(ch, escalated, never)).ok, true);
  const body = rcv.json<{ channel: string; username: string; attachments: { color: string; title: string; fields: { title: string; value: string }[]; actions: { name: string; integration: { url: string } }[] }[] }>()[0]!;
  assert.equal(body.channel, 'ops');
  assert.equal(body.username, 'warden');
  assert.equal(body.attachments[0]!.color, '#e01e5a');
  assert.equal(body.attachments[0]!.title, 'ticket.escalated');
  assert.deepEqual(body.attachments[0]!.fields.find((f) => f.title === 'Key'), { short: true, title: 'Key', value: 'fp-web-1' });
  assert.equal(body.attachments[0]!.actions[0]!.integration.url, 'https://w.example/api/tickets/T7');
});

test('ntfy: JSON publish with priority and tags by severity, bearer token', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const ch: NotifyChannel = { ...common, name: 'push', type: 'ntfy', server: rcv.url, topic: 'warden-ops', token: 'tk_123' };
  for (const e of [escalated, opened, resolved]) assert.equal((await deliverOnce(ch, e, never)).ok, true);
  const bodies = rcv.json<{ topic: string; priority: number; tags: string[]; title: string; message: string }>();
  assert.deepEqual(bodies.map((b) => [b.topic, b.priority, b.tags[0]]), [['warden-ops', 5, 'rotating_light'], ['warden-ops', 4, 'warning'], ['warden-ops', 3, 'white_check_mark']]);
  assert.equal(rcv.received[0]!.path, '/');
  assert.equal(rcv.received[0]!.headers.authorization, 'Bearer tk_123');
});

test('twilio: form-encoded Messages.json with basic auth; 429 is retried, 400 is not', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  rcv.otherwise(201, '{"sid":"SM1","status":"queued"}');
  const sid = `AC${'0'.repeat(32)}`;
  const ch: NotifyChannel = { ...common, name: 'sms', type: 'twilio', accountSid: sid, authToken: 'tok', from: '+15550000000', to: '+15551112222', apiBase: rcv.url };
  assert.deepEqual(await deliverOnce(ch, escalated, never), { ok: true, status: 201, error: null, retryable: false });
  const req = rcv.received[0]!;
  assert.equal(req.path, `/2010-04-01/Accounts/${sid}/Messages.json`);
  assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(req.headers.authorization, `Basic ${Buffer.from(`${sid}:tok`).toString('base64')}`);
  const form = new URLSearchParams(req.body);
  assert.deepEqual([form.get('To'), form.get('From'), form.get('Body')], ['+15551112222', '+15550000000', '[otto] ticket T7 remediating → escalated']);
  rcv.answer([429]);
  assert.equal((await deliverOnce(ch, escalated, never)).retryable, true);
  rcv.answer([400], '{"code":21211,"message":"Invalid To"}');
  assert.equal((await deliverOnce(ch, escalated, never)).retryable, false);
});

test('pagerduty: trigger then resolve with dedup_key = the fingerprint; a repair acknowledges', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  rcv.otherwise(202, '{"status":"success","message":"Event processed","dedup_key":"fp-web-1"}');
  const ch: NotifyChannel = { ...common, name: 'pd', type: 'pagerduty', routingKey: 'R0UT1NGKEY', url: `${rcv.url}/v2/enqueue` };
  const completed: NotifyEvent = { ...opened, kind: 'action.completed', subject: 'A3', severity: 'info', data: { ticket: 'T7' } };
  for (const e of [opened, completed, resolved]) assert.equal((await deliverOnce(ch, e, never)).ok, true);
  const [trigger, ack, resolve] = rcv.json<Record<string, unknown>>();
  assert.deepEqual([trigger!.event_action, ack!.event_action, resolve!.event_action], ['trigger', 'acknowledge', 'resolve']);
  assert.deepEqual([trigger!.dedup_key, ack!.dedup_key, resolve!.dedup_key], ['fp-web-1', 'fp-web-1', 'fp-web-1']);
  assert.equal(trigger!.routing_key, 'R0UT1NGKEY');
  assert.deepEqual(trigger!.payload, {
    summary: opened.summary, source: 'otto', severity: 'warning', timestamp: opened.at, component: 'web', class: 'ticket.opened',
    custom_details: { fingerprint: 'fp-web-1', openedAt: '2025-01-01T12:00:00.000Z', ticket: 'T7' },
  });
  assert.deepEqual(Object.keys(resolve!).sort(), ['dedup_key', 'event_action', 'routing_key']);
});

test('telegram: sendMessage to the chat, link buttons as an inline keyboard; an API error is reported', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  rcv.otherwise(200, '{"ok":true,"result":{"message_id":1}}');
  const ch: NotifyChannel = { ...common, name: 'tg', type: 'telegram', botToken: '123:ABC', chatId: '-100200', apiBase: rcv.url };
  assert.equal((await deliverOnce(ch, opened, never)).ok, true);
  assert.equal(rcv.received[0]!.path, '/bot123:ABC/sendMessage');
  const body = rcv.json<{ chat_id: string; text: string }>()[0]!;
  assert.equal(body.chat_id, '-100200');
  assert.equal(body.text, `⚠️ [otto] ${opened.summary}`);
  rcv.answer([403], '{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked"}');
  const r = await deliverOnce(ch, opened, never);
  assert.equal(r.retryable, false);
  assert.match(r.error ?? '', /bot was kicked/);
});

test('alertmanager: webhook v4, one alert per problem, firing then resolved with the same labels', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  const ch: NotifyChannel = { ...common, name: 'am', type: 'alertmanager', url: `${rcv.url}/alerts`, headers: {} };
  for (const e of [opened, resolved]) assert.equal((await deliverOnce(ch, e, never)).ok, true);
  type Am = { version: string; status: string; receiver: string; alerts: { status: string; labels: Record<string, string>; startsAt: string; endsAt: string; fingerprint: string }[] };
  const [firing, done] = rcv.json<Am>();
  assert.deepEqual([firing!.version, firing!.status, firing!.receiver, done!.status], ['4', 'firing', 'am', 'resolved']);
  assert.equal(firing!.alerts[0]!.labels.warden_key, 'fp-web-1');
  assert.equal(firing!.alerts[0]!.endsAt, '0001-01-01T00:00:00Z');
  assert.deepEqual([done!.alerts[0]!.startsAt, done!.alerts[0]!.endsAt], ['2025-01-01T12:00:00.000Z', '2025-01-01T12:05:00.000Z']);
  assert.notEqual(firing!.alerts[0]!.fingerprint, '');
});

test('a provider that does not answer: the attempt ends when its signal fires, retryable', async (t) => {
  const rcv = await startTestReceiver();
  t.after(() => rcv.close());
  rcv.hang();
  const ch: NotifyChannel = { ...common, name: 'hook', type: 'webhook', url: rcv.url, headers: {}, secret: null };
  const r = await deliverOnce(ch, opened, AbortSignal.timeout(200));
  rcv.release();
  assert.equal(r.ok, false);
  assert.equal(r.retryable, true);
  assert.match(r.error ?? '', /no answer in time/);
});
