import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALERTS, firingByService, placeAlert, receiveAlerts, unmatchedAlerts, type IncomingAlert } from './alerts.js';
import { BOOT, M0, T0, makeConfig } from '../testing/domain.js';
import type { AlertRecord } from './types.js';

const now = (ms = 0): { wall: number; mono: number; boot: string } => ({ wall: T0 + ms, mono: M0 + ms, boot: BOOT });
const config = makeConfig();

function incoming(name: string, labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing'): IncomingAlert {
  return { status, fingerprint: `fp-${name}`, name, labels: { alertname: name, ...labels }, annotations: {}, startsAt: '2025-01-01T00:00:00Z', generatorURL: '' };
}

function held(records: AlertRecord[]): Map<string, AlertRecord> {
  return new Map(records.map((r) => [r.fingerprint, r]));
}

describe('placeAlert', () => {
  const names = new Set(['web', 'cache']);
  it('tries the labels in order; an instance names its host part', () => {
    assert.deepEqual(placeAlert({ service: 'web', job: 'cache' }, DEFAULT_ALERTS, names), { service: 'web', label: 'service' });
    assert.deepEqual(placeAlert({ service: 'nope', job: 'cache' }, DEFAULT_ALERTS, names), { service: 'cache', label: 'job' });
    assert.deepEqual(placeAlert({ instance: 'web:9100' }, DEFAULT_ALERTS, names), { service: 'web', label: 'instance' });
  });
  it('names nothing: says which labels it has and what to do', () => {
    const p = placeAlert({ job: 'node', instance: '10.0.0.9:9100' }, DEFAULT_ALERTS, names);
    assert.ok('unmatched' in p);
    assert.match(p.unmatched, /job="node", instance="10.0.0.9:9100" names no service in the inventory; add a "service" label/);
    const none = placeAlert({ alertname: 'X' }, { labels: ['team'], expireAfterMs: 1 }, names);
    assert.ok('unmatched' in none && /none of the labels team \(alerts.labels\)/.test(none.unmatched));
  });
});

describe('receiveAlerts', () => {
  it('audits what changes only: a new alert, its resolution; a re-send moves receivedAt alone', () => {
    const first = receiveAlerts(new Map(), [incoming('A', { service: 'web' }), incoming('B', { job: 'node' })], config, now());
    assert.deepEqual(first.audit.map((a) => [a.kind, a.subject]), [['alert.firing', 'web'], ['alert.unmatched', null]]);
    assert.deepEqual(first.receipt.firing.map((f) => [f.alert, f.service, f.label]), [['A', 'web', 'service']]);
    assert.deepEqual(first.receipt.unmatched.map((f) => f.alert), ['B']);
    assert.equal(first.put.length, 2);

    const again = receiveAlerts(held(first.put), [incoming('A', { service: 'web' })], config, now(60_000));
    assert.deepEqual(again.audit, []);
    assert.equal(again.put[0]!.receivedAt, T0 + 60_000);

    const gone = receiveAlerts(held(first.put), [incoming('A', { service: 'web' }, 'resolved'), incoming('Z', { service: 'web' }, 'resolved')], config, now(1000));
    assert.deepEqual(gone.remove, ['fp-A']);
    assert.deepEqual(gone.audit.map((a) => [a.kind, a.subject]), [['alert.resolved', 'web']]);
    assert.deepEqual(gone.receipt.resolved.map((r) => r.alert), ['A', 'Z'], 'an unknown resolution is reported, changes nothing');
  });

  it('an alert not received again within expireAfter is forgotten and audited once', () => {
    const first = receiveAlerts(new Map(), [incoming('A', { service: 'web' })], config, now());
    const later = now(DEFAULT_ALERTS.expireAfterMs + 1);
    assert.deepEqual(firingByService(first.put, config, later), {});
    const next = receiveAlerts(held(first.put), [], config, later);
    assert.deepEqual(next.remove, ['fp-A']);
    assert.deepEqual(next.audit.map((a) => a.kind), ['alert.expired']);
  });

  it('firing ones are placed on the inventory as it is now; the rest are reported unmatched', () => {
    const r = receiveAlerts(new Map(), [incoming('A', { service: 'web' }), incoming('B', { service: 'gone' })], config, now());
    assert.deepEqual(Object.keys(firingByService(r.put, config, now(1))), ['web']);
    assert.deepEqual(unmatchedAlerts(r.put, config, now(1)).map((u) => u.alert), ['B']);
  });
});
