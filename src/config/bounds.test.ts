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
