import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detect } from '../domain/detect.js';
import { T0, dead, exitAt, makeConfig, running, runbook, worldOf, type ConfigOptions, type ServiceView } from '../testing/domain.js';
import type { Diagnosis, ProcessState } from '../domain/types.js';
import type { PortListeners } from '../lib/sockets.js';
import { lastRun, portsInUse, QUOTE_MAX, readLog } from './logs.js';
import { diagnose } from './rules.js';

type Opts = ConfigOptions & { listeners?: PortListeners[] };

/** Diagnoses the first problem in the world described by `views`, with this log tail. */
function diagnoseWorld(views: Record<string, ProcessState | ServiceView>, logTail: string[], opts: Opts = {}): Diagnosis {
  const config = makeConfig(opts);
  const world = worldOf(config, T0, views);
  const problem = detect(config, world, []).problems[0];
  assert.ok(problem, 'expected a problem');
  return diagnose({ config, world, problem, now: T0, logTail, ...(opts.listeners ? { listeners: opts.listeners } : {}) });
}

const rejectedFor = (d: Diagnosis, c: string): string => d.alternatives.find((a) => a.cause === c)?.rejected ?? '';
const logFacts = (d: Diagnosis): string[] => d.evidence.filter((e) => e.source === 'log').map((e) => e.fact);
const restart = (target: string) => [{ type: 'restart', target, params: {} }];
const loop = () => dead([exitAt(T0 - 1000), exitAt(T0 - 2000), exitAt(T0 - 3000)]);
const ADDRINUSE = 'Error: listen EADDRINUSE: address already in use 127.0.0.1:7411';

void describe('log patterns: port already in use', () => {
  it('a port held by a foreign process is config_drift, escalated naming the holder, not a crash loop', () => {
    const d = diagnoseWorld({ cache: loop() }, ['2025-01-01T00:00:00.000Z [warden] starting: node cache.js', ADDRINUSE, "  code: 'EADDRINUSE',"], {
      listeners: [{ port: 7411, held: true, holders: [{ pid: 9191, command: 'node -e listen' }] }],
    });
    assert.equal(d.rootCause.cause, 'config_drift');
    assert.equal(d.confidence, 0.95);
    assert.deepEqual(logFacts(d), [`port 7411 already in use: "${ADDRINUSE}"`]);
    assert.ok(d.evidence.some((e) => e.source === 'port' && e.fact === 'port 7411 is held by pid 9191 (node -e listen)'));
    assert.deepEqual(d.recommended, [], 'a restart does not free a port held by another process');
    assert.match(d.noRepair ?? '', /^port 7411 is held by pid 9191 \(node -e listen\): a restart cannot free it/);
    assert.match(rejectedFor(d, 'crash_loop'), /consequence of port 7411 already in use/);
    assert.match(rejectedFor(d, 'process_exited'), /the log shows port 7411 already in use/);
  });

  it('a holder that is another service of the inventory is named as that service', () => {
    const d = diagnoseWorld({ cache: dead(), web: { process: running({ pid: 77 }), checks: 'healthy' } }, [ADDRINUSE], {
      listeners: [{ port: 7411, held: true, holders: [{ pid: 77, command: 'node web.js' }] }],
    });
    assert.ok(d.evidence.some((e) => e.fact === 'port 7411 is held by pid 77 (node web.js) of service web'));
  });

  it('a holder that cannot be read still escalates; an unknown holder too', () => {
    const unreadable = diagnoseWorld({ cache: dead() }, [ADDRINUSE], { listeners: [{ port: 7411, held: true, holders: [] }] });
    assert.equal(unreadable.rootCause.cause, 'config_drift');
    assert.equal(unreadable.confidence, 0.9);
    assert.ok(unreadable.evidence.some((e) => e.fact === 'port 7411 is held by a process whose descriptors cannot be read'));
    const unknown = diagnoseWorld({ cache: dead() }, ['bind() to 0.0.0.0:80 failed (98: Address already in use)']);
    assert.equal(unknown.rootCause.cause, 'config_drift');
    assert.deepEqual(unknown.recommended, []);
    assert.deepEqual(logFacts(unknown), ['port 80 already in use: "bind() to 0.0.0.0:80 failed (98: Address already in use)"']);
  });

  it('a port free again by now was a race: the exit stands, a restart can take the port', () => {
    const d = diagnoseWorld({ cache: dead() }, [ADDRINUSE], { listeners: [{ port: 7411, held: false, holders: [] }] });
    assert.equal(d.rootCause.cause, 'process_exited');
    assert.deepEqual(d.recommended, restart('cache'));
    assert.ok(d.evidence.some((e) => e.source === 'port' && e.fact === 'port 7411 is free now'));
    assert.match(rejectedFor(d, 'config_drift'), /port 7411 was in use when cache started but is free now/);
  });

  it('lines of an earlier run do not explain this exit', () => {
    const d = diagnoseWorld({ cache: dead() }, [ADDRINUSE, '[warden 2025-01-01T00:00:00.000Z] starting: node cache.js', 'ready']);
    assert.equal(d.rootCause.cause, 'process_exited');
    assert.deepEqual(logFacts(d), []);
  });
});

void describe('log patterns: connection refused', () => {
  it('refused by a dependency\'s address: the dependency is the root cause; the dependent reconnects once it answers', () => {
    const config = makeConfig();
    const cacheAddr = String(config.services.find((s) => s.name === 'cache')!.checks[0]!.probe.address);
    const line = `Error: connect ECONNREFUSED ${cacheAddr}`;
    const d = diagnoseWorld({ cache: { process: running(), checks: 'healthy' }, web: dead() }, [line]);
    assert.deepEqual(d.rootCause, { service: 'cache', host: 'local', cause: 'dependency_down' });
    assert.deepEqual(logFacts(d), [`connection refused by ${cacheAddr}, the address of dependency cache: "${line}"`]);
    assert.ok(d.evidence.some((e) => e.source === 'dependsOn' && e.fact === 'cache answers its checks now'));
    assert.deepEqual(d.recommended, restart('web'));
    assert.match(rejectedFor(d, 'process_exited'), /connection refused by dependency cache/);
  });

  it('refused by an address no dependency has: quoted, but it decides nothing', () => {
    const d = diagnoseWorld({ cache: { process: running(), checks: 'healthy' }, web: dead() }, ['connect ECONNREFUSED 10.9.9.9:5432']);
    assert.deepEqual(d.rootCause, { service: 'web', host: 'local', cause: 'process_exited' });
    assert.deepEqual(logFacts(d), ['connection refused by 10.9.9.9:5432, no dependency\'s address: "connect ECONNREFUSED 10.9.9.9:5432"']);
    assert.match(rejectedFor(d, 'dependency_down'), /10\.9\.9\.9:5432 is not one of web's dependencies' checks/);
  });
});

void describe('log patterns: what a person must fix', () => {
  const cases: [string, string, RegExp][] = [
    ["Error: Cannot find module 'express'", 'module not found: express', /module not found: express: a restart meets the same/],
    ["ModuleNotFoundError: No module named 'redis'", 'module not found: redis', /a person must fix/],
    ["Error: EACCES: permission denied, open '/etc/app/secret.key'", 'permission denied: /etc/app/secret.key', /a restart meets the same/],
    ["Error: ENOENT: no such file or directory, open '/srv/app/config.yaml'", 'file not found: /srv/app/config.yaml', /a restart meets the same/],
  ];
  for (const [line, what, why] of cases) {
    it(`"${line.slice(0, 40)}…" is config_drift with no automatic repair`, () => {
      const d = diagnoseWorld({ cache: loop() }, [line]);
      assert.equal(d.rootCause.cause, 'config_drift');
      assert.deepEqual(logFacts(d), [`${what}: "${line}"`]);
      assert.deepEqual(d.recommended, []);
      assert.match(d.noRepair ?? '', why);
      assert.match(rejectedFor(d, 'crash_loop'), new RegExp(`consequence of ${what}`));
      assert.match(rejectedFor(d, 'resource_exhausted'), /no ENOSPC/);
    });
  }

  it('a runbook declared for config_drift is the repair, then a restart', () => {
    const d = diagnoseWorld({ cache: dead() }, ["Error: Cannot find module 'x'"], { override: { cache: { runbooks: [runbook('reinstall', ['config_drift'])] } } });
    assert.deepEqual(d.recommended, [{ type: 'run-runbook', target: 'cache', params: { runbook: 'reinstall' } }, ...restart('cache')]);
  });

  it('on a live process such lines are events, not its failure', () => {
    const d = diagnoseWorld({ cache: { process: running(), checks: 'timedOut' } }, ["ENOENT: no such file or directory, stat '/favicon.ico'"]);
    assert.equal(d.rootCause.cause, 'process_hung');
    assert.deepEqual(logFacts(d), []);
  });
});

void describe('log patterns: the table', () => {
  it('the newest signal comes first; within a signal the line naming a detail is quoted', () => {
    const m = readLog(['ENOSPC', ADDRINUSE, "  code: 'EADDRINUSE',", 'port: 7411']);
    assert.deepEqual(m.map((x) => x.signal), ['port_in_use', 'disk_full']);
    assert.equal(m[0]!.line, ADDRINUSE);
    assert.deepEqual(m[0]!.details, { port: 7411 });
  });

  it('quotes are bounded and details come only from fixed groups', () => {
    const [m] = readLog([`${'x'.repeat(500)} EADDRINUSE [::]:8443 $(rm -rf /)`]);
    assert.equal(m!.line.length, QUOTE_MAX);
    assert.deepEqual(m!.details, { port: 8443 });
  });

  it('a timestamp is not a port', () => {
    assert.deepEqual(readLog(['12:34:56 OSError: [Errno 98] Address already in use'])[0]!.details, {});
  });

  it('lastRun keeps the lines after Warden\'s last start marker; portsInUse reads only those', () => {
    const tail = [ADDRINUSE, '[warden 2025-01-01T00:00:01.000Z] starting: node web.js', 'listen EADDRINUSE: address already in use :::9001'];
    assert.deepEqual(lastRun(tail), [tail[2]]);
    assert.deepEqual(portsInUse(tail), [9001]);
    assert.deepEqual(lastRun(['a', 'b']), ['a', 'b']);
  });
});

void describe('log patterns: a dependency reached at the wrong address, or refusing the credentials', () => {
  const cacheAddr = (): string => String(makeConfig().services.find((s) => s.name === 'cache')!.checks[0]!.probe.address);
  const failingWeb = { cache: { process: running(), checks: 'healthy' as const }, web: { process: running(), checks: 'failing' as const } };

  it('refused on loopback where no dependency listens, while its dependencies answer: web is misconfigured (config_drift), no restart', () => {
    const line = 'web: cache 127.0.0.1:1: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1';
    const d = diagnoseWorld(failingWeb, [line]);
    assert.deepEqual(d.rootCause, { service: 'web', host: 'local', cause: 'config_drift' });
    assert.deepEqual(d.recommended, []);
    assert.match(d.noRepair ?? '', /web connects to 127\.0\.0\.1:1, which is refused, while its dependencies \(cache\) answer .*wrong address/);
    assert.ok(d.evidence.some((e) => e.source === 'dependsOn' && e.fact === 'cache answers at its own address now'));
    assert.match(rejectedFor(d, 'process_hung'), /where none of its dependencies listens/);
  });
  it('the same line while the dependency is down decides nothing: the dependency comes first', () => {
    const d = diagnoseWorld({ cache: { process: running(), checks: 'failing' }, web: { process: running(), checks: 'failing' } }, ['connect ECONNREFUSED 127.0.0.1:1']);
    assert.equal(d.rootCause.service, 'cache');
  });
  it('credentials refused at a dependency\'s address: the dependency changed them (config_drift), a person must act', () => {
    const line = `web: cache ${cacheAddr()}: WRONGPASS invalid username-password pair or user is disabled.`;
    const d = diagnoseWorld(failingWeb, [line]);
    assert.deepEqual(d.rootCause, { service: 'cache', host: 'local', cause: 'config_drift' });
    assert.deepEqual(logFacts(d), [`credentials refused by ${cacheAddr()}, the address of dependency cache: "${line}"`]);
    assert.deepEqual(d.recommended, []);
    assert.match(d.noRepair ?? '', /^cache refuses web's credentials: they were changed or revoked/);
  });
  it('credentials refused by no known address: the service\'s own configuration', () => {
    const d = diagnoseWorld(failingWeb, ['NOAUTH Authentication required.']);
    assert.deepEqual(d.rootCause, { service: 'web', host: 'local', cause: 'config_drift' });
    assert.deepEqual(d.recommended, []);
  });
});
