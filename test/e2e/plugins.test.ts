// Adding a probe is one folder plus one registry line: a copy of the built tree gains a
// `file-exists` probe that way, and its real CLI validates it (typos rejected with a guess), lists
// it in `doctor`, and runs it in `reconcile --once` against a real process.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../src/demo/lab.js';
import type { CliResult } from './harness.js';

const PROBE = `import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

export default {
  name: 'file-exists',
  description: 'healthy while a path exists',
  config: z.strictObject({ path: z.string().min(1) }),
  compile: (c, ctx) => ({ path: resolve(ctx.base, c.path) }),
  prerequisites: [],
  run: async (spec) => existsSync(spec.path)
    ? { ok: true, message: spec.path + ' exists', latencyMs: 0, timedOut: false, value: 1 }
    : { ok: false, message: spec.path + ' is missing', latencyMs: 0, timedOut: false, value: 0 },
  target: (spec) => spec.path,
};
`;

/** The built tree (dist/src, bin, package.json) copied to `dir`, with node_modules linked. */
function copyTree(dir: string): void {
  cpSync(join(ROOT, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
}

function warden(dir: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(dir, 'bin', 'warden'), '--config', join(dir, 'warden.yaml'), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('a probe added as one folder plus one registry line is validated, listed by doctor and run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-plugin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyTree(dir);

  // The addition: the probe's folder, and one line in the probe table.
  mkdirSync(join(dir, 'dist', 'src', 'probes', 'file-exists'));
  writeFileSync(join(dir, 'dist', 'src', 'probes', 'file-exists', 'index.js'), PROBE);
  const registry = join(dir, 'dist', 'src', 'probes', 'index.js');
  const anchor = "    exec: (await import('./exec/index.js')).default,\n";
  const source = readFileSync(registry, 'utf8');
  assert.ok(source.includes(anchor), 'the built probe table has one line per probe');
  writeFileSync(registry, source.replace(anchor, `${anchor}    'file-exists': (await import('./file-exists/index.js')).default,\n`));

  // A real process for the service, with an argv unique to this test so reconcile adopts it.
  const argv = [process.execPath, '-e', 'setInterval(() => {}, 1000)', dir];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const config = (probeKey: string): string => `version: 1
agent: { name: otto }
services:
  - name: marker
    start: ${JSON.stringify(argv)}
    checks:
      - ${probeKey}: { path: ./flag }
`;

  writeFileSync(join(dir, 'warden.yaml'), config('file-exist'));
  const typo = await warden(dir, ['validate']);
  assert.equal(typo.code, 2, typo.stdout);
  assert.match(typo.stderr, /warden\.yaml:7:9: services\[0\]\.checks\[0\]\.file-exist: unknown key \(did you mean "file-exists"\?\)/);

  writeFileSync(join(dir, 'warden.yaml'), config('file-exists'));
  const ok = await warden(dir, ['validate']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /ok — agent otto .* 1 check\(s\)/);

  const doctor = await warden(dir, ['doctor', '--json']);
  assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
  const plugins = (JSON.parse(doctor.stdout) as { plugins: { family: string; name: string; state: string; usedBy: string[] }[] }).plugins;
  assert.deepEqual(plugins.find((p) => p.name === 'file-exists'), { family: 'probe', name: 'file-exists', description: 'healthy while a path exists', state: 'enabled', reason: 'needs nothing from the host', usedBy: ['check marker/file-exists#0'] });

  type Report = { summary: string; findings: { service: string; kind: string; reason: string }[] };
  const reconcile = async (): Promise<Report> => {
    const r = await warden(dir, ['reconcile', '--once', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Report;
  };
  writeFileSync(join(dir, 'flag'), '');
  assert.deepEqual(await reconcile(), { summary: 'nominal', findings: [], recommendations: [] });
  rmSync(join(dir, 'flag'));
  const down = await reconcile();
  assert.equal(down.summary, 'degraded');
  assert.deepEqual(down.findings.map((f) => `${f.service} ${f.kind}`), ['marker unhealthy_service']);
  assert.match(down.findings[0]!.reason, /flag is missing/);
});
