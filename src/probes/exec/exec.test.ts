import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec, lastLine } from './exec.js';

const cwd = tmpdir();

test('lastLine skips blank trailing lines', () => {
  assert.equal(lastLine('a\nb\n\n'), 'b');
  assert.equal(lastLine(''), '');
});

test('exec probe: exit 0 is ok, others fail with the code and last line', async () => {
  const good = await exec({ type: 'exec', argv: ['sh', '-c', 'echo starting; echo all good'], cwd }, 2000);
  assert.equal(good.ok, true, good.message);
  assert.match(good.message, /^exit 0: all good$/);

  const bad = await exec({ type: 'exec', argv: ['sh', '-c', 'echo first; echo "replica lag 30s" >&2; exit 3'], cwd }, 2000);
  assert.equal(bad.ok, false);
  assert.equal(bad.timedOut, false);
  assert.equal(bad.message, 'exit 3: replica lag 30s');

  const killed = await exec({ type: 'exec', argv: ['sh', '-c', 'kill -TERM $$'], cwd }, 2000);
  assert.equal(killed.message, 'killed by SIGTERM');
});

test('exec probe passes argv verbatim, never through a shell', async () => {
  const r = await exec({ type: 'exec', argv: ['echo', '$HOME; exit 1'], cwd }, 2000);
  assert.equal(r.ok, true);
  assert.match(r.message, /: \$HOME; exit 1$/);
});

test('exec probe runs in cwd', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-exec-'));
  try {
    const r = await exec({ type: 'exec', argv: ['pwd'], cwd: dir }, 2000);
    assert.ok(r.message.endsWith(dir), r.message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exec probe reports a missing program', async () => {
  const r = await exec({ type: 'exec', argv: ['/nonexistent/check'], cwd }, 2000);
  assert.equal(r.ok, false);
  assert.match(r.message, /ENOENT/);
  const e = await exec({ type: 'exec', argv: [], cwd }, 2000);
  assert.equal(e.ok, false);
});

/** Whether the process is gone (or a zombie) within `ms`. */
async function diesWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const stat = (() => { try { return readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return null; } })();
    if (stat === null || /\) [ZX] /.test(stat)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((res) => setTimeout(res, 10));
  }
}

test('exec probe timeout kills the whole process group', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-exec-'));
  const pidFile = join(dir, 'pid');
  let sleeper: number | undefined;
  try {
    // sh starts a grandchild `sleep 10`; killing only sh would leave it running.
    const r = await exec({ type: 'exec', argv: ['sh', '-c', `sleep 10 & echo $! > ${pidFile}; wait`], cwd }, 300);
    assert.equal(r.ok, false);
    assert.equal(r.timedOut, true);
    assert.equal(r.message, 'timed out after 300 ms');
    assert.ok(r.latencyMs < 1000);
    sleeper = Number(readFileSync(pidFile, 'utf8'));
    // SIGKILL is delivered at once, but the zombie needs its reaper; give it a moment.
    assert.equal(await diesWithin(sleeper, 1000), true, 'the grandchild sleep survived the timeout');
  } finally {
    if (sleeper !== undefined) try { process.kill(sleeper, 'SIGKILL'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exec probe reaps what its program left running, after a normal exit too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-exec-'));
  const pidFile = join(dir, 'pid');
  let sleeper: number | undefined;
  try {
    // The program answers at once and leaves `sleep` behind (stdout closed, so nothing waits for it).
    const r = await exec({ type: 'exec', argv: ['sh', '-c', `sleep 30 >/dev/null 2>&1 & echo $! > ${pidFile}; echo ok`], cwd }, 5000);
    assert.equal(r.ok, true, r.message);
    sleeper = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(await diesWithin(sleeper, 5000), true, 'the background sleep outlived its probe');
  } finally {
    if (sleeper !== undefined) try { process.kill(sleeper, 'SIGKILL'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});
