import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isWardenError } from '../lib/errors.js';
import { acquireDataDirLock, lockHolder, PID_FILE } from './lock.js';

/** Another process holding the lock, as a second Warden would meet it. */
async function holder(dir: string): Promise<ChildProcess> {
  const lib = new URL('./lock.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `import { acquireDataDirLock } from ${JSON.stringify(lib)}; acquireDataDirLock(${JSON.stringify(dir)}); process.stdout.write('locked\\n'); setInterval(() => {}, 1e9);`,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('locked')) resolve(); });
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

function snapshot(dir: string): string {
  return readdirSync(dir).sort().map((f) => { const s = statSync(join(dir, f)); return `${f}:${s.size}:${s.mtimeMs}`; }).join('\n');
}

test('a held lock refuses a second holder, naming the pid; SIGKILL of the holder frees it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(lockHolder(dir), null, 'nothing ever ran here');
  const child = await holder(dir);
  t.after(() => child.kill('SIGKILL'));
  const pid = child.pid!;
  assert.deepEqual(lockHolder(dir), { pid });
  assert.equal(readFileSync(join(dir, PID_FILE), 'utf8'), `${pid}\n`);

  const before = snapshot(dir);
  assert.throws(() => acquireDataDirLock(dir), (e) => isWardenError(e, 'LOCK_HELD') && e.message.includes(`pid ${pid}`));
  assert.equal(snapshot(dir), before, 'a refused acquire writes nothing');
  assert.deepEqual(lockHolder(dir), { pid }, 'and leaves the holder holding');

  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  assert.equal(lockHolder(dir), null, 'the kernel released the dead holder\'s lock');
  const lock = acquireDataDirLock(dir);
  assert.deepEqual(lockHolder(dir), { pid: process.pid });
  lock.release();
  assert.equal(lockHolder(dir), null);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(PID_FILE)), [], 'release removes the pid file');
});

test('within one process the lock is exclusive too, and release makes it available again', (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'warden-lock-')), 'data', 'nested');
  t.after(() => rmSync(join(dir, '..', '..'), { recursive: true, force: true }));
  const first = acquireDataDirLock(dir);
  assert.throws(() => acquireDataDirLock(dir), (e) => isWardenError(e, 'LOCK_HELD') && e.message.includes(`pid ${process.pid}`));
  assert.deepEqual(lockHolder(dir), { pid: process.pid }, 'the refused attempt did not drop the first lock');
  first.release();
  first.release();
  const second = acquireDataDirLock(dir);
  second.release();
});
