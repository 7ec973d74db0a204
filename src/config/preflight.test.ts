import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocated } from './load.js';
import { preflightIssues } from './preflight.js';

/** A config in a fresh directory, checked with PATH = that directory's bin/ only. */
function preflight(t: { after(fn: () => void): void }, yaml: string, setup: (dir: string) => void = () => undefined, env: NodeJS.ProcessEnv = {}): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'warden-preflight-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bin'));
  const exe = (name: string): void => writeFileSync(join(dir, 'bin', name), '#!/bin/sh\n', { mode: 0o755 });
  exe('server');
  exe('check');
  setup(dir);
  writeFileSync(join(dir, 'warden.yaml'), `version: 1\n${yaml.startsWith('agent:') ? '' : 'agent: { name: otto }\n'}${yaml}`);
  const { config, locate } = loadLocated(join(dir, 'warden.yaml'));
  return preflightIssues(config, { PATH: join(dir, 'bin'), ...env }).map((p) => {
    const i = locate(p);
    return `${i.line}:${i.col}: ${i.message.replaceAll(dir, '$DIR')}`;
  });
}

test('programs are found as spawn finds them: on PATH, or a path relative to cwd', (t) => {
  assert.deepEqual(preflight(t, [
    'services:',
    '  - { name: a, start: [server, --port, "1"] }',
    '  - { name: b, start: [servre] }',
    '  - { name: c, start: [./run.sh] }',
    '  - { name: d, start: [./bin] }',
    '  - { name: e, start: [./gone.sh] }',
    '  - { name: f, start: [server], env: { PATH: /nonexistent } }',
    '',
  ].join('\n'), (dir) => writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o644 })), [
    '5:24: services[1].start[0]: "servre" is not found on PATH; b would not start (install it, or give its full path)',
    '6:24: services[2].start[0]: $DIR/run.sh is not executable; c would not start (chmod +x $DIR/run.sh)',
    '7:24: services[3].start[0]: $DIR/bin is a directory; d would not start',
    '8:24: services[4].start[0]: "./gone.sh" does not exist ($DIR/gone.sh); e would not start',
    '9:24: services[5].start[0]: "server" is not found on PATH; f would not start (install it, or give its full path)',
  ]);
});

test('working directories, exec checks and runbooks are checked too; a missing cwd once', (t) => {
  assert.deepEqual(preflight(t, [
    'services:',
    '  - name: a',
    '    start: [server]',
    '    cwd: ./nowhere',
    '    runbooks: [ { name: fix, run: [server] } ]',
    '  - name: b',
    '    start: [server]',
    '    checks:',
    '      - exec: { argv: [chekc] }',
    '      - exec: { argv: [check], cwd: ./nowhere }',
    '    runbooks: [ { name: clean, run: [./clean.sh] } ]',
    '',
  ].join('\n')), [
    '6:10: services[0].cwd: working directory $DIR/nowhere does not exist; a would not start',
    '11:24: services[1].checks[0].exec.argv[0]: "chekc" is not found on PATH; check exec#0 would fail every time (install it, or give its full path)',
    '13:38: services[1].runbooks[0].run[0]: "./clean.sh" does not exist ($DIR/clean.sh); runbook clean would fail',
  ]);
});

test('the API token file: missing, empty, readable by others; or no token at all', (t) => {
  const api = (tokenFile: string): string => `agent:\n  name: otto\n  api: { listen: "127.0.0.1:7070"${tokenFile} }\n`;
  assert.deepEqual(preflight(t, api(', tokenFile: ./token')), [
    '4:47: agent.api.tokenFile: $DIR/token: ENOENT; the API would not start',
  ]);
  assert.deepEqual(preflight(t, api(', tokenFile: ./token'), (dir) => writeFileSync(join(dir, 'token'), '')), [
    '4:47: agent.api.tokenFile: $DIR/token is empty; write a secret token into it; the API would not start',
  ]);
  assert.deepEqual(preflight(t, api(', tokenFile: ./token'), (dir) => {
    writeFileSync(join(dir, 'token'), 'secret\n');
    chmodSync(join(dir, 'token'), 0o644);
  }), [
    '4:47: agent.api.tokenFile: $DIR/token is mode 0644: others can read the token (chmod 600); anyone on this host could act as an operator',
  ]);
  assert.deepEqual(preflight(t, api(', tokenFile: ./token'), (dir) => writeFileSync(join(dir, 'token'), 'secret\n', { mode: 0o600 })), []);
  assert.deepEqual(preflight(t, api('')), [
    '4:8: agent.api: has no tokenFile and $WARDEN_API_TOKEN is not set; the API would not start',
  ]);
  assert.deepEqual(preflight(t, api(''), () => undefined, { WARDEN_API_TOKEN: 'secret' }), []);
});

test('policy rules that match no service, or decide nothing another rule does not', (t) => {
  assert.deepEqual(preflight(t, [
    'services:',
    '  - { name: web, start: [server] }',
    '  - { name: db, start: [server] }',
    'policy:',
    '  rules:',
    '    - { match: { service: "*" }, allow: [start, restart] }',
    '    - { match: { service: wbe }, allow: [restart] }',
    '    - { match: { service: web }, allow: [restart] }',
    '    - { match: { service: db }, allow: [restart], approval: required }',
    '',
  ].join('\n')), [
    '9:7: policy.rules[1] (service: wbe) matches no service; it has no effect',
    '10:7: policy.rules[2] (service: web) has no effect: on the services it matches (web) policy.rules[0] (service: *) already decides every action it allows the same way; remove it, or change what it allows',
  ]);
});

test('a config whose programs, directories and token are all there has nothing to report', (t) => {
  assert.deepEqual(preflight(t, [
    'services:',
    '  - name: a',
    '    start: [server]',
    '    checks: [ { exec: { argv: [check] } } ]',
    '    runbooks: [ { name: fix, run: [./bin/check] } ]',
    '',
  ].join('\n')), []);
});
