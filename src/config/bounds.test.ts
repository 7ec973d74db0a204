// What a config file cannot make validation do: crash, hang, or grow without bound. Each case here
// was found exiting 1 without a position, or taking seconds and gigabytes (Warden issue 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from './load.js';

/** The errors parseConfig reports for `text`, as `line:col: message`. */
function errors(text: string): string[] {
  try {
    parseConfig(text, 'w.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
  }
  assert.fail('expected the config to be rejected');
}

const HEAD = 'version: 1\nagent: { name: otto }\n';

test('names have a length cap, and long values are quoted short in messages', () => {
  const long = 'x'.repeat(20_000);
  assert.deepEqual(errors(`${HEAD}services:\n  - { name: ${long}a, start: [x] }\n  - { name: b, start: [x], dependsOn: [${long}b], ${long}: 1 }\n`), [
    `4:13: services[0].name: expected a service name of at most 128 characters; got "${'x'.repeat(40)}…" (20001 characters)`,
    `5:40: services[1].dependsOn[0]: expected a service name of at most 128 characters; got "${'x'.repeat(40)}…" (20001 characters)`,
    `5:40: services[1].dependsOn[0]: unknown service "${'x'.repeat(40)}…" (20001 characters); services are: ${'x'.repeat(40)}…, b`,
    `5:20044: services[1]["${'x'.repeat(40)}…"]: unknown key; expected one of name, host, kind, start, unit, cwd, env, stopSignal, stopGrace, dependsOn, log, checks, runbooks, startPeriod, restartBackoff, onRemove`,
  ]);
});

test('NUL bytes in argv, env and paths are rejected where they are, not by spawn at run time', () => {
  assert.deepEqual(errors(HEAD + [
    'services:',
    '  - name: api',
    '    start: [node, "a\\0b"]',
    '    cwd: "./lab\\0"',
    '    env: { A: "x\\0y" }',
    '    checks: [ { exec: { argv: ["\\0"] } } ]',
    '    runbooks: [ { name: r, run: [sh, "\\0"], env: { "B\\0": x } } ]',
    '',
  ].join('\n')), [
    '5:19: services[0].start[1]: expected no NUL byte (\\0) in an argv item; got "a\\u0000b"',
    '6:10: services[0].cwd: expected a path without NUL bytes (\\0); got "./lab\\u0000"',
    '7:15: services[0].env.A: expected no NUL byte (\\0) in an environment value; got "x\\u0000y"',
    '8:32: services[0].checks[0].exec.argv[0]: expected no NUL byte (\\0) in an argv item; got "\\u0000"',
    '9:38: services[0].runbooks[0].run[1]: expected no NUL byte (\\0) in an argv item; got "\\u0000"',
    '9:52: services[0].runbooks[0].env["B\\u0000"]: invalid environment variable name "B\\u0000": it must not be empty or contain "=" or a NUL byte (\\0)',
  ]);
});
