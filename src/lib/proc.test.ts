import { spawn, spawnSync } from 'node:child_process';
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

test('out of descriptors, a reader throws EMFILE rather than call a live process gone', () => {
  // A real shortage, in a child under `prlimit --nofile`: it opens files until the kernel refuses.
  const script = `
    const { openSync } = await import('node:fs');
    const proc = await import(${JSON.stringify(new URL('./proc.js', import.meta.url).href)});
    try { for (;;) openSync('/dev/null', 'r'); } catch (e) { if (e.code !== 'EMFILE') throw e; }
    const out = {};
    for (const [name, read] of Object.entries({ stat: () => proc.readProcStat(process.pid), alive: () => proc.isAlive(process.pid, 0), cmdline: () => proc.readCmdline(process.pid), fd: () => proc.readFd(process.pid, 0), pids: () => proc.listPids() })) {
      try { out[name] = read(); } catch (e) { out[name] = e.code; }
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync('prlimit', ['--nofile=64:64', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  // readlink needs no descriptor: that one still answers.
  assert.equal(typeof out.fd, 'string');
  delete out.fd;
  assert.deepEqual(out, { stat: 'EMFILE', alive: 'EMFILE', cmdline: 'EMFILE', pids: 'EMFILE' });
});
