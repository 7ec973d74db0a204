import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAlive, listPids, processStartMs, readCmdline, readEnviron, readFd, readProcStat } from './proc.js';

test('readProcStat parses a command name with spaces and parentheses', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-proc-'));
  const odd = join(dir, 'a) b (c');
  symlinkSync(process.execPath, odd);
  const child = spawn(odd, ['-e', 'setTimeout(()=>{},5000)', '--', 'x', ''], { stdio: 'ignore', env: { ...process.env, PROBE_VAR: 'v=1' } });
  t.after(() => { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); });
  await new Promise((r) => child.once('spawn', r));
  const pid = child.pid ?? -1;
  const stat = readProcStat(pid);
  assert.ok(stat);
  assert.equal(stat.ppid, process.pid);
  assert.match(stat.state, /^[RSD]$/);
  assert.ok(stat.startTime > 0);
  assert.equal(isAlive(pid, stat.startTime), true);
  assert.equal(isAlive(pid, stat.startTime + 1), false, 'a reused pid has another start time');
  assert.deepEqual(readCmdline(pid), [odd, '-e', 'setTimeout(()=>{},5000)', '--', 'x', ''], 'trailing empty argument kept');
  assert.equal(readEnviron(pid)?.PROBE_VAR, 'v=1');
  assert.equal(readFd(pid, 0), '/dev/null');
  assert.ok(listPids().includes(pid));
  const started = processStartMs(stat.startTime);
  assert.ok(started !== null && Math.abs(started - Date.now()) < 5000);

  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.equal(isAlive(pid, stat.startTime), false);
});

test('readers return null for a process that does not exist', () => {
  assert.equal(readProcStat(2 ** 22 + 1), null);
  assert.equal(readCmdline(2 ** 22 + 1), null);
  assert.equal(readEnviron(2 ** 22 + 1), null);
  assert.equal(isAlive(2 ** 22 + 1, 0), false);
});
