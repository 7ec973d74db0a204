// POST /api/alerts in-process (Hono's app.request) over a real store: Alertmanager's webhook
// payload, token-guarded, validated with clear 400s; what it holds outlives the book (a restart).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlertBook } from '../loop/alerts.js';
import { BOOT, M0, T0 } from '../testing/domain.js';
import { createApi, daemonApiDeps, type DaemonView } from './api.js';
import { apiStatus } from './diagnostics.js';
import { WardenMetrics } from './metrics.js';
import { makeFixture, TOKEN, type Fixture } from './testing.js';

const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

/** A delivery as Alertmanager's webhook notifier sends it (version 4). */
export function payload(status: 'firing' | 'resolved', alerts: { name: string; labels: Record<string, string> }[]): unknown {
  return {
    version: '4', groupKey: '{}:{alertname="X"}', truncatedAlerts: 0, status, receiver: 'warden',
    groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://alertmanager:9093',
    alerts: alerts.map((a) => ({
      status, labels: { alertname: a.name, ...a.labels }, annotations: { summary: `${a.name} fires` },
      startsAt: '2025-01-01T00:00:00.000Z', endsAt: status === 'resolved' ? '2025-01-01T00:05:00.000Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph', fingerprint: `fp${a.name}`,
    })),
  };
}

function setup(fx: Fixture): { book: AlertBook; post: (body: unknown, headers?: Record<string, string>) => Promise<Response> } {
  const book = new AlertBook({ store: fx.store, config: () => fx.config, now: () => ({ wall: T0 + 6000, mono: M0 + 6000, boot: BOOT }) });
  book.load();
  const view: DaemonView = {
    config: () => fx.config, store: fx.store, now: () => T0 + 6000, lastPassAt: () => T0 + 5990, running: () => true, summary: () => 'nominal',
    observe: () => ({ process: null, checks: [], logTail: [], logSource: null }), metrics: new WardenMetrics({ defaultMetrics: false }),
    alerts: (incoming) => book.receive(incoming),
  };
  const app = createApi(daemonApiDeps(view, TOKEN));
  return { book, post: (body, headers = auth) => Promise.resolve(app.request('/api/alerts', { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })) };
}

test('POST /api/alerts needs the token', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const { post } = setup(fx);
  assert.equal((await post(payload('firing', []), { 'Content-Type': 'application/json' })).status, 401);
  assert.equal((await post(payload('firing', []), { Authorization: 'Bearer nope' })).status, 401);
});

test('a firing alert on a service, one that names nothing, then the resolution', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const { book, post } = setup(fx);
  const r = await post(payload('firing', [{ name: 'HighErrorRate', labels: { service: 'web' } }, { name: 'NodeDown', labels: { job: 'node', instance: '10.1.1.1:9100' } }]));
  assert.equal(r.status, 200);
  const receipt = await r.json() as { received: number; firing: { alert: string; service: string }[]; unmatched: { alert: string; reason: string }[] };
  assert.equal(receipt.received, 2);
  assert.deepEqual(receipt.firing.map((f) => [f.alert, f.service]), [['HighErrorRate', 'web']]);
  assert.deepEqual(receipt.unmatched.map((u) => u.alert), ['NodeDown']);
  assert.match(receipt.unmatched[0]!.reason, /names no service in the inventory/);
  assert.deepEqual(Object.keys(book.firing({ wall: T0 + 6001, mono: M0 + 6001, boot: BOOT })), ['web']);
  const audited = fx.store.listAudit({}).filter((a) => a.kind.startsWith('alert.'));
  assert.deepEqual(audited.map((a) => [a.kind, a.subject, a.actor]), [['alert.firing', 'web', 'alertmanager'], ['alert.unmatched', null, 'alertmanager']]);

  // status (read from the store, as `warden status` does without the API) reports the unmatched one.
  const st = apiStatus({ config: fx.config, store: fx.store, now: T0 + 7000 });
  assert.deepEqual(st.alerts?.unmatched.map((u) => u.alert), ['NodeDown']);
  assert.equal(st.alerts?.firing, 1);

  // A restart: a new book reads what the store holds.
  const again = new AlertBook({ store: fx.store, config: () => fx.config, now: () => ({ wall: T0 + 9000, mono: M0 + 9000, boot: BOOT }) });
  again.load();
  assert.deepEqual(Object.keys(again.firing({ wall: T0 + 9000, mono: M0 + 9000, boot: BOOT })), ['web']);

  const resolved = await (await post(payload('resolved', [{ name: 'HighErrorRate', labels: { service: 'web' } }]))).json() as { resolved: { alert: string; service: string }[] };
  assert.deepEqual(resolved.resolved, [{ alert: 'HighErrorRate', fingerprint: 'fpHighErrorRate', service: 'web' }]);
  assert.deepEqual(book.firing({ wall: T0 + 6001, mono: M0 + 6001, boot: BOOT }), {});
});

test('what is not an Alertmanager payload is a 400 naming the field', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const { post } = setup(fx);
  const cases: [unknown, RegExp][] = [
    ['{not json', /^the body is not JSON/],
    [{ version: '3', status: 'firing', alerts: [] }, /version: expected "4" \(Alertmanager's webhook format\), got "3"/],
    [{ version: '4', status: 'firing' }, /alerts: expected a list of alerts/],
    [{ version: '4', status: 'firing', alerts: [{ status: 'burning', labels: {}, startsAt: 'yesterday' }] }, /alerts\[0\]\.status: expected "firing" or "resolved", got "burning"; alerts\[0\]\.startsAt: expected an RFC 3339 time/],
    [{ version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { a: 1 }, startsAt: '2025-01-01T00:00:00Z' }] }, /alerts\[0\]\.labels\.a: expected a string, got 1/],
  ];
  for (const [body, message] of cases) {
    const r = await post(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    const e = await r.json() as { error: { code: string; message: string } };
    assert.equal(e.error.code, 'bad_payload');
    assert.match(e.error.message, message);
  }
  assert.equal(fx.store.listAudit({}).filter((a) => a.kind.startsWith('alert.')).length, 0, 'nothing recorded');
});
