import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareVersions, evaluate } from './prerequisites.js';

const listen = (server: Server, target: string | number): Promise<void> =>
  new Promise((r) => (typeof target === 'string' ? server.listen(target, r) : server.listen(target, '127.0.0.1', r)));

test('all prerequisites present: enabled, with what was found', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-prereq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 's.sock');
  const server = createServer((c) => c.destroy());
  await listen(server, sock);
  t.after(() => server.close());
  const v = await evaluate([
    { binary: 'node', version: { args: ['--version'], pattern: '^v(\\d+\\.\\d+)', min: '18' } },
    { file: dir }, { env: 'WARDEN_TEST_SET' }, { socket: sock },
  ], { env: { PATH: process.env.PATH, WARDEN_TEST_SET: 'x' } });
  assert.equal(v.state, 'enabled');
  assert.match(v.reason, /^node \d+\.\d+ at \/.*node; .* exists; \$WARDEN_TEST_SET is set; .*s\.sock accepts connections$/);
  assert.deepEqual(await evaluate([]), { state: 'enabled', reason: 'needs nothing from the host' });
});

test('something absent: disabled, naming each missing thing', async () => {
  const v = await evaluate([
    { binary: 'warden-no-such-binary' }, { file: '/nonexistent/x' }, { env: 'WARDEN_TEST_UNSET' }, { socket: '/nonexistent/s.sock' }, { binary: 'sh' },
  ], { env: { PATH: process.env.PATH } });
  assert.deepEqual(v, {
    state: 'disabled',
    reason: 'warden-no-such-binary not found on PATH; /nonexistent/x does not exist; $WARDEN_TEST_UNSET is not set; no socket at /nonexistent/s.sock',
  });
});

test('present but unusable: failed, which wins over disabled', async (t) => {
  const server = createServer();
  await listen(server, 0);
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  const v = await evaluate([
    { binary: 'node', version: { args: ['--version'], pattern: '^v(\\d+)', min: '999' } },
    { socket: `127.0.0.1:${port}` },
    { env: 'WARDEN_TEST_UNSET' },
  ], { env: { PATH: process.env.PATH } });
  assert.equal(v.state, 'failed');
  assert.match(v.reason, /^node \d+ is older than the 999 needed; cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED$/);
  t.diagnostic(v.reason);
});

test('anyOf holds when one alternative does, else reports every miss', async () => {
  assert.equal((await evaluate([{ anyOf: [{ file: '/nonexistent' }, { file: '/' }] }])).state, 'enabled');
  assert.deepEqual(await evaluate([{ anyOf: [{ file: '/nonexistent' }, { env: 'WARDEN_TEST_UNSET' }] }], { env: {} }), {
    state: 'disabled', reason: 'none of: /nonexistent does not exist, or $WARDEN_TEST_UNSET is not set',
  });
});

test('versions compare part by part', () => {
  assert.equal(compareVersions('10.2', '9.12'), 1);
  assert.equal(compareVersions('252', '252.0'), 0);
  assert.equal(compareVersions('1.2.3', '1.10'), -1);
});
