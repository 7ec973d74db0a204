// `warden validate` through the real CLI: the configs once found exiting 1 without a position now
// exit 2 with file:line:col on every line and every other error beside them, and the pre-flight
// reports what would fail on this host as warnings, errors under --strict, and JSON under --json.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from './harness.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-validate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const HEAD = 'version: 1\nagent: { name: otto }\n';

/** Every stderr line is `warden.yaml:L:C: ...`: a position for each error, and nothing else printed. */
function positioned(stderr: string): string[] {
  const lines = stderr.trimEnd().split('\n');
  for (const l of lines) assert.match(l, /^warden\.yaml:\d+:\d+: /, `no position: ${l}`);
  return lines.map((l) => l.replace(/^warden\.yaml:/, ''));
}

const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`)].join('\n');

const CASES: { name: string; yaml: string; expect: RegExp[] }[] = [
  {
    name: 'a check with no probe, beside other errors',
    yaml: `${HEAD}services:\n  - name: api\n    start: [node]\n    checks: [ { interval: 1s } ]\n    stopSignal: TERM\n`,
    expect: [/^6:15: services\[0\]\.checks\[0\]: a check needs exactly one of http, tcp, exec, file, filesystem or promql; found none$/, /^7:17: services\[0\]\.stopSignal: /],
  },
  {
    name: 'an unresolved alias, beside other errors',
    yaml: `${HEAD}services:\n  - name: api\n    start: *missing\n    dependsOn: [nope]\n`,
    expect: [/^5:12: YAML: unknown anchor "missing"/, /^6:17: services\[0\]\.dependsOn\[0\]: unknown service "nope"/],
  },
  {
    name: 'a merge key whose source is not a map',
    yaml: `${HEAD}services:\n  - <<: 5\n    name: api\n    start: [node]\n`,
    expect: [/^4:9: YAML: "<<" merges maps into this map: .*; got 5$/],
  },
  {
    name: 'an alias bomb',
    yaml: `${HEAD}${bomb}\n`,
    expect: [/^12:10: YAML: aliases expand this file to more than 4,000,000 values and characters/],
  },
  {
    name: 'NUL bytes in argv and env',
    yaml: `${HEAD}services:\n  - { name: api, start: [node, "a\\0"], env: { A: "\\0" } }\n`,
    expect: [/^4:32: services\[0\]\.start\[1\]: expected no NUL byte/, /^4:50: services\[0\]\.env\.A: expected no NUL byte/],
  },
  {
    name: '20,000-character names',
    yaml: `${HEAD}services:\n  - { name: ${'x'.repeat(20_000)}a, start: [node] }\n  - { name: b, start: [node], dependsOn: [${'x'.repeat(20_000)}b] }\n`,
    expect: [/^4:13: services\[0\]\.name: expected a service name of at most 128 characters; got "x{40}…" \(20001 characters\)$/],
  },
];

for (const c of CASES) {
  test(`validate: ${c.name} exits 2 with file:line:col`, async (t) => {
    const dir = tmp(t);
    writeFileSync(join(dir, 'warden.yaml'), c.yaml);
    const r = await cli(['validate'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = positioned(r.stderr);
    for (const re of c.expect) assert.ok(lines.some((l) => re.test(l)), `${re} in:\n${lines.join('\n')}`);
  });
}

test('validate is a pre-flight: warnings at file:line:col, errors with --strict, JSON with --json', async (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'warden.yaml'), `${HEAD}services:\n  - { name: api, start: [no-such-program-here], cwd: . }\n  - { name: web, start: [node], cwd: ./gone }\n`);

  const plain = await cli(['validate'], { cwd: dir });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /warden\.yaml: ok — agent otto/);
  assert.deepEqual(positioned(plain.stderr), [
    '4:26: warning: services[0].start[0]: "no-such-program-here" is not found on PATH; api would not start (install it, or give its full path)',
    `5:38: warning: services[1].cwd: working directory ${join(dir, 'gone')} does not exist; web would not start`,
  ]);

  const strict = await cli(['validate', '--strict'], { cwd: dir });
  assert.equal(strict.code, 2);
  assert.equal(strict.stdout, '');
  assert.match(strict.stderr, /^warden\.yaml:4:26: services\[0\]\.start\[0\]: "no-such-program-here" is not found on PATH/m);
  assert.match(strict.stderr, /^warden: 2 warning\(s\), and --strict makes them errors$/m);

  type Report = { ok: boolean; file: string; errors: { line: number; col: number; message: string }[]; warnings: { line: number; col: number }[]; summary: { services: number } | null };
  const json = await cli(['validate', '--json'], { cwd: dir });
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as Report;
  assert.equal(report.ok, true);
  assert.deepEqual(report.warnings.map((w) => `${w.line}:${w.col}`), ['4:26', '5:38']);
  assert.equal(report.summary?.services, 2);

  const strictJson = JSON.parse((await cli(['validate', '--json', '--strict'], { cwd: dir })).stdout) as Report;
  assert.equal(strictJson.ok, false);
  assert.deepEqual(strictJson.errors.map((w) => `${w.line}:${w.col}`), ['4:26', '5:38']);

  writeFileSync(join(dir, 'warden.yaml'), `${HEAD}services:\n  - { name: api, start: *nope }\n`);
  const broken = await cli(['validate', '--json'], { cwd: dir });
  assert.equal(broken.code, 2);
  const bad = JSON.parse(broken.stdout) as Report;
  assert.deepEqual({ ok: bad.ok, summary: bad.summary, errors: bad.errors.map((e) => `${e.line}:${e.col}: ${e.message}`) }, {
    ok: false, summary: null, errors: ['4:25: YAML: unknown anchor "nope": an alias *nope needs an anchor &nope on a node before it'],
  });
});
