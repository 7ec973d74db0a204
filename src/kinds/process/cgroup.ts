// One cgroup per `kind: process` service, so a stop or restart kills everything the service
// started. A process group is not enough: a child that calls setsid() leaves it, and outlived
// every stop (a worker of the old run kept serving beside the new one). A cgroup cannot be left
// without privileges its members do not have, and everything a member forks is born in it.
//
// Membership is all that is used: no controller is configured, so any writable hierarchy serves —
// cgroup v2 where Warden's own group is writable (delegated), else a v1 `pids` or `freezer`
// hierarchy. Where none is (Warden unprivileged, or a unit with ProtectControlGroups=), stops
// fall back to the process group alone, said once in the log and in `warden doctor`.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleepOn, type Clock } from '../../lib/clock.js';
import { errorText } from '../../lib/errors.js';
import { readProcStat } from '../../lib/proc.js';

export type CgroupKind = 'v2' | 'pids' | 'freezer';
const ORDER: readonly CgroupKind[] = ['v2', 'pids', 'freezer'];

/** A hierarchy Warden can write: where its own processes are, and its parent group for services. */
export interface CgroupSetup {
  kind: CgroupKind;
  /** Warden's own group (its cgroup.procs takes Warden back after a spawn). */
  own: string;
  /** `warden-<instanceId>` under `own`: one child group per service. */
  parent: string;
}

export type CgroupFinding = { usable: true; setup: CgroupSetup; detail: string } | { usable: false; detail: string };

/** What a stop that finds nothing cgroup-wide falls back to, in the words both log and doctor use. */
export const FALLBACK = 'services are stopped by process group only: a process of theirs that calls setsid() survives a stop or restart';

interface Mount { kind: CgroupKind; root: string; point: string }

/** The cgroup mounts in /proc/self/mountinfo that can hold services: cgroup2, and v1 pids or freezer. */
function mounts(mountinfo: string): Mount[] {
  const out: Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    // id parent dev root mountpoint options [optional...] - fstype source superoptions
    const [left = '', right = ''] = line.split(' - ');
    const f = left.split(' ');
    const [fstype, , superopts = ''] = right.split(' ');
    const root = f[3];
    const point = f[4];
    if (root === undefined || point === undefined) continue;
    const unescaped = point.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (fstype === 'cgroup2') out.push({ kind: 'v2', root, point: unescaped });
    else if (fstype === 'cgroup') {
      const opts = superopts.split(',');
      for (const k of ['pids', 'freezer'] as const) if (opts.includes(k)) out.push({ kind: k, root, point: unescaped });
    }
  }
  return out;
}

/** This process's group in each hierarchy, from /proc/self/cgroup ("0::/path", "8:pids:/path"). */
function ownPaths(cgroup: string): Map<CgroupKind, string> {
  const out = new Map<CgroupKind, string>();
  for (const line of cgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m === null) continue;
    const [, id, controllers = '', path = ''] = m;
    if (id === '0' && controllers === '') out.set('v2', path);
    for (const k of ['pids', 'freezer'] as const) if (controllers.split(',').includes(k)) out.set(k, path);
  }
  return out;
}

export interface FindOptions {
  /** Contents of /proc/self/mountinfo and /proc/self/cgroup (read from /proc by default). */
  mountinfo?: string;
  cgroup?: string;
  /** Which kinds to consider, in order of preference (tests pin one). */
  order?: readonly CgroupKind[];
}

/**
 * The first usable hierarchy, looked at without changing anything: Warden's own group there must
 * exist and be writable (for v2 also its cgroup.procs: moving a process between two groups needs
 * write access to their common ancestor's, which is Warden's own group).
 */
export function findHierarchy(instanceId: string, opts: FindOptions = {}): CgroupFinding {
  let mountinfo: string;
  let cgroup: string;
  try {
    mountinfo = opts.mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
    cgroup = opts.cgroup ?? readFileSync('/proc/self/cgroup', 'utf8');
  } catch (e) {
    return { usable: false, detail: `cannot read /proc/self: ${errorText(e)}; ${FALLBACK}` };
  }
  const all = mounts(mountinfo);
  const own = ownPaths(cgroup);
  const why: string[] = [];
  for (const kind of opts.order ?? ORDER) {
    const name = kind === 'v2' ? 'cgroup v2' : `cgroup v1 ${kind}`;
    const mount = all.find((m) => m.kind === kind);
    const path = own.get(kind);
    if (mount === undefined || path === undefined) {
      why.push(`${name} is not mounted`);
      continue;
    }
    // Inside a cgroup namespace the mount's root and our path are both relative to it.
    const rel = mount.root === '/' ? path : path.startsWith(mount.root) ? path.slice(mount.root.length) : null;
    if (rel === null) {
      why.push(`${name}: Warden's group ${path} is outside the mount at ${mount.point}`);
      continue;
    }
    const dir = join(mount.point, rel).replace(/(.)\/+$/, '$1');
    const denied = unwritable(kind === 'v2' ? [dir, join(dir, 'cgroup.procs')] : [dir]);
    if (denied !== null) {
      why.push(`${name}: ${denied}`);
      continue;
    }
    const setup = { kind, own: dir, parent: join(dir, `warden-${instanceId}`) };
    return { usable: true, setup, detail: `${name}: each service in a group of its own under ${setup.parent}; a stop or restart kills the whole group` };
  }
  return { usable: false, detail: `no cgroup hierarchy Warden can write (${why.join('; ')}); ${FALLBACK}` };
}

function unwritable(paths: string[]): string | null {
  for (const p of paths) {
    try {
      accessSync(p, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return `${p} is ${code === 'EROFS' ? 'read-only (ProtectControlGroups=, or a container)' : code === 'ENOENT' ? 'missing' : `not writable by this user (${code ?? errorText(e)})`}`;
    }
  }
  return null;
}

/** The ids in a cgroup.procs file; [] when the group does not exist. */
function readPids(file: string): number[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l !== '').map(Number);
}

/** After SIGKILL the members can take a moment (uninterruptible sleep); the stop waits this long. */
const KILL_WAIT_MS = 5000;
const POLL_MS = 20;
/** How long a stop waits for killed members to be reaped before it removes their group. */
const REAP_WAIT_MS = 1000;

export interface KillOptions {
  stopSignal: NodeJS.Signals;
  /** Monotonic time until which members that got the stop signal may exit by themselves. */
  graceEnd: number;
  clock: Clock;
  /** Fired: no more grace, SIGKILL at once. */
  abort?: AbortSignal;
}

/** The services' groups in one hierarchy. Never throws into a start or a stop: a failure is reported
 *  (once) through `onError` and the service runs on in Warden's own group, as without cgroups. */
export class ServiceCgroups {
  private broken: string | null = null;

  constructor(readonly setup: CgroupSetup, private readonly onError: (err: unknown) => void) {}

  /** Why it stopped being used (a write refused at run time), or null while it works. */
  get failure(): string | null {
    return this.broken;
  }

  private dir(service: string): string {
    // Prefixed: a service may be called `tasks` or `cgroup.procs`, which name control files.
    return join(this.setup.parent, `svc-${service}`);
  }

  /**
   * Runs `spawn` with Warden itself moved into the service's group, then moves Warden back. The
   * child is born in the group: writing its pid after spawn would leave a gap, since spawn returns
   * only after the exec, and by then a `sh -c "setsid worker &"` may already have forked. Node
   * spawns synchronously on this thread, so no other child of Warden's is started in between, and
   * a stop (which kills the group) cannot run while Warden is in it. Two writes of ≈0.1 ms.
   */
  spawnInto<T>(service: string, spawn: () => T): T {
    if (this.broken !== null) return spawn();
    try {
      // Not `recursive`: Node's recursive mkdir never returns on some pseudo-filesystems (/proc).
      for (const d of [this.setup.parent, this.dir(service)]) mkdirExisting(d);
      writeFileSync(join(this.dir(service), 'cgroup.procs'), String(process.pid));
    } catch (e) {
      this.fail(`cannot put ${service} in its cgroup ${this.dir(service)}: ${errorText(e)}`, e);
      return spawn();
    }
    try {
      return spawn();
    } finally {
      try {
        writeFileSync(join(this.setup.own, 'cgroup.procs'), String(process.pid));
      } catch (e) {
        // Warden stays in the service's group; kill() spares Warden's own pid, so a stop stays safe.
        this.fail(`cannot move Warden back to ${this.setup.own} after starting ${service}: ${errorText(e)}`, e);
      }
    }
  }

  /** The live processes in the service's group (never Warden itself). */
  members(service: string): number[] {
    return readPids(join(this.dir(service), 'cgroup.procs')).filter((pid) => {
      if (pid === process.pid) return false;
      const st = readProcStat(pid);
      return st !== null && st.state !== 'Z' && st.state !== 'X';
    });
  }

  /**
   * Stops every member: the stop signal (and SIGCONT) now, SIGKILL once the grace ends, then waits
   * until the group is empty and removes it. Returns the pids found at first; [] when none were.
   */
  async kill(service: string, o: KillOptions): Promise<number[]> {
    const found = this.members(service);
    if (found.length > 0) {
      for (const pid of found) for (const sig of [o.stopSignal, 'SIGCONT'] as const) signal(pid, sig);
      while (o.clock.mono() < o.graceEnd && o.abort?.aborted !== true && this.members(service).length > 0) await sleepOn(o.clock, POLL_MS);
      const killEnd = o.clock.mono() + KILL_WAIT_MS;
      // Again and again: a member may fork between the listing and its SIGKILL; its child is born
      // in the group and is listed next round. A killed process forks no more, so this ends.
      for (let left = this.members(service); left.length > 0 && o.clock.mono() < killEnd; left = this.members(service)) {
        this.killAll(service, left);
        await sleepOn(o.clock, POLL_MS);
      }
      const stuck = this.members(service);
      if (stuck.length > 0) this.onError(new Error(`${service}: pid ${stuck.join(', ')} still in its cgroup ${this.dir(service)} ${KILL_WAIT_MS} ms after SIGKILL`));
      // A killed member stays listed (v1) until its parent reaps it, and a listed group cannot be
      // removed: give the reaping a moment, so the stop leaves no empty group behind.
      const reapEnd = o.clock.mono() + REAP_WAIT_MS;
      while (readPids(join(this.dir(service), 'cgroup.procs')).some((pid) => pid !== process.pid) && o.clock.mono() < reapEnd) await sleepOn(o.clock, POLL_MS);
    }
    this.remove(service);
    return found;
  }

  private killAll(service: string, pids: number[]): void {
    // v2 kills the whole group at once (Linux 5.14+), unless Warden itself is in it.
    const all = join(this.dir(service), 'cgroup.kill');
    if (this.setup.kind === 'v2' && existsSync(all) && !readPids(join(this.dir(service), 'cgroup.procs')).includes(process.pid)) {
      try {
        writeFileSync(all, '1');
        return;
      } catch {
        // Fall through to one signal per member.
      }
    }
    for (const pid of pids) signal(pid, 'SIGKILL');
  }

  /** Removes the service's group if it is empty (a start makes it again). */
  remove(service: string): void {
    try {
      rmdirSync(this.dir(service));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOENT: never made; EBUSY: still has members (a later stop tries again).
      if (code !== 'ENOENT' && code !== 'EBUSY') this.onError(new Error(`cannot remove the cgroup ${this.dir(service)}: ${errorText(e)}`, { cause: e }));
    }
  }

  private fail(message: string, cause: unknown): void {
    if (this.broken !== null) return;
    this.broken = message;
    this.onError(new Error(`${message}; no longer using cgroups: ${FALLBACK}`, { cause }));
  }
}

function mkdirExisting(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone.
  }
}

/** The service cgroups of this instance, or null with the reason (for the log and doctor). */
export function serviceCgroups(instanceId: string, onError: (err: unknown) => void, opts?: FindOptions): { cgroups: ServiceCgroups | null; detail: string } {
  const found = findHierarchy(instanceId, opts);
  return { cgroups: found.usable ? new ServiceCgroups(found.setup, onError) : null, detail: found.detail };
}
