import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { actions } from '../actions/index.js';
import { jsonSchema } from '../config/jsonschema.js';
import { ConfigError, parseConfig } from '../config/load.js';
import { checkSchema, serviceSchema } from '../config/schema.js';
import { kinds } from '../kinds/index.js';
import { isWardenError } from '../lib/errors.js';
import { channels } from '../notify/channels.js';
import { probes } from '../probes/index.js';
import { lookup, registry } from './plugin.js';

const errors = (text: string): string[] => {
  try {
    parseConfig(text, 'w.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
    throw e;
  }
  assert.fail('expected a ConfigError');
};

test('an unknown plugin name is an error naming the family, with a guess and the known names', () => {
  assert.throws(() => lookup('probe', probes, 'htpp'), (e: unknown) => {
    assert.ok(isWardenError(e, 'PLUGIN_UNKNOWN'));
    assert.equal(e.message, 'unknown probe "htpp" (did you mean "http"?); probes are: http, tcp, exec, file, filesystem, promql');
    return true;
  });
  assert.equal(lookup('kind', kinds, 'systemd'), kinds.systemd);
});

test('a table entry must be registered under its own name', () => {
  const p = { name: 'b', description: '', config: z.strictObject({}), compile: () => ({}), prerequisites: [] };
  assert.throws(() => registry('probe', { a: p }), { code: 'PLUGIN_NAME_MISMATCH' });
});

test('unknown kinds, probe keys, channel keys and policy actions are config errors at file:line:col with a guess', () => {
  assert.deepEqual(errors(`version: 1
agent: { name: otto }
services:
  - name: a
    kind: systemdd
    unit: a.service
  - name: b
    start: [sleep, "9"]
    checks:
      - tpc: { address: "127.0.0.1:9" }
notify:
  - name: hook
    webhok: { url: "http://127.0.0.1:9/" }
policy:
  rules:
    - allow: [restrat]
`), [
    '5:11: services[0].kind: expected kind process, systemd, container or pod; got "systemdd" (did you mean "systemd"?)',
    '10:9: services[1].checks[0].tpc: unknown key (did you mean "tcp"?); expected one of name, http, tcp, exec, file, filesystem, promql, interval, timeout, failures, successes, slowerThan',
    '10:9: services[1].checks[0]: a check needs exactly one of http, tcp, exec, file, filesystem or promql; found none',
    '12:5: notify[0]: a notify channel needs exactly one of webhook, slack, mattermost, ntfy, email, twilio, pagerduty, telegram or alertmanager; found none',
    '13:5: notify[0].webhok: unknown key (did you mean "webhook"?); expected one of name, webhook, slack, mattermost, ntfy, email, twilio, pagerduty, telegram, alertmanager, events, timeout, retries, ttl, route, rateLimit, quietHours, digest, repeat, resolveHold',
    '16:15: policy.rules[0].allow[0]: expected one of start | restart | stop | run-runbook | host.reboot | etcd.defragment | etcd.disarm | etcd.move-leader | etcd.replace-member | ratelimiter.flush | ratelimiter.set-limit | ratelimiter.reset-counter, got "restrat" (did you mean "restart"?)',
  ]);
});

test("a kind's required fields come from its plugin, and another kind's fields are refused", () => {
  assert.deepEqual(errors('version: 1\nagent: { name: otto }\nservices:\n  - name: a\n    kind: systemd\n    start: [x]\n'), [
    '4:5: services[0]: kind systemd needs unit: the unit to watch, e.g. unit: nginx.service',
    '6:5: services[0].start: start is for kind process; systemd starts a kind systemd service (unit: ...)',
  ]);
});

test('the config schema and the JSON Schema are derived from the tables', () => {
  const checkKeys = Object.keys(checkSchema.shape);
  for (const name of Object.keys(probes)) assert.ok(checkKeys.includes(name), `check schema lacks probe ${name}`);
  const serviceKeys = Object.keys(serviceSchema.shape);
  for (const k of Object.values(kinds)) for (const f of Object.keys(k.fields)) assert.ok(serviceKeys.includes(f), `service schema lacks ${k.name}'s ${f}`);
  const s = jsonSchema() as { properties: { services: { items: { properties: { kind: { enum: string[] }; checks: { items: { oneOf: { required: string[] }[] } } } } }; notify: { items: { oneOf: { required: string[] }[] } }; policy: { properties: { rules: { items: { properties: { allow: { items: { enum: string[] } } } } } } } } };
  const svc = s.properties.services.items.properties;
  assert.deepEqual(svc.kind.enum, Object.keys(kinds));
  assert.deepEqual(svc.checks.items.oneOf.map((o) => o.required[0]), Object.keys(probes));
  assert.deepEqual(s.properties.notify.items.oneOf.map((o) => o.required[0]), Object.keys(channels));
  assert.deepEqual(s.properties.policy.properties.rules.items.properties.allow.items.enum, Object.keys(actions));
});

test('a check compiles through its probe plugin into a spec tagged with the probe name', () => {
  const cfg = parseConfig('version: 1\nagent: { name: otto }\nservices:\n  - name: a\n    start: [sleep, "9"]\n    checks:\n      - exec: { argv: ["true"] }\n', '/srv/w.yaml');
  assert.deepEqual(cfg.services[0]?.checks[0]?.probe, { type: 'exec', argv: ['true'], cwd: '/srv' });
  assert.equal(cfg.services[0]?.kind, 'process');
});
