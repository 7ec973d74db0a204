import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../config/load.js';
import { filesystem, percent, usage, type FilesystemProbeSpec } from './filesystem.js';

/** A real 2 MiB tmpfs with 32 inodes, mounted for the test (needs root). */
function smallMount(t: { after(fn: () => void): void }): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'warden-fs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,nr_inodes=32', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  t.after(() => {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const spec = (path: string, more: Partial<FilesystemProbeSpec> = {}): FilesystemProbeSpec => ({ type: 'filesystem', path, ...more });

test('filesystem: space and inodes free on a real small mount, against percentages and amounts', async (t) => {
  const mnt = smallMount(t);
  if (mnt === null) {
    t.skip('mounting a tmpfs needs root');
    return;
  }
  const empty = await filesystem(spec(mnt, { minFree: { percent: 50 }, minInodesFree: { amount: 20 } }), 1000);
  assert.equal(empty.ok, true, empty.message);
  assert.equal(empty.message, `${mnt}: 2 MiB free (100%), 31 inodes free (96.8%)`);
  assert.deepEqual(empty.value, { freeBytes: 2 * 2 ** 20, freeInodes: 31 });

  // Fill three quarters of the space and half the inodes.
  writeFileSync(join(mnt, 'big'), Buffer.alloc(1536 * 1024));
  for (let i = 0; i < 15; i++) writeFileSync(join(mnt, `f${i}`), '');
  const full = await filesystem(spec(mnt, { minFree: { percent: 50 }, minInodesFree: { amount: 20 } }), 1000);
  assert.equal(full.ok, false);
  assert.equal(full.message, `${mnt}: 512 KiB free (25%), under the minimum of 50%, 15 inodes free (46.8%), under the minimum of 20 inodes`);
  assert.deepEqual(full.value, { freeBytes: 512 * 1024, freeInodes: 15 });

  assert.equal((await filesystem(spec(mnt, { minFree: { amount: 512 * 1024 }, minInodesFree: { percent: 40 } }), 1000)).ok, true);
  assert.equal((await filesystem(spec(mnt, { minFree: { amount: 512 * 1024 + 1 } }), 1000)).ok, false);
  // Any path on the filesystem reads the same filesystem.
  assert.deepEqual((await filesystem(spec(join(mnt, 'big')), 1000)).value, full.value);
});

test('filesystem: a path that is not there fails with the reason', async () => {
  const r = await filesystem(spec('/no/such/mount/here'), 1000);
  assert.equal(r.ok, false);
  assert.match(r.message, /^cannot read the filesystem of \/no\/such\/mount\/here: ENOENT/);
});

test('filesystem: the root filesystem reads as df does', async () => {
  const u = await usage('/');
  const df = execFileSync('df', ['-B1', '--output=avail,iavail', '/'], { encoding: 'utf8' }).trim().split('\n')[1]?.trim().split(/\s+/).map(Number);
  // Both read the same statfs; a write between the two calls elsewhere on the host can move
  // the free space, so equal to within 64 MiB (an honest bound for a shared machine).
  assert.ok(Math.abs(u.freeBytes - (df?.[0] ?? NaN)) < 64 * 2 ** 20, `${u.freeBytes} vs df ${df?.[0]}`);
  assert.equal(percent(1, 3), 33.3);
  assert.equal(percent(0, 0), 100);
});

test('filesystem config: percentages or amounts, errors at their place', () => {
  const config = (check: string): string => `version: 1
agent: { name: otto }
services:
  - name: api
    start: [node, api.js]
    checks:
      - filesystem: ${check}
`;
  const errs = (check: string): string[] => {
    try {
      parseConfig(config(check), '/srv/w.yaml');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
    }
    return [];
  };
  assert.deepEqual(errs('{ path: /, minFree: "150%" }'), ['7:41: services[0].checks[0].filesystem.minFree: a percentage is at most 100%; got "150%"']);
  assert.deepEqual(errs('{ path: /, minFree: lots }'), ['7:41: services[0].checks[0].filesystem.minFree: expected a percentage or a size, e.g. "10%" or 2GiB; got "lots"']);
  assert.deepEqual(errs('{ path: /, minInodesFree: 1KiB }'), ['7:47: services[0].checks[0].filesystem.minInodesFree: expected a percentage or a count, e.g. "5%" or 10000; got "1KiB"']);
  const cfg = parseConfig(config('{ path: ./data, minFree: "12.5%", minInodesFree: 1000 }'), '/srv/w.yaml');
  assert.deepEqual(cfg.services[0]?.checks[0]?.probe, { type: 'filesystem', path: '/srv/data', minFree: { percent: 12.5 }, minInodesFree: { amount: 1000 } });
  const bytes = parseConfig(config('{ path: /, minFree: 2GiB }'), '/srv/w.yaml');
  assert.deepEqual(bytes.services[0]?.checks[0]?.probe, { type: 'filesystem', path: '/', minFree: { amount: 2 * 2 ** 30 } });
});
