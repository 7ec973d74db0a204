// What a config file cannot make validation do: crash, hang, or grow without bound. Each case here
// was found exiting 1 without a position, or taking seconds and gigabytes (Warden issue 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configErrors } from '../testing/config.js';

const HEAD = 'version: 1\nagent: { name: otto }\n';

/** Inline YAML written flush left: `y` strips the indentation of its first line from all lines. */
function y(s: string): string {
  const lines = s.replace(/^\n/, '').split('\n');
  const indent = /^ */.exec(lines[0] ?? '')?.[0].length ?? 0;
  return lines.map((l) => l.slice(indent)).join('\n');
}

test('names have a length cap, and long values are quoted short in messages', () => {
  const long = 'x'.repeat(20_000);
  assert.deepEqual(configErrors(`${HEAD}services:\n  - { name: ${long}a, start: [x] }\n  - { name: b, start: [x], dependsOn: [${long}b], ${long}: 1 }\n`), [
    `4:13: services[0].name: expected a service name of at most 128 characters; got "${'x'.repeat(40)}…" (20001 characters)`,
    `5:40: services[1].dependsOn[0]: expected a service name of at most 128 characters; got "${'x'.repeat(40)}…" (20001 characters)`,
    `5:40: services[1].dependsOn[0]: unknown service "${'x'.repeat(40)}…" (20001 characters); services are: ${'x'.repeat(40)}…, b`,
    `5:20044: services[1]["${'x'.repeat(40)}…"]: unknown key; expected one of name, host, kind, start, unit, container, pod, cwd, env, stopSignal, stopGrace, dependsOn, log, checks, runbooks, reverts, startPeriod, restartBackoff, labels, onRemove`,
  ]);
});

test('NUL bytes in argv, env and paths are rejected where they are, not by spawn at run time', () => {
  assert.deepEqual(configErrors(HEAD + [
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

test('an alias without an anchor is reported where it is, with every other error', () => {
  assert.deepEqual(configErrors(HEAD + y(`
    services:
      - name: api
        start: *missing
        stopSignal: TERM
  `)), [
    '5:12: YAML: unknown anchor "missing": an alias *missing needs an anchor &missing on a node before it',
    '6:17: services[0].stopSignal: expected a signal name such as SIGTERM, SIGINT or SIGQUIT; got "TERM" (did you mean SIGTERM?)',
  ]);
});

test('an alias inside the node it names is reported, not expanded forever', () => {
  assert.deepEqual(configErrors(HEAD + 'services: &s [ { name: a, start: [x], dependsOn: *s } ]\n'), [
    '3:50: YAML: the alias *s is inside the node anchored &s, which would make it endless',
  ]);
});

test('a merge key (<<) takes maps only, and says so where it is', () => {
  assert.deepEqual(configErrors(HEAD + y(`
    x: &list [1, 2]
    services:
      - <<: *list
        name: a
        start: [x]
      - <<: 5
        name: b
        start: [x]
      - <<: [{ cwd: . }, oops]
        name: c
        start: [x]
  `)), [
    '3:1: x: unknown key; expected one of version, agent, hosts, services, subjects, alerts, diagnosis, heartbeat, peers, notify, people, policy',
    '5:9: YAML: "<<" merges maps into this map: its value must be a map, an alias of one (<<: *defaults) or a list of those; this list holds 1',
    '8:9: YAML: "<<" merges maps into this map: its value must be a map, an alias of one (<<: *defaults) or a list of those; got 5',
    '11:22: YAML: "<<" merges maps into this map: its value must be a map, an alias of one (<<: *defaults) or a list of those; this list holds "oops"',
  ]);
});

test('a key that is a list or a map is an error at the key', () => {
  assert.deepEqual(configErrors(`${HEAD}services:\n  - { name: a, start: [x], [b]: 1 }\n`), [
    '4:28: YAML: a key must be a plain value such as a name; this one is a list',
  ]);
  assert.deepEqual(configErrors(`${HEAD}services:\n  - { name: a, start: [x], !!binary aGk=: 1 }\n`), [
    '4:37: YAML: a key must be a plain value such as a name; this one is binary data',
  ]);
});

test('an alias bomb is refused by its expanded size, at the alias, without expanding it', () => {
  const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 10; i++) levels.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  const [bomb] = configErrors(`${HEAD}${levels.join('\n')}\n`);
  assert.match(bomb ?? '', /^12:10: YAML: aliases expand this file to more than 4,000,000 values and characters \(about 2\.\de10\); this alias alone stands for about 2\.\de9; share fewer or smaller nodes/);
});

test('one large node repeated by many aliases is bounded by its expanded size too', () => {
  // No alias inside the node, so counting aliases (the YAML library's guard) sees nothing to fear.
  const big = `big: &big [${Array.from({ length: 1_000 }, (_, i) => `item${i}`).join(', ')}]`;
  const [first] = configErrors(`${HEAD}${big}\nmany: [${Array(1_000).fill('*big').join(', ')}]\n`);
  assert.match(first ?? '', /^4:8: YAML: aliases expand this file to more than 4,000,000 values and characters \(about 7\.9e6\); this alias alone stands for 7,891;/);
});

test('past 50 unknown service names there are no more guesses: each would scan every name', () => {
  const services = Array.from({ length: 60 }, (_, i) => `  - { name: svc${i}, start: [x], dependsOn: [svc${i}x] }`);
  const found = configErrors(`${HEAD}services:\n${services.join('\n')}\n`);
  assert.equal(found.length, 60);
  assert.equal(found.filter((e) => e.includes('did you mean')).length, 50);
  assert.match(found[0] ?? '', /unknown service "svc0x" \(did you mean "svc0"\?\); services are: svc0, svc1, .*, svc19, … \(60 in all\)$/);
});
