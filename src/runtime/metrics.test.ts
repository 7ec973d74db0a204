import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tcpCheck, T0 } from '../testing/domain.js';
import type { ServiceObservation } from '../domain/types.js';
import { faultStartedAt, WardenMetrics } from './metrics.js';

const line = (text: string, prefix: string): string | undefined => text.split('\n').find((l) => l.startsWith(prefix));

test('the exposition has every metric, zeros included, and Node\'s process metrics under their standard names', async () => {
  const m = new WardenMetrics();
  const text = await m.text();
  for (const name of [
    'warden_pass_duration_seconds', 'warden_findings', 'warden_tickets', 'warden_actions_total',
    'warden_time_to_detect_seconds', 'warden_time_to_recover_seconds', 'warden_up', 'warden_last_pass_timestamp_seconds',
    'process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds',
  ]) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  assert.equal(line(text, 'warden_up '), 'warden_up 1');
  assert.equal(line(text, 'warden_findings{kind="missing_service"}'), 'warden_findings{kind="missing_service"} 0');
  assert.equal(line(text, 'warden_tickets{status="escalated"}'), 'warden_tickets{status="escalated"} 0');
  assert.equal(line(text, 'warden_tickets{status="resolved"}'), undefined, 'resolved tickets are not a gauge');
  assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
});

test('the methods the daemon calls move the series', async () => {
  const m = new WardenMetrics({ defaultMetrics: false });
  m.observePass(0.002, T0);
  m.setFindings([
    { kind: 'missing_service', service: 'cache', host: 'local', reason: '' },
    { kind: 'unhealthy_service', service: 'web', host: 'local', reason: '', dependencyDown: 'cache' },
    { kind: 'unhealthy_service', service: 'worker', host: 'local', reason: '', dependencyDown: 'cache' },
  ]);
  m.setTickets([{ status: 'remediating' }, { status: 'escalated' }, { status: 'escalated' }, { status: 'resolved' }]);
  m.actionFinished('restart', 'completed');
  m.actionFinished('restart', 'completed');
  m.actionFinished('start', 'failed');
  m.observeDetect(0.013);
  m.observeDetect(-1); // clock skew: ignored rather than poisoning the histogram
  m.observeRecover(0.805);
  m.actionBlocked('window');
  m.actionBlocked('blast_radius');
  m.actionBlocked('window');
  let text = await m.text();
  assert.equal(line(text, 'warden_actions_blocked_total{by="window"}'), 'warden_actions_blocked_total{by="window"} 2');
  assert.equal(line(text, 'warden_actions_blocked_total{by="blast_radius"}'), 'warden_actions_blocked_total{by="blast_radius"} 1');
  assert.equal(line(text, 'warden_actions_blocked_total{by="freeze"}'), 'warden_actions_blocked_total{by="freeze"} 0', 'every reason from zero');
  assert.equal(line(text, 'warden_last_pass_timestamp_seconds '), `warden_last_pass_timestamp_seconds ${T0 / 1000}`);
  assert.equal(line(text, 'warden_pass_duration_seconds_bucket{le="0.0025"}'), 'warden_pass_duration_seconds_bucket{le="0.0025"} 1');
  assert.equal(line(text, 'warden_findings{kind="unhealthy_service"}'), 'warden_findings{kind="unhealthy_service"} 2');
  assert.equal(line(text, 'warden_tickets{status="escalated"}'), 'warden_tickets{status="escalated"} 2');
  assert.equal(line(text, 'warden_actions_total{type="restart",outcome="completed"}'), 'warden_actions_total{type="restart",outcome="completed"} 2');
  assert.equal(line(text, 'warden_actions_total{type="start",outcome="failed"}'), 'warden_actions_total{type="start",outcome="failed"} 1');
  assert.equal(line(text, 'warden_time_to_detect_seconds_count'), 'warden_time_to_detect_seconds_count 1');
  assert.equal(line(text, 'warden_time_to_detect_seconds_bucket{le="0.025"}'), 'warden_time_to_detect_seconds_bucket{le="0.025"} 1');
  assert.equal(line(text, 'warden_time_to_recover_seconds_bucket{le="1"}'), 'warden_time_to_recover_seconds_bucket{le="1"} 1');
  // Level-based: the next pass's findings replace the last ones; kinds that went away read 0.
  m.setFindings([]);
  m.setTickets([]);
  text = await m.text();
  assert.equal(line(text, 'warden_findings{kind="unhealthy_service"}'), 'warden_findings{kind="unhealthy_service"} 0');
  assert.equal(line(text, 'warden_tickets{status="escalated"}'), 'warden_tickets{status="escalated"} 0');
});

test('two instances do not share series (own registries)', async () => {
  const a = new WardenMetrics({ defaultMetrics: false });
  const b = new WardenMetrics({ defaultMetrics: false });
  a.actionFinished('stop', 'cancelled');
  assert.match(await a.text(), /warden_actions_total\{type="stop",outcome="cancelled"\} 1/);
  assert.doesNotMatch(await b.text(), /type="stop"/);
});

test('faultStartedAt: the exit of a dead process, or the first probe of the current failure run', () => {
  const spec = { checks: [tcpCheck(1, { id: 'a', intervalMs: 500 }), tcpCheck(2, { id: 'b', intervalMs: 100 })] };
  const base: ServiceObservation = {
    name: 'web', host: 'local', checks: [],
    process: { running: false, pid: null, startedAt: null, procState: null, spawnError: null, exits: [{ at: T0, code: 1, signal: null, uptimeMs: 10 }] },
  };
  assert.equal(faultStartedAt(base, spec), T0);
  assert.equal(faultStartedAt({ ...base, process: { ...base.process, exits: [] } }, spec), null);
  const alive = { ...base.process, running: true, pid: 1, exits: [] };
  const failing = (id: string, failures: number, at: number, latencyMs: number): ServiceObservation['checks'][number] => ({
    id, type: 'tcp', healthy: false, consecutiveFailures: failures, consecutiveSuccesses: 0, since: at,
    last: { ok: false, message: 'timed out', latencyMs, timedOut: true, at },
  });
  // a: 3 failures, last ended at T0+2000 after 300 ms: began at 2000-300-2*500 = 700. b: began at 1900-0-100 = 1800.
  assert.equal(faultStartedAt({ ...base, process: alive, checks: [failing('a', 3, T0 + 2000, 300), failing('b', 2, T0 + 1900, 0)] }, spec), T0 + 700);
  assert.equal(faultStartedAt({ ...base, process: alive, checks: [] }, spec), null, 'healthy: no fault');
});

test('per service: health (unknown is absent), restarts and last repair from settled actions', async () => {
  const m = new WardenMetrics({ defaultMetrics: false });
  m.setInventory([{ name: 'web', checks: [] }, { name: 'cache', checks: [] }], ['ops']);
  let text = await m.text();
  assert.equal(line(text, 'warden_service_restarts_total{service="web"}'), 'warden_service_restarts_total{service="web"} 0', 'zero from the start');
  assert.equal(line(text, 'warden_notify_failures_total{channel="ops"}'), 'warden_notify_failures_total{channel="ops"} 0');
  m.setServiceHealth('web', 'local', 'healthy');
  m.setServiceHealth('cache', 'local', 'missing');
  text = await m.text();
  assert.equal(line(text, 'warden_service_healthy{service="web"'), 'warden_service_healthy{service="web",host="local"} 1');
  assert.equal(line(text, 'warden_service_healthy{service="cache"'), 'warden_service_healthy{service="cache",host="local"} 0');
  m.setServiceHealth('web', 'local', 'unhealthy');
  m.setServiceHealth('cache', 'local', 'unknown');
  m.setServiceHealth('cache', 'far', 'healthy');
  m.setServiceHealth('cache', 'far', 'unknown');
  text = await m.text();
  assert.equal(line(text, 'warden_service_healthy{service="web"'), 'warden_service_healthy{service="web",host="local"} 0');
  assert.equal(line(text, 'warden_service_healthy{service="cache"'), undefined, 'unknown health has no series');

  m.actionSettled({ type: 'restart', target: 'web', state: 'completed', ticketId: 'T1' }, T0);
  m.actionSettled({ type: 'restart', target: 'web', state: 'failed', ticketId: 'T1' }, T0 + 1000);
  m.actionSettled({ type: 'restart', target: 'web', state: 'completed', ticketId: null }, T0 + 2000);
  m.actionSettled({ type: 'start', target: 'cache', state: 'completed', ticketId: null }, T0 + 3000);
  text = await m.text();
  assert.equal(line(text, 'warden_service_restarts_total{service="web"}'), 'warden_service_restarts_total{service="web"} 2', 'completed restarts only');
  assert.equal(line(text, 'warden_service_restarts_total{service="cache"}'), 'warden_service_restarts_total{service="cache"} 0', 'a first start is no restart');
  assert.equal(line(text, 'warden_service_last_repair_timestamp_seconds{service="web"}'), `warden_service_last_repair_timestamp_seconds{service="web"} ${T0 / 1000}`, 'a repair is a completed action of a ticket');
  assert.equal(line(text, 'warden_service_last_repair_timestamp_seconds{service="cache"}'), undefined);
  assert.equal(line(text, 'warden_actions_total{type="restart",outcome="failed"}'), 'warden_actions_total{type="restart",outcome="failed"} 1');
});

test('per check: last probe success and latency; removed services and checks lose their series', async () => {
  const m = new WardenMetrics({ defaultMetrics: false });
  m.setInventory([{ name: 'web', checks: [tcpCheck(1, { id: 'port' }), tcpCheck(2, { id: 'http' })] }], []);
  m.checkResult('web', { id: 'port', last: null }); // no probe yet: no series
  assert.equal(line(await m.text(), 'warden_check_success{'), undefined);
  m.checkResult('web', { id: 'port', last: { ok: true, message: '', latencyMs: 12, timedOut: false, at: T0 } });
  m.checkResult('web', { id: 'http', last: { ok: false, message: 'timed out', latencyMs: 500, timedOut: true, at: T0 } });
  m.setServiceHealth('web', 'local', 'healthy');
  m.actionSettled({ type: 'restart', target: 'web', state: 'completed', ticketId: 'T1' }, T0);
  let text = await m.text();
  assert.equal(line(text, 'warden_check_success{service="web",check="port"}'), 'warden_check_success{service="web",check="port"} 1');
  assert.equal(line(text, 'warden_check_success{service="web",check="http"}'), 'warden_check_success{service="web",check="http"} 0');
  assert.equal(line(text, 'warden_check_latency_seconds{service="web",check="port"}'), 'warden_check_latency_seconds{service="web",check="port"} 0.012');
  assert.equal(line(text, 'warden_check_latency_seconds{service="web",check="http"}'), 'warden_check_latency_seconds{service="web",check="http"} 0.5');
  m.setInventory([{ name: 'web', checks: [tcpCheck(1, { id: 'port' })] }, { name: 'db', checks: [] }], []);
  text = await m.text();
  assert.equal(line(text, 'warden_check_success{service="web",check="http"}'), undefined, 'a removed check');
  assert.notEqual(line(text, 'warden_check_success{service="web",check="port"}'), undefined, 'a kept check');
  assert.equal(line(text, 'warden_service_restarts_total{service="db"}'), 'warden_service_restarts_total{service="db"} 0', 'an added service');
  m.setInventory([{ name: 'db', checks: [] }], []);
  text = await m.text();
  for (const name of ['warden_check_success', 'warden_check_latency_seconds', 'warden_service_healthy', 'warden_service_restarts_total', 'warden_service_last_repair_timestamp_seconds']) {
    assert.equal(line(text, `${name}{service="web"`), undefined, `${name} of a removed service`);
  }
});

test('the agent: frozen, build info, reloads, notification failures, tickets opened by cause', async () => {
  const m = new WardenMetrics({ defaultMetrics: false, version: '9.9.9', now: T0 });
  let text = await m.text();
  assert.equal(line(text, 'warden_frozen '), 'warden_frozen 0');
  assert.equal(line(text, 'warden_build_info{'), `warden_build_info{version="9.9.9",node="${process.version}"} 1`);
  assert.equal(line(text, 'warden_config_last_reload_successful '), 'warden_config_last_reload_successful 1');
  assert.equal(line(text, 'warden_tickets_opened_total{cause="crash_loop"}'), 'warden_tickets_opened_total{cause="crash_loop"} 0', 'every cause from zero');
  m.setFrozen(true);
  m.configLoaded(false, T0 + 5000);
  m.notifyFailed('ops');
  m.notifyFailed('ops');
  m.ticketOpened('process_exited');
  text = await m.text();
  assert.equal(line(text, 'warden_frozen '), 'warden_frozen 1');
  assert.equal(line(text, 'warden_config_last_reload_successful '), 'warden_config_last_reload_successful 0');
  assert.equal(line(text, 'warden_config_last_reload_success_timestamp_seconds '), `warden_config_last_reload_success_timestamp_seconds ${T0 / 1000}`, 'a rejected reload keeps the last success');
  assert.equal(line(text, 'warden_notify_failures_total{channel="ops"}'), 'warden_notify_failures_total{channel="ops"} 2');
  assert.equal(line(text, 'warden_tickets_opened_total{cause="process_exited"}'), 'warden_tickets_opened_total{cause="process_exited"} 1');
  m.configLoaded(true, T0 + 9000);
  m.setFrozen(false);
  text = await m.text();
  assert.equal(line(text, 'warden_config_last_reload_successful '), 'warden_config_last_reload_successful 1');
  assert.equal(line(text, 'warden_config_last_reload_success_timestamp_seconds '), `warden_config_last_reload_success_timestamp_seconds ${(T0 + 9000) / 1000}`);
  assert.equal(line(text, 'warden_frozen '), 'warden_frozen 0');
});

test('docs/metrics.md documents every metric Warden defines (not the default process metrics)', async () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'metrics.md'), 'utf8');
  const ours = (await new WardenMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((x) => x.name);
  assert.ok(ours.length >= 19, 'the registry has our metrics');
  for (const name of ours) assert.ok(doc.includes(`| \`${name}\` |`), `${name} is documented in docs/metrics.md`);
});
