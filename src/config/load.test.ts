import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from './load.js';
import { configErrors } from '../testing/config.js';
import { actions } from '../actions/index.js';

/** Each catalog action's tier, as compiled into policy.actionTiers. */
const ACTION_TIERS = Object.fromEntries(Object.values(actions).map((a) => [a.name, a.tier]));

const FILE = '/srv/warden/warden.yaml';


/** Inline YAML written flush left: `y` strips the indentation of its first line from all lines. */
function y(s: string): string {
  const lines = s.replace(/^\n/, '').split('\n');
  const indent = /^ */.exec(lines[0] ?? '')?.[0].length ?? 0;
  return lines.map((l) => l.slice(indent)).join('\n');
}

const HEAD = 'version: 1\nagent: { name: otto }\n';

test('a minimal config compiles with every default filled in', () => {
  const cfg = parseConfig(
    y(`
      version: 1
      agent:
        name: otto
      services:
        - name: api
          start: [node, api.js]
          checks:
            - http: { url: "http://127.0.0.1:8080/healthz" }
    `),
    FILE,
  );
  assert.deepEqual(cfg, {
    file: FILE,
    agent: {
      name: 'otto', mode: 'recommend', dataDir: '/srv/warden/.warden', intervalMs: 1000, resyncMs: 10_000,
      verifyStableMs: 500, verifyDeadlineMs: 30_000, crashLoopWindowMs: 60_000, crashLoopExits: 3,
      reopenWindowMs: 600_000, flapThreshold: 3, api: null, lab: false, prometheus: 'http://127.0.0.1:9090',
    },
    hosts: [{ name: 'local', transport: 'local' }],
    services: [{
      name: 'api', host: 'local', kind: 'process', start: ['node', 'api.js'], unit: null, cwd: '/srv/warden', env: {},
      stopSignal: 'SIGTERM', stopGraceMs: 5000, dependsOn: [],
      checks: [{
        id: 'http#0', probe: { type: 'http', url: 'http://127.0.0.1:8080/healthz', expectStatus: 200 },
        intervalMs: 1000, timeoutMs: 500, failures: 2, successes: 1,
      }],
      runbooks: [], logMaxBytes: 1024 * 1024, logKeep: 3,
      restartBackoff: { initialMs: 1000, maxMs: 60_000, resetAfterMs: 300_000 }, startPeriodMs: 0,
    }],
    policy: {
      rules: [{ match: { service: '*', host: '*' }, allow: ['start', 'restart'], approval: 'none' }],
      limits: [{ action: '*', per: 'service', max: 3, windowMs: 600_000 }],
      approvalTtlMs: 3_600_000,
      tiers: [], actionTiers: ACTION_TIERS, cooldownMs: 0, windows: [],
    },
    people: [],
    notify: [],
    subjects: [],
    alerts: { labels: ['service', 'job', 'instance'], expireAfterMs: 5 * 3_600_000 },
    diagnosis: { diagnosers: ['rules'], require: 'rules', redact: [], llm: {} },
    heartbeat: null,
    peers: [],
  });
});

test('subjects: one type each, known members, a name of their own; compiled with their params', () => {
  const svc = (n: string): string => `  - { name: ${n}, start: [redis-server] }\n`;
  const cfg = parseConfig(HEAD + 'services:\n' + svc('r1') + svc('r2') + svc('r3') + 'subjects:\n  - { name: rs, members: [r1, r2, r3], group: { minHealthy: 2 } }\n', '/srv/warden/warden.yaml');
  assert.deepEqual(cfg.subjects, [{ name: 'rs', type: 'group', host: 'local', members: ['r1', 'r2', 'r3'], params: { minHealthy: 2 }, intervalMs: 1000 }]);
  assert.deepEqual(configErrors(HEAD + 'services:\n' + svc('r1') + y(`
    subjects:
      - { name: r1, members: [r1, r9] }
      - { name: g, members: [r1], group: {}, other: 1 }
  `)), [
    '6:5: subjects[0]: a subject needs exactly one of group, etcd or ratelimiter; found none',
    '6:13: subjects[0].name: subject name "r1" is also a service\'s; a subject needs a name of its own',
    '6:31: subjects[0].members[1]: unknown service "r9" (did you mean "r1"?); services are: r1',
    '7:42: subjects[1].other: unknown key; expected one of name, members, interval, promql, group, etcd, ratelimiter',
  ]);
});

test('subjects: PromQL invariants compile, ids unique and not the type\'s own, causes from the taxonomy', () => {
  const svc = (n: string): string => `  - { name: ${n}, start: [redis-server] }\n`;
  const head = 'version: 1\nagent: { name: otto, lab: true, prometheus: "http://10.0.0.9:9090" }\nservices:\n' + svc('r1');
  const cfg = parseConfig(head + y(`
    subjects:
      - name: rs
        members: [r1]
        group: {}
        promql:
          - { id: backlog, expr: "queue_depth > 10", for: 2s, cause: performance_degraded, description: the queue drains }
          - { id: errors, expr: "rate(errors_total[1m]) > 1" }
  `), FILE);
  assert.equal(cfg.agent.lab, true);
  assert.equal(cfg.agent.prometheus, 'http://10.0.0.9:9090');
  assert.deepEqual(cfg.subjects[0]?.promql, [
    { id: 'backlog', expr: 'queue_depth > 10', forMs: 2000, cause: 'performance_degraded', description: 'the queue drains' },
    { id: 'errors', expr: 'rate(errors_total[1m]) > 1', forMs: 0, cause: 'unknown', description: 'rate(errors_total[1m]) > 1' },
  ]);
  assert.deepEqual(configErrors(HEAD + 'services:\n' + svc('r1') + y(`
    subjects:
      - name: rs
        members: [r1]
        group: {}
        promql:
          - { id: quorum, expr: "up == 0" }
          - { id: a, expr: "up == 0" }
          - { id: a, expr: "up == 0", cause: broken }
  `)), [
    '10:15: subjects[0].promql[0].id: invariant id "quorum" is one of the group subject\'s own (quorum); give the PromQL invariant an id of its own',
    '12:15: subjects[0].promql[2].id: duplicate invariant id "a" in subject "rs"; the first is at line 11',
    '12:42: subjects[0].promql[2].cause: expected one of process_exited | crash_loop | process_hung | dependency_down | config_drift | resource_exhausted | node_offline | network_partition | leader_lost | quorum_lost | performance_degraded | data_inconsistency | unknown, got "broken"',
  ]);
});

test('paths, env, check ids, runbooks and policy compile as documented', () => {
  const cfg = parseConfig(
    y(`
      version: 1
      agent: { name: otto, mode: execute, dataDir: /var/lib/warden, interval: 1m30s }
      hosts: [{ name: local }]
      services:
        - name: cache
          start: [redis-server, --port, "6390"]
          cwd: ../lab
          env: { PORT: 6390, DEBUG: true, NAME: cache }
          stopSignal: SIGINT
          stopGrace: 250ms
          log: { maxSize: 512KB, keep: 0 }
          checks:
            - tcp: { address: "127.0.0.1:6390" }
            - name: ping
              exec: { argv: [redis-cli, ping] }
              interval: 2s
              timeout: 2s
              failures: 1
              successes: 3
            - exec: { argv: [/bin/true], cwd: /tmp }
          runbooks:
            - name: flush
              run: [redis-cli, flushall]
              env: { DEBUG: "no" }
              for: [resource_exhausted, data_inconsistency]
            - { name: other, run: [x], cwd: scripts, timeout: 5s }
        - name: api
          start: [node, api.js]
          dependsOn: [cache, cache]
      policy:
        rules:
          - { match: { service: "api*" }, allow: [restart, run-runbook, restart], approval: required }
    `),
    FILE,
  );
  assert.equal(cfg.agent.mode, 'execute');
  assert.equal(cfg.agent.dataDir, '/var/lib/warden');
  assert.equal(cfg.agent.intervalMs, 90_000);
  const [cache, api] = cfg.services;
  assert.ok(cache && api);
  assert.equal(cache.cwd, '/srv/lab');
  assert.deepEqual(cache.env, { PORT: '6390', DEBUG: 'true', NAME: 'cache' });
  assert.equal(cache.stopSignal, 'SIGINT');
  assert.equal(cache.stopGraceMs, 250);
  assert.equal(cache.logMaxBytes, 512_000);
  assert.equal(cache.logKeep, 0);
  assert.deepEqual(cache.checks.map((c) => c.id), ['tcp#0', 'ping', 'exec#2']);
  assert.deepEqual(cache.checks[1], {
    id: 'ping', probe: { type: 'exec', argv: ['redis-cli', 'ping'], cwd: '/srv/lab' },
    intervalMs: 2000, timeoutMs: 2000, failures: 1, successes: 3,
  });
  assert.deepEqual(cache.checks[2]?.probe, { type: 'exec', argv: ['/bin/true'], cwd: '/tmp' });
  // Runbooks run where their service runs, with its env overlaid by their own.
  assert.deepEqual(cache.runbooks, [
    { name: 'flush', argv: ['redis-cli', 'flushall'], cwd: '/srv/lab', env: { PORT: '6390', DEBUG: 'no', NAME: 'cache' }, timeoutMs: 60_000, for: ['resource_exhausted', 'data_inconsistency'] },
    { name: 'other', argv: ['x'], cwd: '/srv/warden/scripts', env: { PORT: '6390', DEBUG: 'true', NAME: 'cache' }, timeoutMs: 5000, for: [] },
  ]);
  assert.equal(api.cwd, '/srv/warden');
  assert.deepEqual(api.dependsOn, ['cache']);
  // Rules given without limits keep the default limit: automation stays bounded.
  assert.deepEqual(cfg.policy, {
    rules: [{ match: { service: 'api*', host: '*' }, allow: ['restart', 'run-runbook'], approval: 'required' }],
    limits: [{ action: '*', per: 'service', max: 3, windowMs: 600_000 }],
    approvalTtlMs: 3_600_000,
    tiers: [], actionTiers: ACTION_TIERS, cooldownMs: 0, windows: [],
  });
});

test('anchors and merge keys share settings between services', () => {
  const cfg = parseConfig(
    y(`
      version: 1
      agent: { name: otto }
      services:
        - &base { name: a, start: [run, a], env: { X: "1" }, stopGrace: 1s }
        - { <<: *base, name: b, start: [run, b] }
    `),
    FILE,
  );
  assert.deepEqual(cfg.services.map((s) => [s.name, s.start, s.env, s.stopGraceMs]), [
    ['a', ['run', 'a'], { X: '1' }, 1000],
    ['b', ['run', 'b'], { X: '1' }, 1000],
  ]);
});

test('a wrong enum value points at the value and lists the choices', () => {
  assert.deepEqual(configErrors(y(`
    version: 1
    agent:
      name: otto
      mode: exec
  `)), ['4:9: agent.mode: expected one of observe | recommend | execute, got "exec"']);
});

test('an unknown key points at the key itself, with a suggestion', () => {
  assert.deepEqual(configErrors(HEAD + y(`
    services:
      - name: api
        start: [node]
        dependOn: [cache]
  `)), [
    '6:5: services[0].dependOn: unknown key (did you mean "dependsOn"?); expected one of name, host, kind, start, unit, container, pod, cwd, env, stopSignal, stopGrace, dependsOn, log, checks, runbooks, reverts, startPeriod, restartBackoff, labels, onRemove',
  ]);
});

test('a missing key points at the map it belongs in', () => {
  assert.deepEqual(configErrors(HEAD + y(`
    services:
      - name: api
        cwd: ./lab
  `)), [
    '4:5: services[0]: kind process needs start: the command that runs it, e.g. start: [node, api.js]',
  ]);
  assert.deepEqual(configErrors('version: 1\n'), ['1:1: missing required key "agent" (who this agent is and how it runs, e.g. { name: otto })']);
  assert.deepEqual(configErrors('agent: { name: otto }\n'), ['1:1: missing required key "version"']);
});

test('durations need a unit', () => {
  assert.deepEqual(configErrors(y(`
    version: 1
    agent:
      name: otto
      interval: 500
      reopenWindow: 5 min
      verify: { deadline: 0s }
  `)), [
    '4:13: agent.interval: expected a duration with a unit, e.g. 500ms; got the bare number 500',
    '5:17: agent.reopenWindow: expected a duration with a unit (ms, s, m, h, d), e.g. 500ms or 1m30s; got "5 min"',
    '6:23: agent.verify.deadline: must be longer than 0ms; got "0s"',
  ]);
});

test('every duration is at most 7d: longer ones are config errors, not timers that fire at once', () => {
  assert.deepEqual(configErrors(y(`
    version: 1
    agent:
      name: otto
      reopenWindow: 7d
      verify: { deadline: 720h }
      crashLoop: { exits: 3, window: 7d1ms }
  `)), [
    '5:23: agent.verify.deadline: must be at most 7d; got "720h"',
    '6:34: agent.crashLoop.window: must be at most 7d; got "7d1ms"',
  ]);
});

test('start must be an argv list, never a shell string', () => {
  assert.deepEqual(configErrors(HEAD + y(`
    services:
      - name: api
        start: node api.js --port 8080
      - name: web
        start: [node, web.js, --port, 8080]
      - name: sh
        start: node api.js | tee log
  `)), [
    '5:12: services[0].start: expected an argv list, e.g. [node, api.js, --port, 8080], not a shell string; got "node api.js --port 8080"',
    '7:35: services[1].start[3]: expected a string, got 8080; quote it: "8080"',
    '9:12: services[2].start: expected an argv list, e.g. [node, api.js], not a shell string; got "node api.js | tee log"',
  ]);
});

test('dependsOn must name services, without cycles', () => {
  assert.deepEqual(configErrors(HEAD + y(`
    services:
      - { name: api, start: [a], dependsOn: [cahce, db] }
      - { name: db, start: [b], dependsOn: [cache] }
      - { name: cache, start: [c], dependsOn: [api] }
      - { name: solo, start: [d], dependsOn: [solo] }
  `)), [
    '4:42: services[0].dependsOn[0]: unknown service "cahce" (did you mean "cache"?); services are: api, db, cache, solo',
    '4:49: services[0].dependsOn[1]: dependency cycle: api -> db -> cache -> api',
    '7:43: services[3].dependsOn[0]: service "solo" cannot depend on itself',
  ]);
});

test('names must be unique and hosts must exist', () => {
  assert.deepEqual(configErrors(y(`
    version: 1
    agent: { name: otto }
    hosts:
      - name: edge
      - name: edge
    services:
      - { name: api, start: [a], host: core }
      - { name: api, start: [b] }
  `)), [
    '5:11: hosts[1].name: duplicate host name "edge"; the first is at line 4',
    '7:36: services[0].host: unknown host "core"; hosts are: edge',
    '8:5: services[1]: host defaults to "local", but no host is named "local"; hosts are: edge',
    '8:13: services[1].name: duplicate service name "api"; the first is at line 7',
  ]);
});

test('a check has exactly one probe, a unique id, and a timeout within its interval', () => {
  assert.deepEqual(configErrors(HEAD + y(`
    services:
      - name: api
        start: [a]
        checks:
          - { tcp: { address: "127.0.0.1:1" }, exec: { argv: [x] } }
          - { interval: 1s }
          - { name: up, tcp: { address: "localhost:70000" }, timeout: 2s }
          - { name: up, tcp: { address: "localhost:1" }, interval: 100ms }
  `)), [
    '7:44: services[0].checks[0].exec: a check needs exactly one of http, tcp, exec, file, filesystem or promql; found tcp and exec',
    '8:9: services[0].checks[1]: a check needs exactly one of http, tcp, exec, file, filesystem or promql; found none',
    '9:37: services[0].checks[2].tcp.address: expected host:port with a port from 1 to 65535, e.g. 127.0.0.1:6390 or [::1]:6390; got "localhost:70000"',
    '9:67: services[0].checks[2].timeout: timeout 2s is longer than interval 1s; a probe must finish before the next one starts',
    '10:17: services[0].checks[3].name: duplicate check id "up" in service "api"; the first is at line 9',
    '10:64: services[0].checks[3].interval: the default timeout (500ms) is longer than interval 100ms; a probe must finish before the next one starts',
  ]);
});

test('slowerThan: a latency bound below the timeout compiles to slowerThanMs; one at or above it is an error', () => {
  const text = (bound: string): string => HEAD + y(`
    services:
      - name: cache
        start: [a]
        checks:
          - { tcp: { address: "127.0.0.1:1" }, interval: 200ms, timeout: 150ms, slowerThan: ${bound} }
  `);
  assert.equal(parseConfig(text('50ms'), FILE).services[0]?.checks[0]?.slowerThanMs, 50);
  assert.deepEqual(configErrors(text('150ms')), [
    '7:89: services[0].checks[0].slowerThan: slowerThan 150ms is not below timeout 150ms: an answer that late times out first; lower slowerThan or raise timeout',
  ]);
});

test('values are checked where they are: signals, URLs, sizes, env, regexes, causes, policy', () => {
  assert.deepEqual(configErrors(HEAD + y(`
    services:
      - name: api
        start: [a]
        stopSignal: TERM
        env: { A: [1], "B=C": x }
        log: { maxSize: 10M }
        checks:
          - http: { url: "ftp://h/", bodyMatch: "/(/", expectStatus: 600 }
        runbooks:
          - { name: r, run: [x], for: [oom] }
    policy:
      rules:
        - { allow: [reboot] }
      limits:
        - { action: restart, max: 0, window: 1m, per: host }
  `)), [
    '6:17: services[0].stopSignal: expected a signal name such as SIGTERM, SIGINT or SIGQUIT; got "TERM" (did you mean SIGTERM?)',
    '7:15: services[0].env.A: expected a string (numbers and booleans are converted); got a list',
    '7:20: services[0].env["B=C"]: invalid environment variable name "B=C": it must not be empty or contain "=" or a NUL byte (\\0)',
    '8:21: services[0].log.maxSize: expected a size such as 1MiB, 512KB or a whole number of bytes; got "10M"',
    '10:22: services[0].checks[0].http.url: expected an http:// or https:// URL; got "ftp://h/"',
    '10:45: services[0].checks[0].http.bodyMatch: invalid regular expression /(/: Unterminated group',
    '10:66: services[0].checks[0].http.expectStatus: expected at most 599, got 600',
    '12:36: services[0].runbooks[0].for[0]: expected one of process_exited | crash_loop | process_hung | dependency_down | config_drift | resource_exhausted | node_offline | network_partition | leader_lost | quorum_lost | performance_degraded | data_inconsistency | unknown, got "oom"',
    '15:17: policy.rules[0].allow[0]: expected one of start | restart | stop | run-runbook | host.reboot | etcd.defragment | etcd.disarm | etcd.move-leader | etcd.replace-member | ratelimiter.flush | ratelimiter.set-limit | ratelimiter.reset-counter, got "reboot"',
    '17:31: policy.limits[0].max: expected at least 1, got 0',
    '17:51: policy.limits[0].per: expected one of service | action | scope | global, got "host"',
  ]);
});

test('a log size too small to keep anything is refused where it is written', () => {
  assert.deepEqual(configErrors(HEAD + y(`
    services:
      - name: api
        start: [a]
        log: { maxSize: 1KiB }
  `)), ['6:21: services[0].log.maxSize: expected at least 64KiB: a log rotated every few lines keeps nothing; got "1KiB"']);
});

test('every problem is reported at once, in file order, and formatted as file:line:col', () => {
  const text = y(`
    version: 2
    agent:
      name: Otto
      mode: exec
    services:
      - name: api
        start: [node]
        dependsOn: [nope]
  `);
  try {
    parseConfig(text, 'warden.yaml');
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.equal(e.issues.length, 4);
    assert.deepEqual(e.issues[0], { file: 'warden.yaml', line: 1, col: 10, message: 'version: expected version 1 (the only version so far); got 2' });
    assert.equal(e.message, [
      'warden.yaml:1:10: version: expected version 1 (the only version so far); got 2',
      "warden.yaml:3:9: agent.name: expected an agent name of lower-case letters, digits, '-', '_' or '.', starting with a letter or digit; got \"Otto\"",
      'warden.yaml:4:9: agent.mode: expected one of observe | recommend | execute, got "exec"',
      'warden.yaml:8:17: services[0].dependsOn[0]: unknown service "nope"; services are: api',
    ].join('\n'));
  }
});

test('YAML syntax errors carry line and column', () => {
  // An unclosed quote is reported where the string starts, not where the file ends.
  assert.deepEqual(configErrors('version: 1\nagent:\n  name: "otto\n  mode: observe\n'), [
    '3:9: YAML: Missing closing "quote: the string that starts here runs on to line 5',
  ]);
  assert.deepEqual(configErrors('version: 1\nagent:\n  name: otto\n mode: observe\n'), [
    '4:1: YAML: All mapping items must start at the same column',
  ]);
  assert.deepEqual(configErrors('version: 1\nagent:\n  name: otto\n    mode: observe\n'), [
    '3:9: YAML: Nested mappings are not allowed in compact mappings (is this line indented too far, or is a ": " missing a line break?)',
  ]);
  assert.deepEqual(configErrors('version: 1\nagent:\n\tname: otto\n'), ['3:1: YAML: Tabs are not allowed as indentation; indent with spaces']);
  assert.deepEqual(configErrors('version: 1\nversion: 1\n'), ['2:1: YAML: Map keys must be unique']);
  assert.deepEqual(configErrors('version: 1\n---\nversion: 1\n'), ['2:1: YAML: a config file holds one YAML document; another one starts here']);
});

test('an empty file or a file of the wrong shape is a clear error, not a crash', () => {
  const empty = '1:1: the file is empty; expected a warden config starting with "version: 1" (warden init writes a commented example)';
  assert.deepEqual(configErrors(''), [empty]);
  assert.deepEqual(configErrors('# just a comment\n'), [empty]);
  assert.deepEqual(configErrors('- version: 1\n'), ['1:1: expected a map, got a list']);
  assert.deepEqual(configErrors('version: 1\nagent:\nservices:\n'), ['2:1: agent: expected a map, got nothing', '3:1: services: expected a list of services, each starting with "- name: ..."; got nothing']);
  assert.deepEqual(configErrors(`${HEAD}services:\n  api: { start: [a] }\n`), ['4:3: services: expected a list of services, each starting with "- name: ..."; got a map']);
});

test('loadConfig reads a file and resolves paths against its directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-config-'));
  try {
    const file = join(dir, 'warden.yaml');
    writeFileSync(file, `${HEAD}services:\n  - { name: api, start: [a], cwd: lab }\n`);
    const cfg = loadConfig(file);
    assert.equal(cfg.file, file);
    assert.equal(cfg.agent.dataDir, join(dir, '.warden'));
    assert.equal(cfg.services[0]?.cwd, join(dir, 'lab'));

    const missing = join(dir, 'nope.yaml');
    assert.throws(() => loadConfig(missing), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.issues, [{ file: missing, line: 0, col: 0, message: 'cannot read: ENOENT: no such file (warden init writes a commented example)' }]);
      assert.equal(e.message, `${missing}: cannot read: ENOENT: no such file (warden init writes a commented example)`);
      return true;
    });
    assert.throws(() => loadConfig(dir), /cannot read: EISDIR: it is a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Warden refuses to be its own repairer: a service running its config, a check on its own API', () => {
  const text = [
    'version: 1',
    'agent: { name: otto, api: { listen: "127.0.0.1:7070", tokenFile: t } }',
    'services:',
    '  - name: me',
    '    start: [node, bin/warden, --config, /srv/warden/warden.yaml, run]',
    '  - name: peer',
    '    start: [node, bin/warden, --config, /srv/peer/warden.yaml, run]',
    '    checks:',
    '      - http: { url: "http://localhost:7070/healthz" }',
    '',
  ].join('\n');
  assert.throws(() => parseConfig(text, '/srv/warden/warden.yaml'), (e: ConfigError) => {
    const lines = e.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /^5:12: services\[0\]\.start runs this Warden itself/);
    assert.match(lines[1]!, /^9:9: services\[1\]\.checks\[0\] probes this Warden's own API/);
    return true;
  });
});

test('a service restart backoff overrides the agent one key by key; startPeriod compiles to ms', () => {
  const cfg = parseConfig(HEAD.replace('{ name: otto }', '{ name: otto, restartBackoff: { initial: 2s } }') + y(`
    services:
      - name: api
        start: [node]
        startPeriod: 5s
        restartBackoff: { max: 10s }
      - name: db
        start: [node]
  `), FILE);
  const [api, db] = cfg.services;
  assert.deepEqual(api?.restartBackoff, { initialMs: 2000, maxMs: 10_000, resetAfterMs: 300_000 });
  assert.equal(api?.startPeriodMs, 5000);
  assert.deepEqual(db?.restartBackoff, { initialMs: 2000, maxMs: 60_000, resetAfterMs: 300_000 });
  assert.equal(db?.startPeriodMs, 0);
});
