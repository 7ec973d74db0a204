// policy.shadow in warden.yaml: a list of scopes, written like the scopes of tiers, limits and
// windows; a mistake is reported where it is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './load.js';
import { configErrors } from '../testing/config.js';

const HEAD = 'version: 1\nagent: { name: otto }\nservices:\n  - { name: web, start: [node] }\n';

test('policy.shadow compiles to scopes, every key left out matching everything', () => {
  const cfg = parseConfig(HEAD + 'policy:\n  shadow:\n    - { service: "db-*" }\n    - { labels: { team: data } }\n', 'w.yaml');
  assert.deepEqual(cfg.policy.shadow, [
    { service: 'db-*', host: '*', group: '*', labels: {} },
    { service: '*', host: '*', group: '*', labels: { team: 'data' } },
  ]);
  // Absent when empty: a policy without shadow reads as it always did.
  assert.equal(parseConfig(HEAD, 'w.yaml').policy.shadow, undefined);
});

test('an unknown key in a shadow scope is an error at its line and column', () => {
  assert.deepEqual(configErrors(HEAD + 'policy:\n  shadow:\n    - { servce: web }\n'), [
    '7:9: policy.shadow[0].servce: unknown key (did you mean "service"?); expected one of service, host, group, labels',
  ]);
});
