import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Hono } from 'hono';
import { T0 } from '../testing/domain.js';
import type { ApiSpec } from '../domain/types.js';
import { ApiConfigError, apiBaseUrl, apiGet, createApi, daemonApiDeps, readToken, startApi, tokenMatches, type DaemonView } from './api.js';
import { diagnosticsBundle } from './diagnostics.js';
import { WardenMetrics } from './metrics.js';
import { apiSpec, liveCheck, makeFixture, TOKEN, type Fixture } from './testing.js';

const auth = { Authorization: `Bearer ${TOKEN}` };

/** A daemon as the API sees it, over a real store; the clock and pass time are the test's. */
function view(fx: Fixture, over: Partial<DaemonView> = {}): DaemonView {
  return {
    config: () => fx.config,
    store: fx.store,
    now: () => T0 + 6000,
    lastPassAt: () => T0 + 5990,
    running: () => true,
    summary: () => 'nominal',
    observe: (name, lines) => ({
      process: { running: true, pid: 4242, startedAt: T0 + 1050, procState: 'S', spawnError: null, exits: fx.store.recentExits(name, 20) },
      checks: [liveCheck()],
      logTail: ['line 1', 'line 2', 'line 3'].slice(-lines),
      logSource: `/logs/${name}.log`,
    }),
    metrics: new WardenMetrics({ defaultMetrics: false }),
    ...over,
  };
}

function app(fx: Fixture, over: Partial<DaemonView> = {}): Hono {
  return createApi(daemonApiDeps(view(fx, over), TOKEN));
}

const ROUTES = ['/metrics', '/api/status', '/api/tickets', '/api/services/web/diagnostics', '/api/services/nope/diagnostics', '/nowhere'];

test('every route but /healthz answers 401 without a token, or with a wrong one', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const a = app(fx);
  for (const path of ROUTES) {
    const none = await a.request(path);
    assert.equal(none.status, 401, path);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="warden"');
    assert.deepEqual(await none.json(), { error: { code: 'unauthorized', message: 'missing bearer token: send "Authorization: Bearer <token>"' } });
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, 'Bearer ', `Basic ${TOKEN}`, TOKEN]) {
      const bad = await a.request(path, { headers: { Authorization: header } });
      assert.equal(bad.status, 401, `${path} with ${JSON.stringify(header)}`);
      assert.match(bad.headers.get('www-authenticate') ?? '', /^Bearer realm="warden"/);
      assert.ok(!(await bad.text()).includes(TOKEN), 'the token never appears in an answer');
    }
  }
  // A daemon without a token (cannot happen: startup refuses) would still refuse everyone.
  const closed = createApi({ ...daemonApiDeps(view(fx), TOKEN), token: () => null });
  assert.equal((await closed.request('/api/status', { headers: auth })).status, 401);
});

test('with the token: status, tickets, diagnostics and metrics', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const v = view(fx);
  v.metrics.actionFinished('restart', 'completed');
  const a = createApi(daemonApiDeps(v, TOKEN));

  const status = await a.request('/api/status', { headers: auth });
  assert.equal(status.status, 200);
  const s = await status.json() as { summary: string; services: { name: string; health: string }[]; openTickets: number; frozen: boolean; mode: string; daemon: { running: boolean; pid: number } };
  assert.deepEqual(Object.keys(s), ['summary', 'services', 'subjects', 'openTickets', 'frozen', 'mode', 'daemon']);
  assert.deepEqual(s.services.map((x) => [x.name, x.health]), [['cache', 'healthy'], ['web', 'healthy']]);
  assert.deepEqual(s.daemon, { running: true, pid: process.pid, lastPassAt: '2025-01-01T00:00:05.990Z' });

  const open = await (await a.request('/api/tickets', { headers: auth })).json() as unknown[];
  assert.deepEqual(open, [], 'open tickets only by default');
  const all = await (await a.request('/api/tickets?all=true', { headers: auth })).json() as { id: string; status: string; openedAt: string }[];
  assert.deepEqual(all.map((x) => [x.id, x.status, x.openedAt]), [['T1', 'resolved', '2025-01-01T00:00:01.000Z']]);
  const byStatus = await (await a.request('/api/tickets?status=resolved', { headers: auth })).json() as { id: string }[];
  assert.deepEqual(byStatus.map((x) => x.id), ['T1']);
  const badStatus = await a.request('/api/tickets?status=closed', { headers: auth });
  assert.equal(badStatus.status, 400);
  assert.equal((await badStatus.json() as { error: { code: string } }).error.code, 'bad_request');

  const diag = await a.request('/api/services/web/diagnostics?lines=2', { headers: auth });
  assert.equal(diag.status, 200);
  const bundle = await diag.json() as { checks: { last: { message: string } }[]; log: string[]; lastExit: { signal: string }; restarts: number };
  assert.equal(bundle.checks[0]!.last.message, 'connected in 0 ms');
  assert.deepEqual(bundle.log, ['line 2', 'line 3']);
  assert.equal(bundle.lastExit.signal, 'SIGKILL');
  assert.equal(bundle.restarts, 1);
  assert.equal((await a.request('/api/services/web/diagnostics?lines=lots', { headers: auth })).status, 400);

  const metrics = await a.request('/metrics', { headers: auth });
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await metrics.text();
  for (const name of ['warden_pass_duration_seconds', 'warden_findings', 'warden_tickets', 'warden_actions_total', 'warden_time_to_detect_seconds', 'warden_time_to_recover_seconds']) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
  }
  assert.match(text, /warden_actions_total\{type="restart",outcome="completed"\} 1/);
});

test('404 for an unknown service lists the known ones; unknown routes are JSON 404s', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const a = app(fx);
  const res = await a.request('/api/services/wbe/diagnostics', { headers: auth });
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: { code: 'unknown_service', message: 'no service "wbe" in the inventory; known: cache, web', known: ['cache', 'web'] } });
  const route = await a.request('/api/nothing', { headers: auth });
  assert.equal(route.status, 404);
  assert.equal((await route.json() as { error: { code: string } }).error.code, 'not_found');
});

test('a failing handler maps to a JSON 500, not a stack trace', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const a = createApi({ ...daemonApiDeps(view(fx), TOKEN), status: () => { throw new Error('database is locked'); } });
  const res = await a.request('/api/status', { headers: auth });
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: { code: 'internal', message: 'database is locked' } });
});

test('/healthz needs no token: 200 while the loop progresses, 503 with the reason otherwise', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const ok = await app(fx).request('/healthz');
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { ok: true, reason: 'last pass 10 ms ago', lastPassAt: '2025-01-01T00:00:05.990Z' });

  const stuck = await app(fx, { lastPassAt: () => T0 }).request('/healthz');
  assert.equal(stuck.status, 503);
  assert.deepEqual(await stuck.json(), { ok: false, reason: 'no reconcile pass for 6000 ms (budget 5000 ms)', lastPassAt: '2025-01-01T00:00:00.000Z' });
  const never = await app(fx, { lastPassAt: () => 0 }).request('/healthz');
  assert.equal(never.status, 503);
  assert.equal((await never.json() as { reason: string }).reason, 'no reconcile pass yet');
  const draining = await app(fx, { running: () => false }).request('/healthz');
  assert.equal(draining.status, 503);
});

test('the diagnostics endpoint returns exactly what diagnosticsBundle builds', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const v = view(fx);
  const body = await (await createApi(daemonApiDeps(v, TOKEN)).request('/api/services/web/diagnostics', { headers: auth })).json();
  const o = v.observe('web', 50);
  const spec = fx.config.services.find((s) => s.name === 'web')!;
  assert.deepEqual(body, diagnosticsBundle({ config: fx.config, spec, store: fx.store, ...o, health: null, now: v.now() }));
});

test('readToken: file (trimmed) or environment; a missing or empty token refuses to start, without showing it', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const file = join(fx.dir, 'token');
  assert.equal(readToken(apiSpec({ host: '127.0.0.1', port: 0, tokenFile: file }), {}), TOKEN);
  assert.equal(readToken(apiSpec({ host: '127.0.0.1', port: 0, tokenFile: null }), { WARDEN_API_TOKEN: ` ${TOKEN} ` }), TOKEN);
  assert.throws(() => readToken(apiSpec({ host: '127.0.0.1', port: 0, tokenFile: null }), {}), (e: unknown) =>
    e instanceof ApiConfigError && e.code === 'API_TOKEN_MISSING' && /set agent\.api\.tokenFile, or the WARDEN_API_TOKEN environment variable/.test(e.message));
  assert.throws(() => readToken(apiSpec({ host: '127.0.0.1', port: 0, tokenFile: join(fx.dir, 'absent') }), { WARDEN_API_TOKEN: TOKEN }), /cannot read it \(ENOENT\)/);
  writeFileSync(join(fx.dir, 'empty'), '\n');
  assert.throws(() => readToken(apiSpec({ host: '127.0.0.1', port: 0, tokenFile: join(fx.dir, 'empty') }), {}), /is empty/);
  assert.equal(tokenMatches(TOKEN, TOKEN), true);
  assert.equal(tokenMatches(`${TOKEN}!`, TOKEN), false);
  assert.equal(tokenMatches('', TOKEN), false);
});

test('the real server on port 0, over HTTP: 401, 200, /healthz, and a clear error when the port is taken', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const spec: ApiSpec = fx.config.agent.api!;
  const api = await startApi(app(fx), spec);
  t.after(() => api.close());
  assert.ok(api.port > 0);
  const live: ApiSpec = { ...spec, port: api.port };
  const base = apiBaseUrl(live);
  assert.equal(base, `http://127.0.0.1:${api.port}`);

  const denied = await fetch(`${base}/api/status`);
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get('www-authenticate'), 'Bearer realm="warden"');
  const status = await fetch(`${base}/api/status`, { headers: auth });
  assert.equal(status.status, 200);
  assert.equal((await status.json() as { mode: string }).mode, 'execute');
  assert.equal((await fetch(`${base}/healthz`)).status, 200);

  // The client the CLI uses: token from the configured file.
  const got = await apiGet(live, '/api/services/web/diagnostics');
  assert.equal(got.ok, true);
  const wrong = await apiGet({ ...live, tokenFile: null }, '/api/status', { env: { WARDEN_API_TOKEN: 'nope' } });
  assert.deepEqual(wrong, { ok: false, reason: `GET ${base}/api/status: HTTP 401: invalid bearer token` });

  await assert.rejects(startApi(app(fx), live), (e: unknown) => e instanceof ApiConfigError && e.code === 'API_LISTEN_FAILED' && /EADDRINUSE/.test(e.message));
  await api.close();
  const gone = await apiGet(live, '/api/status');
  assert.deepEqual(gone, { ok: false, reason: `GET ${base}/api/status: ECONNREFUSED` });
});

test('a wildcard listen address is reached over loopback; IPv6 is bracketed', () => {
  assert.equal(apiBaseUrl(apiSpec({ host: '0.0.0.0', port: 7070, tokenFile: null })), 'http://127.0.0.1:7070');
  assert.equal(apiBaseUrl(apiSpec({ host: '::', port: 7070, tokenFile: null })), 'http://[::1]:7070');
  assert.equal(apiBaseUrl(apiSpec({ host: '::1', port: 7070, tokenFile: null })), 'http://[::1]:7070');
});
