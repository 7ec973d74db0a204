// Linux /proc helpers. Every reader returns null (or []) when the process is gone or unreadable,
// because a process can vanish between any two reads and callers must treat that as "not there".
// Except when Warden itself is out of file descriptors (EMFILE, ENFILE): then nothing was learned
// about the process, and reading that as "gone" once recorded exits that never happened and
// started second copies. Such a read throws; callers skip or fail what they were doing.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { isFdShortage } from './errors.js';

export interface ProcStat {
  /** State letter: R, S, D, T, t, Z, X, I, ... */
  state: string;
  ppid: number;
  /** Process group id (field 5): lets callers signal a group only when the pid leads it. */
  pgrp: number;
  /** Field 22: clock ticks since boot. Together with the pid it identifies one process. */
  startTime: number;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    return unlessShort(e);
  }
}

/** null ("not there") for any failure but a descriptor shortage, which is rethrown. */
function unlessShort(e: unknown): null {
  if (isFdShortage(e)) throw e;
  return null;
}

export function readProcStat(pid: number): ProcStat | null {
  const text = readText(`/proc/${pid}/stat`);
  if (text === null) return null;
  // The command name (field 2) is in parentheses and may itself contain spaces and ')'; the
  // fields after the last ')' are plain numbers/letters.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  const startTime = Number(rest[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(startTime)) return null;
  return { state, ppid, pgrp, startTime };
}

/** argv as the process sees it. Processes may rewrite it (redis-server does: see cmdlineMatches). */
export function readCmdline(pid: number): string[] | null {
  const text = readText(`/proc/${pid}/cmdline`);
  // Kernel threads and zombies have an empty cmdline: no argv to compare.
  if (text === null || text === '') return null;
  // Strip exactly one terminating NUL so that a real trailing empty argument (`--save ""`) stays.
  const body = text.endsWith('\0') ? text.slice(0, -1) : text;
  return body.split('\0');
}

export function readEnviron(pid: number): Record<string, string> | null {
  const text = readText(`/proc/${pid}/environ`);
  if (text === null) return null;
  const env: Record<string, string> = {};
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Where a process's file descriptor points ("/path/file", "pipe:[123]", "/path (deleted)"). */
export function readFd(pid: number, fd: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch (e) {
    return unlessShort(e);
  }
}

export function listPids(): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch (e) {
    unlessShort(e);
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    if (/^\d+$/.test(name)) pids.push(Number(name));
  }
  return pids;
}

/**
 * True when the process with this pid is the one that started at `startTime` (a reused pid has a
 * different start time) and has not exited (a zombie has exited; it only waits to be reaped).
 */
export function isAlive(pid: number, startTime: number): boolean {
  const stat = readProcStat(pid);
  return stat !== null && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/** Boot time in ms since the epoch (btime in /proc/stat), for turning start ticks into a time. */
export function bootTimeMs(): number | null {
  const text = readText('/proc/stat');
  const m = text === null ? null : /^btime (\d+)$/m.exec(text);
  return m?.[1] === undefined ? null : Number(m[1]) * 1000;
}

/**
 * Clock ticks per second as /proc reports them (USER_HZ). It is 100 on every architecture Linux
 * runs Node on; Node cannot call sysconf(_SC_CLK_TCK), so it is a constant here.
 */
export const USER_HZ = 100;

/** Wall-clock start of a process from its stat start ticks, to ±10 ms; null when unknown. */
export function processStartMs(startTime: number): number | null {
  const boot = bootTimeMs();
  return boot === null ? null : boot + Math.round((startTime * 1000) / USER_HZ);
}
