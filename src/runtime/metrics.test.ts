import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tcpCheck, T0 } from '../testing/domain.js';
import type { ServiceObservation } from '../domain/types.js';
import { faultStartedAt, WardenMetrics } from './metrics.js';

const line = (text: string, prefix: string): string | undefined => text.split('\n').find((l) => l.startsWith(prefix));

test('the exposition has every metric, zeros included, and the prefixed process metrics', async () => {
  const m = new WardenMetrics();
  const text = await m.text();
  for (const name of [
    'warden_pass_duration_seconds', 'warden_findings', 'warden_tickets', 'warden_actions_total',
    'warden_time_to_detect_seconds', 'warden_time_to_recover_seconds', 'warden_up', 'warden_last_pass_timestamp_seconds',
    'warden_process_resident_memory_bytes', 'warden_process_cpu_seconds_total',
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
  let text = await m.text();
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
