// One Warden per data directory (DESIGN rule 9). Node has no flock, so the lock is SQLite's own
// POSIX record lock on `warden.lock`, held by an open EXCLUSIVE transaction for the daemon's life:
// the kernel drops it when the holder dies, even by kill -9, so there is never a stale lock to clean.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { errorText, WardenError } from '../lib/errors.js';
import { mkdirPrivate, PRIVATE_FILE } from '../lib/private.js';
import { pidAlive } from '../runtime/diagnostics.js';

export const LOCK_FILE = 'warden.lock';
export const PID_FILE = 'warden.pid';
/** Rides out a `lockHolder` probe's brief shared lock; far below the second's budget of a refused start. */
const ACQUIRE_WAIT_MS = 100;
/** How long a prober waits for a new holder to write its pid file. */
const PID_WAIT_MS = 500;

export interface DataDirLock {
  readonly dataDir: string;
  /** Releases the lock (idempotent); the pid file goes first so no reader sees it without a holder. */
  release(): void;
}

const lockPath = (dataDir: string): string => path.join(path.resolve(dataDir), LOCK_FILE);
const pidPath = (dataDir: string): string => path.join(path.resolve(dataDir), PID_FILE);

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * Takes the data directory's lock or throws WardenError LOCK_HELD naming the holder's pid. Creates
 * the directory and the (empty) lock file if needed; a refused caller writes nothing.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const dir = path.resolve(dataDir);
  let db: Database.Database;
  try {
    mkdirPrivate(dir);
    db = new Database(lockPath(dir), { timeout: ACQUIRE_WAIT_MS });
  } catch (e) {
    throw new WardenError('LOCK_FAILED', `cannot open ${lockPath(dir)}: ${errorText(e)}; check that the data directory exists and is writable`, { cause: e });
  }
  try {
    // In memory: no journal file appears beside the lock, and nothing is ever written to it anyway.
    db.pragma('journal_mode = MEMORY');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if (!isBusy(e)) throw new WardenError('LOCK_FAILED', `cannot lock ${lockPath(dir)}: ${errorText(e)}`, { cause: e });
    const holder = lockHolder(dir);
    throw new WardenError('LOCK_HELD', `another Warden (pid ${holder?.pid ?? 'unknown'}) is running with the data directory ${dir}; stop it first ("kill ${holder?.pid ?? '<pid>'}" or "systemctl stop" its unit), or give this config another agent.dataDir`, { retryable: true });
  }
  try {
    writePidFile(pidPath(dir), process.pid);
  } catch (e) {
    db.close();
    throw new WardenError('LOCK_FAILED', `cannot write ${pidPath(dir)}: ${errorText(e)}; is the data directory's filesystem full or read-only?`, { cause: e });
  }
  let held = true;
  return {
    dataDir: dir,
    release() {
      if (!held) return;
      held = false;
      rmSync(pidPath(dir), { force: true });
      db.close();
    },
  };
}

/** The daemon holding a data directory's lock. */
export interface DataDirHolder { pid: number }

/**
 * Who holds the lock, without taking it: a shared-lock probe fails while a holder has it. null when
 * no Warden runs on this data directory (or none ever did). The pid is 0 when the holder's pid file
 * cannot be read (it is being written, or the filesystem is broken).
 */
export function lockHolder(dataDir: string): DataDirHolder | null {
  let db: Database.Database;
  try {
    db = new Database(lockPath(dataDir), { readonly: true, fileMustExist: true, timeout: 0 });
  } catch {
    return null;
  }
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return null;
  } catch (e) {
    if (!isBusy(e)) throw new WardenError('LOCK_FAILED', `cannot probe ${lockPath(dataDir)}: ${errorText(e)}`, { cause: e });
  } finally {
    db.close();
  }
  return { pid: readPid(pidPath(dataDir)) };
}

/**
 * The holder writes its pid just after locking; wait that moment out (or a dead predecessor's file
 * being replaced) instead of naming no one or the wrong one.
 */
function readPid(file: string): number {
  const until = performance.now() + PID_WAIT_MS;
  for (;;) {
    try {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) return pid;
    } catch { /* not there yet */ }
    if (performance.now() >= until) return 0;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

/** Atomic (temp, fsync, rename): a reader sees the old pid or the new one, never half of one. */
function writePidFile(file: string, pid: number): void {
  const tmp = `${file}.tmp-${pid}`;
  const fd = openSync(tmp, 'w', PRIVATE_FILE);
  try {
    writeSync(fd, `${pid}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
