// Finding and signalling Warden's processes in /proc: which running process is a service's (after
// Warden restarted and its registry may be behind), and what is left of a process group.
import { realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { listPids, readCmdline, readEnviron, readFd, readProcStat } from '../../lib/proc.js';

/** Set in every child's environment as `<instanceId>/<service>[/<actionId>]`: finds a child the
 *  registry lost (together with the child's stdout, which is the service's log pipe: see
 *  scanMarked), and names the action that started it. */
export const MARKER_ENV = 'WARDEN_INSTANCE';

/** The marker value for a child of this service, started by this action (if any). */
export function markerOf(instanceId: string, service: string, actionId?: string | null): string {
  return actionId ? `${instanceId}/${service}/${actionId}` : `${instanceId}/${service}`;
}

/** A process carrying a service's mark; `actionId` is absent when its mark cannot say (found by
 *  its stdout only: a rewritten title overwrote the environment). */
export interface Marked { pid: number; actionId?: string | null }

/** Whether a running process is this argv. Processes may rewrite their title (redis-server shows
 *  "redis-server 127.0.0.1:6390"), so a rewritten title whose program name matches also counts. */
export function cmdlineMatches(cmdline: string[], argv: string[]): boolean {
  // The program may have been named differently (node vs /usr/bin/node): its base name and the rest.
  const program = argv[0];
  if (program === undefined) return false;
  if (cmdline.length === argv.length && basename(cmdline[0] ?? '') === basename(program) && cmdline.slice(1).every((a, i) => a === argv[i + 1])) return true;
  const title = cmdline[0]?.split(' ')[0];
  const rest = cmdline.slice(1);
  return title !== undefined && rest.every((a) => a === '') &&
    basename(title).replace(/:$/, '') === basename(program);
}

/**
 * Processes that carry a service's mark, by service: the WARDEN_INSTANCE variable in their
 * environment, or stdout open on the service's log pipe under dataDir. Both are needed: a process
 * that rewrites its title (redis-server's setproctitle) overwrites its environment block with it.
 */
export function scanMarked(instanceId: string, dataDir: string): Map<string, Marked[]> {
  const prefix = `${instanceId}/`;
  // /proc shows canonical paths, so compare against the resolved directory.
  const logDir = realDir(join(dataDir, 'logs')) + '/';
  const byService = new Map<string, Marked[]>();
  const add = (service: string, m: Marked): void => {
    byService.set(service, [...(byService.get(service) ?? []), m]);
  };
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const marker = readEnviron(pid)?.[MARKER_ENV];
    if (marker?.startsWith(prefix) === true) {
      // Service names cannot contain '/', so the first one ends the name.
      const [service = '', actionId = null] = marker.slice(prefix.length).split('/', 2);
      add(service, { pid, actionId });
      continue;
    }
    // The service's log pipe (or, started by an older Warden, its log file).
    const stdout = readFd(pid, 1);
    const suffix = ['.pipe', '.log'].find((x) => stdout?.endsWith(x) === true);
    if (stdout?.startsWith(logDir) === true && suffix !== undefined) {
      add(basename(stdout).slice(0, -suffix.length), { pid });
    }
  }
  return byService;
}

/** Of the processes carrying a service's mark, the one Warden spawned: it leads its own group
 *  (its children inherit the mark but not the leadership) and runs the service's argv. */
export function pickMarked(marked: Marked[], argv: string[]): Marked & { startTime: number } | null {
  let best: Marked & { startTime: number } | null = null;
  for (const m of marked) {
    const pid = m.pid;
    const stat = readProcStat(pid);
    if (stat === null || stat.pgrp !== pid || stat.state === 'Z' || stat.state === 'X') continue;
    const cmdline = readCmdline(pid);
    if (cmdline === null || !cmdlineMatches(cmdline, argv)) continue;
    if (best === null || stat.startTime < best.startTime) best = { ...m, startTime: stat.startTime };
  }
  return best;
}

/**
 * The one live process (other than us) running exactly this argv and carrying no Warden's mark
 * (a marked one belongs to some Warden, ours having been looked for already); null if none or
 * several.
 */
export function findByArgv(argv: string[]): { pid: number; startTime: number } | null {
  let found: { pid: number; startTime: number } | null = null;
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    if (readEnviron(pid)?.[MARKER_ENV] !== undefined) continue;
    const cmdline = readCmdline(pid);
    if (cmdline === null || cmdline.length !== argv.length || !cmdlineMatches(cmdline, argv)) continue;
    const stat = readProcStat(pid);
    if (stat === null || stat.state === 'Z' || stat.state === 'X') continue;
    if (found !== null) return null; // ambiguous: adopt nothing rather than the wrong one
    found = { pid, startTime: stat.startTime };
  }
  return found;
}

export function signalGroup(pid: number, group: boolean, signal: NodeJS.Signals): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * The live members of a process group whose leader (started at `leaderStart`, in clock ticks) is
 * gone; [] when there are none or when the group id now belongs to someone else: a process whose
 * pid is the group id (a new leader: ours is dead), or a member older than our leader.
 */
export function leftoverMembers(pgid: number, leaderStart: number): number[] {
  try {
    process.kill(-pgid, 0);
  } catch {
    return []; // the usual case, and a cheap one: no process in the group at all
  }
  const members: { pid: number; start: number }[] = [];
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    if (stat !== null && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push({ pid, start: stat.startTime });
  }
  if (members.some((m) => m.pid === pgid || m.start < leaderStart)) return [];
  return members.map((m) => m.pid);
}

function realDir(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
