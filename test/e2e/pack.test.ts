// Installable (issue 7, point 14): `npm pack` gives a package that a fresh machine installs with
// `npm i -g` and runs — compiled files included, nothing compiled at install time, the native
// SQLite binding built. The install prefers npm's cache (filled by setup's `npm ci`) and falls back
// to the registry; the native build is what takes most of the minute.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../../src/demo/lab.js';

const run = promisify(execFile);

test('npm pack → npm i -g → warden --version, validate, and a store that opens and verifies', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // --ignore-scripts: `npm test` has just built dist/, and a prepack compile here would rewrite it
  // under the tests running beside this one.
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 16 << 20 });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  const prefix = join(dir, 'prefix');
  await run('npm', ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, join(dir, tarball)], { cwd: dir, maxBuffer: 16 << 20, timeout: 280_000 });
  const warden = join(prefix, 'bin', 'warden');
  const version = await run(warden, ['--version'], { cwd: dir });
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/);
  const work = join(dir, 'work');
  await run('mkdir', ['-p', work]);
  await run(warden, ['init'], { cwd: work });
  const validated = await run(warden, ['validate'], { cwd: work });
  assert.match(validated.stdout, /ok — agent/);
  // A command that writes the store: the native binding was built and opens a database.
  await run(warden, ['freeze', '--reason', 'installed from a tarball'], { cwd: work });
  const verified = await run(warden, ['audit', 'verify'], { cwd: work });
  assert.match(verified.stdout, /audit chain intact: 1 records/);
});
