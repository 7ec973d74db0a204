// Exhausting a live process's file descriptors (the exhaust-fds fault): RLIMIT_NOFILE lowered to
// the lowest slot it does not use, so its next open fails with EMFILE. A descriptor it holds for a
// moment when the limit is set (a write, a health check's connection) frees a slot below the limit
// when it closes, and the service runs on in that slot as if nothing happened: the limit is lowered
// again to any slot found free below it, for a while after.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from './stage.js';

/** How often the process's descriptors are read while watching for a freed slot. */
const WATCH_EVERY_MS = 5;

/** The lowest descriptor number the process does not use: with RLIMIT_NOFILE there, its next open fails. */
export function lowestFreeFd(pid: number): number {
  const used = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
  let n = 0;
  while (used.has(n)) n++;
  return n;
}

function setLimit(pid: number, n: number): void {
  const r = spawnSync('prlimit', [`--pid=${pid}`, `--nofile=${n}:${n}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new LabError(`prlimit failed: ${r.stderr.trim()}`);
}

/**
 * Caps the process's descriptors at once, then keeps every slot below the cap in use for `watchMs`,
 * or until the process is gone (Warden may repair it meanwhile: the new one starts uncapped).
 */
export async function capFds(pid: number, watchMs: number): Promise<void> {
  let limit = lowestFreeFd(pid);
  setLimit(pid, limit);
  const until = performance.now() + watchMs;
  while (performance.now() < until) {
    await sleep(WATCH_EVERY_MS);
    try {
      const free = lowestFreeFd(pid);
      if (free < limit) {
        limit = free;
        setLimit(pid, limit);
      }
    } catch (e) {
      if (existsSync(`/proc/${pid}`)) throw e;
      return;
    }
  }
}
