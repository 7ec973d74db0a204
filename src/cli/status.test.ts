import assert from 'node:assert/strict';
import { test } from 'node:test';
import { T0 } from '../testing/domain.js';
import { apiGet, createApi, daemonApiDeps, startApi, type DaemonView } from '../runtime/api.js';
import { WardenMetrics } from '../runtime/metrics.js';
import { apiSpec, liveCheck, makeFixture } from '../runtime/testing.js';
import { debugBundle, statusExitCode } from './status.js';

// `warden debug NAME --json` prints what debugBundle returns; these tests hold it to the endpoint.

test('debug with the daemon answering: exactly the endpoint\'s JSON, live checks included', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const view: DaemonView = {
    config: () => fx.config, store: fx.store, now: () => T0 + 6000, lastPassAt: () => T0 + 5990, running: () => true, summary: () => 'nominal',
    observe: (name) => ({
      process: { running: true, pid: 4242, startedAt: T0 + 1050, procState: 'S', spawnError: null, exits: fx.store.recentExits(name) },
      checks: [liveCheck()], logTail: ['ready'], logSource: `/logs/${name}.log`,
    }),
    metrics: new WardenMetrics({ defaultMetrics: false }),
  };
  const api = await startApi(createApi(daemonApiDeps(view, 'tok')), fx.config.agent.api!);
  t.after(() => api.close());
  const cfg = { ...fx.config, agent: { ...fx.config.agent, api: apiSpec({ port: api.port }) } };
  const env = { WARDEN_API_TOKEN: 'tok' };

  const endpoint = await apiGet(cfg.agent.api, '/api/services/web/diagnostics?lines=50', { env });
  assert.ok(endpoint.ok);
  const { bundle, note } = await debugBundle(cfg, 'web', 50, env);
  assert.equal(note, null);
  assert.deepEqual(bundle, endpoint.body);
  assert.equal((bundle as { checks: { last: { ok: boolean } }[] }).checks[0]!.last.ok, true);

  // Without the daemon: the same function over the store, the same fields, checks null, and a note.
  await api.close();
  const local = await debugBundle(cfg, 'web', 50, env);
  assert.match(local.note ?? '', /^daemon not reachable: checks not shown \(GET http:\/\/127\.0\.0\.1:\d+\/api\/services\/web\/diagnostics\?lines=50: ECONNREFUSED\)$/);
  const l = local.bundle as Record<string, unknown>;
  assert.deepEqual(Object.keys(l), Object.keys(bundle as object));
  assert.equal(l.checks, null);
  assert.deepEqual(l.tickets, (bundle as Record<string, unknown>).tickets);
  assert.deepEqual(l.lastExit, (bundle as Record<string, unknown>).lastExit);
  assert.equal(l.restarts, 1);
});

test('debug with a wrong token falls back to the store and says why', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const api = await startApi(createApi({
    token: () => 'right', healthy: () => ({ ok: true, reason: '' }), status: () => ({}), tickets: () => [], services: () => [],
    diagnostics: () => null, metrics: () => Promise.resolve(''), metricsContentType: 'text/plain',
  }), fx.config.agent.api!);
  t.after(() => api.close());
  const cfg = { ...fx.config, agent: { ...fx.config.agent, api: apiSpec({ port: api.port }) } };
  const { bundle, note } = await debugBundle(cfg, 'web', 50, { WARDEN_API_TOKEN: 'wrong' });
  assert.match(note ?? '', /HTTP 401: invalid bearer token/);
  assert.equal((bundle as { checks: unknown }).checks, null);
});

test('debug without agent.api: the local bundle, and an unknown service is an error naming the known ones', async (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const cfg = { ...fx.config, agent: { ...fx.config.agent, api: null } };
  const { bundle, note } = await debugBundle(cfg, 'web');
  assert.equal(note, 'daemon API not configured (agent.api): checks not shown');
  const b = bundle as { service: string; process: { running: boolean }; log: string[]; logSource: string };
  assert.equal(b.service, 'web');
  assert.equal(b.process.running, false, 'nothing runs in the fixture');
  assert.deepEqual(b.log, []);
  assert.match(b.logSource, /logs\/web\.log$/);
  await assert.rejects(debugBundle(cfg, 'wbe'), /no service or host "wbe" in .*; services: cache, web; hosts: local/);
});

test('status exit codes: 3 when the daemon is down, stale or its store damaged; 1 degraded; 0 nominal', () => {
  const daemon = { running: true, pid: 1, lastPassAt: null };
  assert.equal(statusExitCode({ summary: 'nominal', daemon }), 0);
  assert.equal(statusExitCode({ summary: 'degraded', daemon }), 1);
  assert.equal(statusExitCode({ summary: 'nominal', daemon: { ...daemon, running: false } }), 3);
  assert.equal(statusExitCode({ summary: 'nominal', daemon: { ...daemon, stale: { since: null, reason: 'x' } } }), 3);
  assert.equal(statusExitCode({ summary: 'nominal', daemon: { ...daemon, storeDamaged: { since: null, reason: 'store damaged: ...' } } }), 3, 'it observes but repairs nothing');
});
