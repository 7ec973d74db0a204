// Warden's own file-descriptor limit. Loading its code takes far more descriptors at once than the
// daemon holds at rest (Node's module loader opens every module of a level of the import graph
// together: about 110 here, against about 25 at rest), and below that every command failed with a
// misleading error ("Cannot find package better-sqlite3", "EMFILE ... zod/v4/locales/ro.js") or a
// segmentation fault. bin/warden asks this module, which imports nothing else, before loading the
// rest, so such a limit gets one line that says what to do.
import { readFileSync } from 'node:fs';

/** The least limit Warden loads with, with some room: 111 was the measured minimum (Node 20.20). */
export const LOAD_NOFILE = 128;

export interface NofileLimit {
  soft: number;
  /** Infinity for "unlimited". */
  hard: number;
}

/** This process's RLIMIT_NOFILE from /proc/self/limits; null where that cannot be read. */
export function readNofile(text?: string): NofileLimit | null {
  let body = text;
  try {
    body ??= readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(body);
  if (m?.[1] === undefined || m[2] === undefined) return null;
  const num = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: num(m[1]), hard: num(m[2]) };
}

/**
 * Why Warden cannot run under this limit, in one line, or null when it can. Node raises its soft
 * limit to the hard one as it starts, so the soft limit seen here is all there is.
 */
export function nofileProblem(limit: NofileLimit | null = readNofile()): string | null {
  if (limit === null || limit.soft >= LOAD_NOFILE) return null;
  return `the open-file limit is ${limit.soft} (ulimit -n); Warden needs at least ${LOAD_NOFILE} just to load: raise it (ulimit -n 1024, or LimitNOFILE= in its systemd unit)`;
}
