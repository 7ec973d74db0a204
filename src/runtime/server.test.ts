// The API's listening side over real sockets: HTTPS with a certificate made by openssl here, and a
// client (the CLI's) that talks to exactly that certificate and no other.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiConfigError, apiBaseUrl, apiGet, createApi, daemonApiDeps, startApi } from './api.js';
import { WardenMetrics } from './metrics.js';
import { apiSpec, makeFixture, TOKEN, type Fixture } from './testing.js';
import { T0 } from '../testing/domain.js';

/** A self-signed certificate for 127.0.0.1 and localhost, as an operator would make one. */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=warden-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

function app(fx: Fixture) {
  return createApi(daemonApiDeps({
    config: () => fx.config, store: fx.store, now: () => T0, lastPassAt: () => T0, running: () => true, summary: () => 'nominal',
    observe: () => ({ process: null, checks: [], logTail: [], logSource: null }), metrics: new WardenMetrics({ defaultMetrics: false }),
  }, TOKEN));
}

function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.once('error', reject);
    req.end();
  });
}

test('with tls the API serves HTTPS only, and the CLI client talks to that certificate and no other', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const good = selfSigned(fx.dir, 'good');
  const other = selfSigned(fx.dir, 'other');
  const spec = apiSpec({ tokenFile: join(fx.dir, 'token'), tls: good });
  const api = await startApi(app(fx), spec);
  t.after(() => api.close());
  const live = { ...spec, port: api.port };
  assert.equal(apiBaseUrl(live), `https://127.0.0.1:${api.port}`);

  assert.equal(await httpsStatus(`https://127.0.0.1:${api.port}/api/status`, readFileSync(good.cert, 'utf8')), 200);
  const plain = await fetch(`http://127.0.0.1:${api.port}/healthz`).then((r) => r.status, (e: Error) => e.message);
  assert.notEqual(plain, 200, 'no plain HTTP on a TLS listener');
  const pinned = await apiGet(live, '/api/status');
  assert.equal(pinned.ok, true, pinned.ok ? '' : pinned.reason);

  // A server with another certificate (a man in the middle, a stale file) gets no token.
  const impostor = await apiGet({ ...live, tls: other }, '/api/status');
  assert.equal(impostor.ok, false);
  assert.match(impostor.ok ? '' : impostor.reason, /certificate is not the one in agent\.api\.tls\.cert/);
});

test('an unreadable certificate or key refuses the start, naming the file', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const spec = apiSpec({ tls: { cert: join(fx.dir, 'absent.crt'), key: join(fx.dir, 'absent.key') } });
  await assert.rejects(startApi(app(fx), spec), (e: unknown) =>
    e instanceof ApiConfigError && e.code === 'API_TLS_FAILED' && e.message.includes(`agent.api.tls.cert ${join(fx.dir, 'absent.crt')}: cannot read it (ENOENT)`));
});
