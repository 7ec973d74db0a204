// agent.api beyond loopback: only when asked for (allowRemote), and then over TLS or with a reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from './load.js';
import { configErrors } from '../testing/config.js';

const api = (fields: string): string => `version: 1\nagent:\n  name: otto\n  api:\n${fields}`;

test('loopback listens need nothing more; the API gets a connection cap of 64 by default', () => {
  for (const listen of ['127.0.0.1:7070', '127.0.0.53:7070', '[::1]:7070', 'localhost:7070']) {
    const cfg = parseConfig(api(`    listen: "${listen}"\n`), '/etc/warden/warden.yaml');
    assert.deepEqual({ ...cfg.agent.api, host: 'h', port: 0 }, { host: 'h', port: 0, tokenFile: null, allowRemote: false, tls: null, insecureReason: null, maxConnections: 64, tokens: [], publicUrl: null }, listen);
  }
});

test('a listen address other hosts reach needs allowRemote: true, reported at the address', () => {
  for (const listen of ['0.0.0.0:7070', '[::]:7070', '10.1.2.3:7070', 'warden.example:7070']) {
    assert.deepEqual(configErrors(api(`    listen: "${listen}"\n`)), [
      `5:13: agent.api.listen: ${listen} can be reached from other hosts; set allowRemote: true (with tls: { cert, key }) if that is meant, or listen on 127.0.0.1`,
    ], listen);
  }
});

test('allowRemote needs TLS or a stated reason to go without; TLS paths resolve against the config', () => {
  assert.deepEqual(configErrors(api('    listen: "0.0.0.0:7070"\n    allowRemote: true\n')), [
    '6:18: agent.api.allowRemote: a remote API sends its bearer token over the network: give tls: { cert: FILE, key: FILE }, or insecureReason: "..." saying why plain HTTP is safe here (e.g. a private WireGuard interface)',
  ]);
  const tls = parseConfig(api('    listen: "0.0.0.0:7070"\n    allowRemote: true\n    tls: { cert: tls/cert.pem, key: /etc/warden/key.pem }\n'), '/etc/warden/warden.yaml');
  assert.deepEqual(tls.agent.api?.tls, { cert: '/etc/warden/tls/cert.pem', key: '/etc/warden/key.pem' });
  const plain = parseConfig(api('    listen: "0.0.0.0:7070"\n    allowRemote: true\n    insecureReason: only on the wg0 VPN\n'), '/w.yaml');
  assert.equal(plain.agent.api?.insecureReason, 'only on the wg0 VPN');
  assert.deepEqual(configErrors(api('    listen: "127.0.0.1:7070"\n    tls: { cert: c.pem }\n')).map((e) => e.replace(/^\d+:\d+: /, '')), ['agent.api.tls: missing required key "key" (PEM private key file (mode 0600))']);
});

test('maxConnections is a positive count', () => {
  assert.equal(parseConfig(api('    listen: "127.0.0.1:7070"\n    maxConnections: 8\n'), '/w.yaml').agent.api?.maxConnections, 8);
  assert.equal(configErrors(api('    listen: "127.0.0.1:7070"\n    maxConnections: 0\n')).length, 1);
});
