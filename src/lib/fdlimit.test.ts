import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../demo/lab.js';
import { LOAD_NOFILE, nofileProblem, readNofile } from './fdlimit.js';

const WARDEN = join(ROOT, 'bin', 'warden');

test('readNofile reads /proc/self/limits, "unlimited" included', () => {
  const text = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 unlimited            files     \n';
  assert.deepEqual(readNofile(text), { soft: 1024, hard: Infinity });
  assert.equal(readNofile('nothing here'), null);
  const own = readNofile();
  assert.ok(own !== null && own.soft > 0);
});

test('below the load minimum, nofileProblem says what to raise', () => {
  assert.equal(nofileProblem({ soft: LOAD_NOFILE, hard: LOAD_NOFILE }), null);
  assert.match(nofileProblem({ soft: 64, hard: 64 }) ?? '', /open-file limit is 64 \(ulimit -n\); Warden needs at least 128 just to load: raise it .*LimitNOFILE=/);
});

test('the real CLI: under the minimum one line and exit 1; at the minimum it loads and runs', () => {
  // Without the check, 64 failed with "Cannot find package .../better-sqlite3" and 32 segfaulted.
  for (const n of [32, 64, LOAD_NOFILE - 1]) {
    const r = spawnSync('prlimit', [`--nofile=${n}:${n}`, WARDEN, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 1, `${n}: ${r.stderr}`);
    assert.equal(r.stderr, `warden: ${nofileProblem({ soft: n, hard: n })}\n`);
  }
  // Guards the load's own peak: more modules loaded at once would push it past the minimum.
  const ok = spawnSync('prlimit', [`--nofile=${LOAD_NOFILE}:${LOAD_NOFILE}`, WARDEN, '--help'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
});
