import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from './load.js';
import { configSecrets, isSecretName } from './secrets.js';

test('secret-looking names, in any spelling; ordinary ones are not', () => {
  for (const n of ['DB_PASSWORD', 'password', 'apiToken', 'API_KEY', 'api-key', 'X-Auth-Token', 'Authorization', 'client_secret', 'AWS_SECRET_ACCESS_KEY', 'privateKey', 'Cookie', 'PGPASSWD']) {
    assert.equal(isSecretName(n), n !== 'PGPASSWD', n); // a run-together word is not split: a known limit
  }
  for (const n of ['PORT', 'REDIS_PORT', 'Content-Type', 'HOME', 'KEY_PREFIX', 'author', 'PASSTHROUGH', 'TOKENIZER_MODEL']) assert.equal(isSecretName(n), false, n);
});

test('configSecrets says where, never what', () => {
  const cfg = parseConfig(`version: 1
agent: { name: otto }
services:
  - name: db
    start: [postgres]
    env: { PGPORT: "5432", DB_PASSWORD: hunter2 }
    runbooks:
      - { name: vacuum, run: [vacuumdb], env: { ADMIN_TOKEN: t0k } }
notify:
  - name: pager
    webhook: { url: "https://ops:pw@hooks.example/x", headers: { Authorization: "Bearer z", Content-Type: application/json } }
  - name: chat
    webhook: { url: "https://chat.example/hook?token=abc&room=ops" }
  - name: plain
    webhook: { url: "https://hooks.example/plain" }
`, '/etc/warden/warden.yaml');
  const found = configSecrets(cfg);
  assert.deepEqual(found, [
    'service db env DB_PASSWORD',
    'service db runbook vacuum env ADMIN_TOKEN',
    'notify "pager" webhook header Authorization',
    'notify "pager" webhook url password',
    'notify "chat" webhook url parameter token',
  ]);
  assert.ok(!found.join().match(/hunter2|t0k|abc|pw@/));
  assert.deepEqual(configSecrets(parseConfig('version: 1\nagent: { name: otto }\n', '/w.yaml')), []);
});
