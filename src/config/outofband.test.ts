// The out-of-band sections of warden.yaml: alerts (Alertmanager in), heartbeat (dead man's switch)
// and peers (mutual watch); errors at file:line:col like every other key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from './load.js';
import { configErrors } from '../testing/config.js';

const HEAD = 'version: 1\nagent: { name: otto }\n';

test('alerts, heartbeat and peers compile with their defaults', () => {
  const c = parseConfig(`${HEAD}alerts: { labels: [app] }\nheartbeat: { url: "https://hc-ping.com/abc" }\npeers:\n  - { name: b, url: "http://10.0.0.2:7070/healthz" }\n`, '/x/w.yaml');
  assert.deepEqual(c.alerts, { labels: ['app'], expireAfterMs: 5 * 3_600_000 });
  assert.deepEqual(c.heartbeat, { url: 'https://hc-ping.com/abc', method: 'GET', everyMs: 60_000, timeoutMs: 10_000 });
  assert.deepEqual(c.peers, [{ name: 'b', url: 'http://10.0.0.2:7070/healthz', intervalMs: 5000, timeoutMs: 2000, failures: 3 }]);
});

test('a wrong heartbeat or peer is reported where it is', () => {
  assert.deepEqual(configErrors(`${HEAD}heartbeat: { url: "hc-ping.com/abc", method: PUT }\n`), [
    '3:19: heartbeat.url: expected an http:// or https:// URL; got "hc-ping.com/abc"',
    '3:46: heartbeat.method: expected one of GET | POST, got "PUT"',
  ]);
  const dup = configErrors(`${HEAD}peers:\n  - { name: b, url: "http://a:1/healthz" }\n  - { name: b, url: "http://c:1/healthz" }\n`);
  assert.equal(dup.length, 1);
  assert.match(dup[0]!, /^5:\d+: peers\[1\]\.name: peer "b" is listed twice; peer names are unique$/);
  assert.match(configErrors(`${HEAD}alerts: { labels: [] }\n`)[0]!, /^3:\d+: alerts\.labels: /);
});
