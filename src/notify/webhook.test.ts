import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import type { NotifyChannel } from '../domain/types.js';
import { deliverWebhook, type NotifyEvent } from './webhook.js';

/** A real receiver on loopback answering with the given statuses in turn (then 204). */
async function receiver(statuses: number[]): Promise<{ url: string; bodies: unknown[]; close: () => Promise<void> }> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (d: Buffer) => { b += d.toString(); });
    req.on('end', () => {
      bodies.push(JSON.parse(b));
      res.writeHead(statuses.shift() ?? 204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}

const channel = (url: string, retries = 3): NotifyChannel => ({ name: 'ops', type: 'webhook', url, headers: { 'x-team': 'sre' }, events: ['*'], timeoutMs: 1000, retries });
const event: NotifyEvent = { kind: 'agent.online', agent: 'otto', at: new Date(0).toISOString(), subject: null, summary: 'otto online; 0 reboots', data: {} };

test('a 5xx is retried with backoff until delivered', async (t) => {
  const r = await receiver([503, 500]);
  t.after(() => r.close());
  const res = await deliverWebhook(channel(r.url), event, () => 0);
  assert.deepEqual(res, { ok: true, attempts: 3, status: 204, error: null });
  assert.equal(r.bodies.length, 3);
  assert.deepEqual(r.bodies[2], event);
});

test('a 4xx other than 429 is final; retries are bounded', async (t) => {
  const r = await receiver([400]);
  t.after(() => r.close());
  assert.deepEqual(await deliverWebhook(channel(r.url), event, () => 0), { ok: false, attempts: 1, status: 400, error: 'HTTP 400' });
  const down = await deliverWebhook(channel('http://127.0.0.1:1/', 2), event, () => 0);
  assert.equal(down.ok, false);
  assert.equal(down.attempts, 3);
  assert.match(down.error ?? '', /ECONNREFUSED|fetch failed/);
});
