import assert from 'node:assert/strict';
import { test } from 'node:test';
import { T0 } from '../testing/domain.js';
import type { ProcessState } from '../domain/types.js';
import { apiStatus, diagnosticsBundle, loopProgressing, renderDiagnostics } from './diagnostics.js';
import { liveCheck, makeFixture, ticket } from './testing.js';

const running: ProcessState = {
  running: true, pid: 4242, startedAt: T0 + 1050, procState: 'S', spawnError: null,
  exits: [{ at: T0 + 990, code: null, signal: 'SIGKILL', uptimeMs: 940 }],
};

test('the bundle from a real store: state, checks with their last result, last exit, restarts, log, tickets, actions', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const spec = fx.config.services.find((s) => s.name === 'web')!;
  const b = diagnosticsBundle({
    config: fx.config, spec, store: fx.store, process: running, checks: [liveCheck()],
    logTail: ['listening on 8080'], logSource: '/data/logs/web.log', health: null, now: T0 + 6000,
  });
  assert.deepEqual(b, {
    service: 'web', host: 'local', kind: 'process', unit: null, generatedAt: '2025-01-01T00:00:06.000Z',
    health: 'healthy', since: '2025-01-01T00:00:01.100Z', detail: 'all checks pass', paused: null,
    process: { running: true, pid: 4242, startedAt: '2025-01-01T00:00:01.050Z', state: 'S', spawnError: null, failing: null, facts: {} },
    checks: [{
      id: 'tcp#0', type: 'tcp', target: spec.checks[0]!.probe.type === 'tcp' ? spec.checks[0]!.probe.address : '', intervalMs: 500, timeoutMs: 300,
      healthy: true, since: '2025-01-01T00:00:01.100Z', consecutiveFailures: 0, consecutiveSuccesses: 7,
      last: { ok: true, message: 'connected in 0 ms', latencyMs: 0.4, timedOut: false, at: '2025-01-01T00:00:05.000Z' },
    }],
    lastExit: { at: '2025-01-01T00:00:00.990Z', code: null, signal: 'SIGKILL', uptimeMs: 940 },
    // The deploy start (no ticket) is not a restart; the completed repair is.
    restarts: 1,
    exits: [{ at: '2025-01-01T00:00:00.990Z', code: null, signal: 'SIGKILL', uptimeMs: 940 }],
    logSource: '/data/logs/web.log',
    log: ['listening on 8080'],
    tickets: [{
      id: 'T1', service: 'web', status: 'resolved', state: 'resolved', cause: 'process_exited', rootCause: { service: 'web', host: 'local', cause: 'process_exited' },
      occurrences: 1, openedAt: '2025-01-01T00:00:01.000Z', resolvedAt: '2025-01-01T00:00:02.000Z', reason: null,
      findings: [{ kind: 'missing_service', service: 'web', reason: 'web is not running (exited with signal SIGKILL)' }],
    }],
    actions: [
      { id: 'A2', ticketId: 'T1', type: 'restart', target: 'web', service: 'web', state: 'completed', attempts: 1, requestedBy: 'otto', createdAt: '2025-01-01T00:00:01.002Z', finishedAt: '2025-01-01T00:00:01.100Z', error: null },
      { id: 'A1', ticketId: null, type: 'start', target: 'web', service: 'web', state: 'completed', attempts: 1, requestedBy: 'otto', createdAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:00.050Z', error: null },
    ],
    evidence: [
      { id: 'process:web', kind: 'process', text: 'web: pid 4242 running, state S' },
      { id: `exit:web:${T0 + 990}`, kind: 'history', text: 'web exited at 2025-01-01T00:00:00.990Z by signal SIGKILL after 940 ms' },
      { id: 'check:web:tcp#0', kind: 'probe', text: 'web tcp check tcp#0: passing: connected in 0 ms' },
      { id: 'graph:web', kind: 'graph', text: 'web on host local (process) depends on cache' },
      { id: 'log:web:0', kind: 'log', text: 'listening on 8080', untrusted: true },
      { id: 'action:A2', kind: 'action', text: 'restart web: completed at 2025-01-01T00:00:01.002Z' },
      { id: 'action:A1', kind: 'action', text: 'start web: completed at 2025-01-01T00:00:00.000Z' },
    ],
  });
  // Plain JSON: survives a round trip unchanged (what the API sends is what the CLI prints).
  assert.deepEqual(JSON.parse(JSON.stringify(b)), b);
});

test('without the daemon: checks are null, health comes from the store, a dependent ticket shows up', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  fx.store.putTicket(ticket({
    id: 'T2', fingerprint: 'local/cache', service: 'cache', status: 'remediating', resolvedAt: null, actionIds: [],
    findings: [
      { kind: 'missing_service', service: 'cache', host: 'local', reason: 'cache is not running' },
      { kind: 'unhealthy_service', service: 'web', host: 'local', reason: 'tcp#0 failing', dependencyDown: 'cache' },
    ],
    openedAt: T0 + 3000, rootCause: { service: 'cache', host: 'local', cause: 'process_exited' },
  }));
  const spec = fx.config.services.find((s) => s.name === 'web')!;
  const b = diagnosticsBundle({ config: fx.config, spec, store: fx.store, process: null, checks: null, logTail: [], health: null, now: T0 });
  assert.equal(b.checks, null);
  assert.equal(b.process, null);
  assert.equal(b.lastExit, null);
  assert.equal(b.health, 'healthy');
  assert.deepEqual(b.tickets.map((x) => x.id), ['T2', 'T1'], 'newest first, including the one where web is only a symptom');
  assert.equal(b.tickets[0]!.findings[1]!.dependencyDown, 'cache');
  const text = renderDiagnostics(b);
  assert.match(text, /checks {4}not shown/);
  assert.match(text, /T2 remediating process_exited \(root cause cache\)/);
  assert.match(text, /web: unhealthy_service \(dependency_down: cache\)/);
});

test('the human form shows each check with its last result', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const spec = fx.config.services.find((s) => s.name === 'web')!;
  const failing = liveCheck({ healthy: false, consecutiveFailures: 3, consecutiveSuccesses: 0, last: { ok: false, message: 'timed out after 300 ms', latencyMs: 300, timedOut: true, at: T0 + 9000 } });
  const text = renderDiagnostics(diagnosticsBundle({ config: fx.config, spec, store: fx.store, process: running, checks: [failing], logTail: ['a', 'b'], health: { health: 'unhealthy', reason: 'tcp#0 failing', since: T0 + 9000 }, now: T0 + 9001 }));
  assert.match(text, /^local\/web \(process\): unhealthy — tcp#0 failing/);
  assert.match(text, /tcp#0 +tcp 127\.0\.0\.1:\d+: UNHEALTHY, 3 failures \/ 0 successes in a row; last FAIL \(timed out\): timed out after 300 ms \(300 ms, at 2025-01-01T00:00:09\.000Z\)/);
  assert.match(text, /last exit signal SIGKILL at 2025-01-01T00:00:00\.990Z after 940 ms {3}restarts by Warden: 1/);
  assert.match(text, /last 2 lines, cited as log:web:0 to log:web:1\):\n {2}a\n {2}b\n$/);
});

test('status: the DESIGN.md shape plus daemon; live values override the flag', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  fx.store.setFlag('frozen', 'by test');
  fx.store.setFlag('daemon', JSON.stringify({ pid: 999_999_999, lastPassAt: T0, summary: 'degraded', mode: 'execute' }));
  const fromStore = apiStatus({ config: fx.config, store: fx.store, now: T0 + 100 });
  assert.deepEqual(fromStore, {
    summary: 'degraded',
    services: [
      { name: 'cache', service: 'cache', host: 'local', health: 'healthy', since: '2025-01-01T00:00:00.050Z', detail: 'all checks pass', paused: null,
        pid: null, startedAt: null, uptimeMs: null, restarts: 0, lastCheckAt: null, nextCheckAt: null, ticket: null },
      { name: 'web', service: 'web', host: 'local', health: 'healthy', since: '2025-01-01T00:00:01.100Z', detail: 'all checks pass', paused: null,
        pid: null, startedAt: null, uptimeMs: null, restarts: 1, lastCheckAt: null, nextCheckAt: null, ticket: null },
    ],
    subjects: [], openTickets: 0, frozen: true, mode: 'execute',
    // The flag's pid is not alive: not running, whatever the flag says.
    daemon: { running: false, pid: 999_999_999, lastPassAt: '2025-01-01T00:00:00.000Z' },
  });
  const live = apiStatus({ config: fx.config, store: fx.store, now: T0 + 100, live: { pid: process.pid, lastPassAt: T0 + 90, summary: 'nominal' } });
  assert.equal(live.summary, 'nominal');
  assert.deepEqual(live.daemon, { running: true, pid: process.pid, lastPassAt: '2025-01-01T00:00:00.090Z' });
  assert.deepEqual(Object.keys(live), Object.keys(fromStore));
  const fresh = apiStatus({ config: fx.config, store: null, now: T0 });
  assert.deepEqual(fresh.services.map((s) => s.health), ['unknown', 'unknown']);
  assert.equal(fresh.daemon.running, false);
});

test('the loop progresses while passes come within the budget', () => {
  assert.equal(loopProgressing(T0, T0 + 4999, 1000), true);
  assert.equal(loopProgressing(T0, T0 + 5000, 1000), false);
  assert.equal(loopProgressing(T0, T0 + 9000, 2000), true, 'five intervals when that is longer');
  assert.equal(loopProgressing(0, T0, 1000), false, 'no pass yet');
  assert.equal(loopProgressing(null, T0, 1000), false);
});

test("a check's measured value is in the bundle, as the probe gave it", (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const spec = fx.config.services.find((s) => s.name === 'web')!;
  const value = { 'lab_queue_depth{queue="jobs"}': 50 };
  const firing = liveCheck({ healthy: false, last: { ok: false, message: 'firing', latencyMs: 2, timedOut: false, at: T0 + 9000, value } });
  const b = diagnosticsBundle({ config: fx.config, spec, store: fx.store, process: running, checks: [firing], logTail: [], health: null, now: T0 + 9001 });
  assert.deepEqual(b.checks?.[0]?.last?.value, value);
  const plain = diagnosticsBundle({ config: fx.config, spec, store: fx.store, process: running, checks: [liveCheck()], logTail: [], health: null, now: T0 + 9001 });
  assert.equal(plain.checks?.[0]?.last !== null && 'value' in (plain.checks?.[0]?.last ?? {}), false, 'no value key when the probe measured none');
});

test('the bundle lists the evidence pieces by the ids a diagnosis of the service cites them by', async (t) => {
  const { evidencePieces } = await import('../diagnosis/pieces.js');
  const { recentAction } = await import('../diagnosis/gather.js');
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const finding = { kind: 'unhealthy_service' as const, service: 'web', host: 'local', reason: 'check tcp#0 failing: timed out after 300 ms', dependencyDown: 'cache' };
  fx.store.putTicket(ticket({
    id: 'T2', fingerprint: 'local/cache', service: 'cache', status: 'escalated', resolvedAt: null, actionIds: [], openedAt: T0 + 3000,
    findings: [{ kind: 'unhealthy_service', service: 'cache', host: 'local', reason: 'check tcp#0 failing' }, finding],
  }));
  const spec = fx.config.services.find((s) => s.name === 'web')!;
  const failing = liveCheck({ healthy: false, consecutiveFailures: 2, last: { ok: false, message: 'timed out after 300 ms', latencyMs: 300, timedOut: true, at: T0 + 9000 } });
  const logTail = ['web listening on 8080', 'web: cache 127.0.0.1:6390: no reply within 200 ms'];
  const b = diagnosticsBundle({ config: fx.config, spec, store: fx.store, process: running, checks: [failing], logTail, health: null, now: T0 + 9001 });

  assert.deepEqual(b.evidence.map((p) => p.id), [
    'finding:web:unhealthy_service', 'process:web', `exit:web:${T0 + 990}`, 'check:web:tcp#0', 'graph:web', 'log:web:0', 'log:web:1', 'action:A2', 'action:A1',
  ]);
  assert.deepEqual(b.evidence.find((p) => p.id === 'log:web:1'), { id: 'log:web:1', kind: 'log', text: logTail[1], untrusted: true });

  // What a diagnosis of the cache's ticket reads (web is its symptom): each of its pieces about web is
  // in web's bundle under the same id, with the same text.
  const world = { at: T0 + 9001, services: { web: { name: 'web', host: 'local', process: running, checks: [failing] } } };
  const problem = { fingerprint: 'local/web', service: 'web', host: 'local', findings: [finding] };
  const cited = evidencePieces({
    config: fx.config, world, problem, logTail,
    actions: fx.store.listActions({ limit: 200 }).filter((a) => a.target === 'web').map(recentAction),
  }).filter((p) => p.id !== 'graph:cache');
  for (const p of cited) assert.deepEqual(b.evidence.find((x) => x.id === p.id), p, `${p.id} is in web's bundle as the diagnosis has it`);

  const text = renderDiagnostics(b);
  assert.match(text, /\nevidence \(the ids a diagnosis cites\)\n {2}finding:web:unhealthy_service {2}check tcp#0 failing: timed out after 300 ms\n/);
  assert.match(text, /\n {2}check:web:tcp#0 {2}web tcp check tcp#0: failing \(2 in a row\): timed out after 300 ms\n/);
  assert.match(text, /log \(source unknown, last 2 lines, cited as log:web:0 to log:web:1\):/);
});
