// The process supervisor for `kind: process`: Warden starts and stops these services itself (like
// Monit), sees their exits the moment they happen, and finds them again after its own restart.
import { isFdShortage, WardenError } from '../../lib/errors.js';
import { logError } from '../../lib/log.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExitRecord, ProcessState, ServiceSpec } from '../../domain/types.js';
import { sleepOn, type Clock, type TimerHandle } from '../../lib/clock.js';
import { isAlive, listPids, processStartMs, readCmdline, readProcStat } from '../../lib/proc.js';
import { cmdlineMatches, findByArgv, leftoverMembers, MARKER_ENV, markerOf, pickMarked, scanMarked, signalGroup, type Marked } from './find.js';
import type { ActOptions } from '../driver.js';
import { faultPoint } from '../../lib/fault.js';
import { logFileOf, tailLines } from './logs.js';
import { LogCollectorClient } from './collector.js';
import { KeyedSerial } from '../../lib/serial.js';
import { childEnv } from '../../lib/childenv.js';
import { serviceCgroups, type ServiceCgroups } from './cgroup.js';

export { cmdlineMatches, MARKER_ENV } from './find.js';

export interface ProcessRecord {
  service: string; pid: number; procStart: number; startedAt: number; argv: string[];
  /** The action that started it (the id its marker carries); null or absent when unknown or none. */
  actionId?: string | null;
}

/** Durable memory of what Warden started (the Store implements it), so a restarted Warden can
 *  find its processes instead of starting duplicates. */
export interface ProcessRegistry {
  putProcess(p: ProcessRecord): void;
  getProcess(service: string): ProcessRecord | null;
  deleteProcess(service: string): void;
  addExit(service: string, e: ExitRecord): void;
  recentExits(service: string, limit?: number): ExitRecord[];
}

const EXITS_SHOWN = 20;
/** Adopted processes (not our children: no exit event) checked in /proc per poll tick. */
const ADOPTED_PER_TICK = 500;
/** After SIGKILL a process can still take a moment (uninterruptible sleep); give up after this. */
const KILL_WAIT_MS = 5000;

export class SpawnError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    // Out of file descriptors, a later attempt may well succeed; any other failure to start will not.
    super('SPAWN_FAILED', message, { cause: options?.cause, retryable: isFdShortage(options?.cause) });
  }
}

export interface SupervisorOptions {
  dataDir: string;
  instanceId: string;
  /** The kernel's boot id: exits are stamped on monotonic time with it (crash-loop windows). */
  boot?: string;
  registry: ProcessRegistry;
  clock: Clock;
  onExit: (service: string, exit: ExitRecord) => void;
  /** How often adopted processes (not our children: no exit event) are checked in /proc. */
  pollMs?: number;
  /** Where errors in callbacks and log rotation go; supervision keeps going either way. */
  onError?: (err: unknown) => void;
  /** Each service's cgroup (cgroup.ts); found on the host when absent, none when null. */
  cgroups?: ServiceCgroups | null;
}

interface Watch {
  pid: number;
  procStart: number;
  startedAt: number | null;
  /** Monotonic time of the start, when Warden spawned it (unknown for an adopted process). */
  startedMono: number | null;
  argv: string[];
  /** Our own child: its 'exit' event reports the exit. */
  child: ChildProcess | null;
  /** An adopted process: polled in /proc (by the supervisor's one shared timer). */
  poll: boolean;
  /** Resolves once the exit has been recorded. */
  exited: Promise<void>;
  markExited: () => void;
  /** Set while Warden itself stops the process: that exit is not a crash. */
  stopping: boolean;
  /** The state letter of the last /proc read (null: never read). */
  lastState: string | null;
  /** Monotonic time of the first read that showed `lastState` (how long it has been stopped, say). */
  lastStateSince?: number;
  /** The action that started it (ProcessState.startedBy): null none, undefined unknown. */
  startedBy: string | null | undefined;
  /** It leads its own process group (always, when Warden spawned it): the group is signalled too. */
  leader: boolean;
}


export class ProcessSupervisor {
  private readonly watched = new Map<string, Watch>();
  private readonly spawnErrors = new Map<string, string>();
  /** Process groups whose leader is gone and which may still have members: stopped before the
   *  service starts again, or when it is stopped (a `sh -c "worker & wait"` killed at the shell). */
  private readonly leftovers = new Map<string, { pgid: number; leaderStart: number }>();
  /** Services whose start command exited 0 and left a process of theirs running (ProcessState.daemonized). */
  private readonly daemonized = new Map<string, { pid: number; command: string; startTime: number }>();
  /** Recent exits per service (the registry's, cached: a pass must not query each service's). */
  private readonly exits = new Map<string, ExitRecord[]>();
  /** Where the next poll of adopted processes starts (they are polled in slices). */
  private pollCursor = 0;
  /** The last poll could not read /proc (a descriptor shortage), already reported. */
  private pollShort = false;
  /** Per-service tail of the start/stop chain: operations on one service never interleave. */
  private readonly serially = new KeyedSerial();
  private readonly pollMs: number;
  private pollTimer: TimerHandle | undefined;
  private readonly onError: (err: unknown) => void;
  private disposed = false;
  private readonly logs: LogCollectorClient;
  private readonly cgroups: ServiceCgroups | null;
  /** Which cgroup hierarchy holds the services, or why none does: said once at start-up. */
  readonly cgroupDetail: string;

  constructor(private readonly opts: SupervisorOptions) {
    this.pollMs = opts.pollMs ?? 100;
    this.onError = opts.onError ?? logError('process supervisor');
    this.logs = new LogCollectorClient(join(opts.dataDir, 'logs'), this.onError);
    const found = opts.cgroups !== undefined
      ? { cgroups: opts.cgroups, detail: opts.cgroups === null ? 'cgroups not used' : `cgroup ${opts.cgroups.setup.kind} under ${opts.cgroups.setup.parent}` }
      : serviceCgroups(opts.instanceId, this.onError);
    this.cgroups = found.cgroups;
    this.cgroupDetail = found.detail;
  }

  logFile(service: string): string {
    return logFileOf(this.opts.dataDir, service);
  }

  logTail(service: string, lines = 50): string[] {
    // Look back through up to 5 rotated files; which logKeep applies is not known here.
    return tailLines(this.logFile(service), lines, 5);
  }

  /** Give the log collector each process service's limits (at start and on reload). */
  configureLogs(specs: readonly ServiceSpec[]): void {
    this.logs.configure(specs);
  }

  /** Bring the log collector back if it is gone (on a timer: it also serves services between starts). */
  tendLogs(): void {
    this.logs.tend();
  }

  /**
   * Read fresh by default: a process can be stopped (T) or dead a moment after the last event.
   * `cached` skips /proc for our own children (their exit is an event; the state letter is the last
   * one read): the steady state of a large inventory must not read /proc per service per pass.
   */
  state(service: string, opts: { cached?: boolean } = {}): ProcessState {
    const w = this.watched.get(service);
    const cached = opts.cached === true && w !== undefined && w.child !== null && w.lastState !== null;
    const stat = w === undefined ? null : cached ? { startTime: w.procStart, state: w.lastState! } : readProcStat(w.pid);
    if (w !== undefined && stat !== null && !cached && stat.state !== w.lastState) {
      w.lastState = stat.state;
      w.lastStateSince = this.opts.clock.mono();
    }
    const alive = w !== undefined && stat !== null && stat.startTime === w.procStart && stat.state !== 'Z' && stat.state !== 'X';
    return {
      running: alive,
      // Dead (a zombie, or gone) but its exit not recorded yet: it ran, so it is not "never started".
      ...(w !== undefined && !alive ? { exitPending: true } : {}),
      ...(!alive ? this.daemonOf(service) : {}),
      pid: alive ? w.pid : null,
      startedAt: alive ? w.startedAt : null,
      startedMono: alive ? w.startedMono : null,
      procState: alive ? stat.state : null,
      ...(alive && w.lastStateSince !== undefined && stat.state === w.lastState ? { procStateSince: w.lastStateSince } : {}),
      spawnError: this.spawnErrors.get(service) ?? null,
      exits: this.exitsOf(service),
      ...(alive && w.startedBy !== undefined ? { startedBy: w.startedBy } : {}),
    };
  }

  /** The daemon a clean exit left running, for as long as that very process runs. */
  private daemonOf(service: string): { daemonized?: { pid: number; command: string } } {
    const d = this.daemonized.get(service);
    if (d === undefined) return {};
    if (!isAlive(d.pid, d.startTime)) {
      this.daemonized.delete(service);
      return {};
    }
    return { daemonized: { pid: d.pid, command: d.command } };
  }

  /** Recent exits, newest first: read from the registry once, then again only after an exit. */
  private exitsOf(service: string): ExitRecord[] {
    let exits = this.exits.get(service);
    if (exits === undefined) {
      exits = this.opts.registry.recentExits(service, EXITS_SHOWN);
      this.exits.set(service, exits);
    }
    return exits;
  }

  adopt(services: ServiceSpec[]): { adopted: string[]; gone: string[] } {
    const adopted: string[] = [];
    const gone: string[] = [];
    let marked: Map<string, Marked[]> | null = null;
    for (const spec of services) {
      const name = spec.name;
      const current = this.watched.get(name);
      if (current !== undefined && isAlive(current.pid, current.procStart)) {
        adopted.push(name);
        continue;
      }
      const rec = this.opts.registry.getProcess(name);
      // Same pid and same start time: the same process (a reused pid starts later).
      if (rec !== null && isAlive(rec.pid, rec.procStart)) {
        this.watchAdopted(name, rec, rec.actionId ?? null);
        adopted.push(name);
        continue;
      }
      // Warden may have died between spawn and putProcess: look for the marker it gave the child.
      marked ??= scanMarked(this.opts.instanceId, this.opts.dataDir);
      // Last, a process running exactly this argv that Warden did not start (started by hand, or
      // a peer Warden): adopt it rather than start a duplicate that would fight it for its port.
      // One found by its marker is recorded with the action id the marker carries; one found by
      // argv alone was started by no action of ours.
      const found = pickMarked(marked.get(name) ?? [], spec.start) ?? { ...findByArgv(spec.start), actionId: null };
      if (found.pid !== undefined && found.startTime !== undefined) {
        const startedAt = processStartMs(found.startTime) ?? this.opts.clock.now();
        const record = { service: name, pid: found.pid, procStart: found.startTime, startedAt, argv: spec.start, actionId: found.actionId ?? null };
        this.opts.registry.putProcess(record);
        this.watchAdopted(name, record, found.actionId);
        adopted.push(name);
      } else if (rec !== null) {
        // It exited while Warden was away. When and how are unknown, but the exit is recorded: a
        // service that ran and died is an incident, not a service that was never started.
        this.opts.registry.deleteProcess(name);
        // Whatever it started may still run in its group (Warden spawned it as a group leader).
        this.leftovers.set(name, { pgid: rec.pid, leaderStart: rec.procStart });
        this.opts.registry.addExit(name, { at: this.opts.clock.now(), code: null, signal: null, uptimeMs: null });
        this.exits.delete(name);
        gone.push(name);
      }
    }
    return { adopted, gone };
  }

  // An aborted operation (opts.signal) starts nothing new: one still queued behind another never
  // runs, a stop cut short finishes with SIGKILL at once, and a restart so cut short does not start.

  start(spec: ServiceSpec, opts: ActOptions = {}): Promise<{ pid: number }> {
    return this.serially.run(spec.name, () => this.startNow(spec, opts));
  }

  stop(spec: ServiceSpec, opts: ActOptions = {}): Promise<void> {
    return this.serially.run(spec.name, () => this.stopNow(spec, opts.signal));
  }

  restart(spec: ServiceSpec, opts: ActOptions = {}): Promise<{ pid: number }> {
    return this.serially.run(spec.name, async () => {
      await this.stopNow(spec, opts.signal);
      return this.startNow(spec, opts);
    });
  }

  /** Stop watching. The services keep running: Warden stopping is not a reason for them to stop. */
  dispose(): void {
    this.disposed = true;
    this.opts.clock.clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    for (const w of this.watched.values()) {
      if (w.child !== null) {
        w.child.removeAllListeners('exit');
        // Let this process exit while the child runs on.
        w.child.unref();
      }
    }
    this.watched.clear();
    this.logs.dispose();
  }



  private async startNow(spec: ServiceSpec, opts: ActOptions): Promise<{ pid: number }> {
    if (this.disposed) throw new Error('process supervisor is disposed');
    opts.signal?.throwIfAborted();
    const name = spec.name;
    const w = this.watched.get(name);
    if (w !== undefined) {
      if (isAlive(w.pid, w.procStart)) return { pid: w.pid };
      // Dead but its exit not yet seen: record that exit before a new process takes the slot.
      await this.waitGone(w, this.pollMs * 2 + 100);
      this.recordExit(name, w, null, null);
    }
    // stdout and stderr go into the service's FIFO, read by the log collector, which outlives
    // Warden. Prepared first, so that even a start that fails here leaves its reason in the log.
    let pipe: string;
    try {
      pipe = await this.logs.prepare(name);
    } catch (err) {
      throw this.spawnFailed(name, `cannot make the log pipe of ${name}: ${errText(err)}`, err);
    }
    await this.stopLeftovers(spec, opts.signal);
    await this.stopEscaped(spec, opts.signal);
    const [file, ...args] = spec.start;
    if (file === undefined) throw this.spawnFailed(name, 'start argv is empty');
    if (!isDirectory(spec.cwd)) throw this.spawnFailed(name, `cwd ${spec.cwd} is not a directory`);
    this.logs.note(name, `starting: ${spec.start.join(' ')}`);
    let fd: number;
    try {
      // Read-write, so a write never fails with EPIPE while no collector reads.
      fd = openSync(pipe, constants.O_RDWR);
    } catch (err) {
      throw this.spawnFailed(name, `cannot open the log pipe ${pipe}: ${errText(err)}`, err);
    }
    let child: ChildProcess;
    try {
      // The last moment an aborted attempt can still start nothing; once spawned, the effect is done.
      opts.signal?.throwIfAborted();
      faultPoint('before-spawn');
      const env = childEnv({ ...spec.env, [MARKER_ENV]: markerOf(this.opts.instanceId, name, opts.actionId) });
      // detached: its own session and process group, so it survives Warden and a stop can signal
      // everything it started.
      const run = (): ChildProcess => spawn(file, args, { cwd: spec.cwd, env, detached: true, stdio: ['ignore', fd, fd] });
      // Born in the service's cgroup, so nothing it forks can slip out before it is put there.
      child = this.cgroups === null ? run() : this.cgroups.spawnInto(name, run);
    } catch (err) {
      if (opts.signal?.aborted === true && err === opts.signal.reason) throw err;
      throw this.spawnFailed(name, errText(err), err);
    } finally {
      closeSync(fd);
    }
    const pid = child.pid;
    if (pid === undefined) {
      // ENOENT, EACCES, ...: libuv reports the failed exec as an 'error' event.
      const err = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw this.spawnFailed(name, err.message, err);
    }
    // Recorded before anything else can run: the child cannot have been reaped yet (that happens
    // on the event loop), so its /proc entry is there to read.
    faultPoint('after-spawn');
    const procStart = this.identify(name, pid);
    const startedAt = this.opts.clock.now();
    const actionId = opts.actionId ?? null;
    this.opts.registry.putProcess({ service: name, pid, procStart, startedAt, argv: [...spec.start], actionId });
    faultPoint('after-record');
    this.spawnErrors.delete(name);
    this.daemonized.delete(name);
    const watch = this.newWatch(pid, procStart, startedAt, spec.start, child, actionId, true);
    watch.startedMono = this.opts.clock.mono();
    this.watched.set(name, watch);
    child.on('exit', (code, signal) => this.recordExit(name, watch, code, signal));
    // Errors after a successful spawn (a failed kill) must not become an unhandled 'error' event.
    child.on('error', this.onError);
    return { pid };
  }

  /** The process group first (it honours the stop signal and grace), then the cgroup. */
  private async stopNow(spec: ServiceSpec, signal?: AbortSignal): Promise<void> {
    const graceEnd = await this.stopGroup(spec, signal);
    await this.stopEscaped(spec, signal, graceEnd);
  }

  /** Stops the service's process group; returns when its grace ends, if it was signalled. */
  private async stopGroup(spec: ServiceSpec, signal?: AbortSignal): Promise<number | undefined> {
    signal?.throwIfAborted();
    const w = this.watched.get(spec.name);
    if (w === undefined) {
      await this.stopLeftovers(spec, signal);
      return undefined;
    }
    const stat = readProcStat(w.pid);
    if (stat === null || stat.startTime !== w.procStart) {
      await this.waitGone(w, this.pollMs * 2 + 100);
      this.recordExit(spec.name, w, null, null);
      await this.stopLeftovers(spec, signal);
      return undefined;
    }
    // Signal the whole group only when the service leads it; otherwise a group id could be ours.
    const group = stat.pgrp === w.pid;
    const graceEnd = this.opts.clock.mono() + spec.stopGraceMs;
    w.stopping = true;
    signalGroup(w.pid, group, spec.stopSignal);
    // A stopped (T) process only acts on the signal once continued.
    signalGroup(w.pid, group, 'SIGCONT');
    if (!(await this.waitGone(w, spec.stopGraceMs, signal))) {
      signalGroup(w.pid, group, 'SIGKILL');
      if (!(await this.waitGone(w, KILL_WAIT_MS))) {
        throw Object.assign(new Error(`${spec.name} (pid ${w.pid}) did not exit after SIGKILL`), { code: 'STOP_FAILED' });
      }
    }
    if (!group) return graceEnd;
    // The leader is gone; whatever else it started gets the rest of the grace period, then SIGKILL.
    await this.stopLeftovers(spec, signal, graceEnd);
    return graceEnd;
  }

  /** What left the process group (a child that called setsid()) but not the service's cgroup: the
   *  stop signal, the rest of the grace (a whole one when nothing was signalled yet), SIGKILL. */
  private async stopEscaped(spec: ServiceSpec, signal?: AbortSignal, graceEnd?: number): Promise<void> {
    if (this.cgroups === null) return;
    const clock = this.opts.clock;
    const killed = await this.cgroups.kill(spec.name, { stopSignal: spec.stopSignal, graceEnd: graceEnd ?? clock.mono() + spec.stopGraceMs, clock, abort: signal });
    if (killed.length > 0) this.logs.note(spec.name, `stopped what had left its process group: pid ${killed.join(', ')} in its cgroup`);
  }

  private newWatch(pid: number, procStart: number, startedAt: number | null, argv: string[], child: ChildProcess | null, startedBy: string | null | undefined, leader: boolean): Watch {
    let markExited = (): void => {};
    const exited = new Promise<void>((resolve) => { markExited = resolve; });
    return { pid, procStart, startedAt, startedMono: null, argv: [...argv], child, poll: false, exited, markExited, stopping: false, startedBy, lastState: null, leader };
  }

  /**
   * What is left of a service's previous process group after its leader died: the stop signal, the
   * grace period, then SIGKILL. A group id cannot be reused while a member lives, so a group still
   * alive is the service's own.
   */
  private async stopLeftovers(spec: ServiceSpec, signal?: AbortSignal, signalledUntil?: number): Promise<void> {
    const left = this.leftovers.get(spec.name);
    if (left === undefined) return;
    this.leftovers.delete(spec.name);
    const { pgid, leaderStart } = left;
    const members = leftoverMembers(pgid, leaderStart);
    if (members.length === 0) return;
    // Signalled already when a stop signalled the whole group: then only the rest of its grace.
    let graceEnd = signalledUntil;
    if (graceEnd === undefined) {
      this.logs.note(spec.name, `stopping what is left of its previous run: pid ${members.join(', ')} in process group ${pgid}, whose leader is gone`);
      signalGroup(pgid, true, spec.stopSignal);
      signalGroup(pgid, true, 'SIGCONT');
      graceEnd = this.opts.clock.mono() + spec.stopGraceMs;
    }
    while (this.opts.clock.mono() < graceEnd && signal?.aborted !== true) {
      if (leftoverMembers(pgid, leaderStart).length === 0) return;
      await sleepOn(this.opts.clock, 20);
    }
    signalGroup(pgid, true, 'SIGKILL');
    // Gone before the new run starts: a member still dying can hold the port the new one needs.
    const killEnd = this.opts.clock.mono() + KILL_WAIT_MS;
    while (leftoverMembers(pgid, leaderStart).length > 0 && this.opts.clock.mono() < killEnd) await sleepOn(this.opts.clock, 20);
  }

  private watchAdopted(service: string, rec: ProcessRecord, startedBy: string | null | undefined): void {
    // An adopted process is signalled as a group only if it leads one (Warden's own children do).
    const w = this.newWatch(rec.pid, rec.procStart, rec.startedAt, rec.argv, null, startedBy, readProcStat(rec.pid)?.pgrp === rec.pid);
    // Not our child, so no exit event: poll /proc. One timer serves every adopted process, so a
    // large inventory costs one wake-up per pollMs, not one per service.
    w.poll = true;
    this.watched.set(service, w);
    this.armPoll();
  }

  private pollAdopted(): void {
    this.pollTimer = undefined;
    const adopted = [...this.watched].filter(([, w]) => w.poll);
    if (adopted.length === 0) return;
    // A bounded slice per tick, round robin: 10,000 adopted processes cost ADOPTED_PER_TICK /proc
    // reads per tick (each one seen every N / ADOPTED_PER_TICK ticks), not 100,000 reads a second.
    const n = Math.min(adopted.length, ADOPTED_PER_TICK);
    try {
      for (let i = 0; i < n; i++) {
        const [service, w] = adopted[(this.pollCursor + i) % adopted.length]!;
        if (!isAlive(w.pid, w.procStart)) this.recordExit(service, w, null, null);
      }
      this.pollCursor = (this.pollCursor + n) % Math.max(1, adopted.length);
      this.pollShort = false;
    } catch (err) {
      // Out of descriptors: nothing was learned, so nothing is recorded; the next tick reads again.
      // Said once per shortage, not ten times a second.
      if (!this.pollShort) this.onError(new Error(`cannot tell whether adopted processes still run (${errText(err)}); none is counted as exited until /proc can be read`, { cause: err }));
      this.pollShort = true;
    }
    this.armPoll();
  }

  /** A timeout chain on the clock rather than an interval: re-armed only while something is adopted. */
  private armPoll(): void {
    if (this.pollTimer !== undefined || this.disposed) return;
    this.pollTimer = this.opts.clock.setTimeout(() => this.pollAdopted(), this.pollMs);
  }

  /** Record one exit exactly once: registry first, so onExit's reader already sees it. */
  private recordExit(service: string, w: Watch, code: number | null, signal: string | null): void {
    if (this.watched.get(service) !== w) return;
    this.watched.delete(service);
    const at = this.opts.clock.now();
    // Uptime on monotonic time when Warden saw the start; an adopted process only has a wall estimate.
    // Whole milliseconds: a monotonic difference has fractions nobody reads ("after 671.597000000067 ms").
    const uptimeMs = w.startedMono !== null ? Math.round(this.opts.clock.mono() - w.startedMono) : w.startedAt === null ? null : Math.max(0, at - w.startedAt);
    const exit: ExitRecord = {
      at, code, signal, uptimeMs, ...(w.stopping ? { byWarden: true } : {}),
      ...(this.opts.boot ? { stamp: { mono: this.opts.clock.mono(), boot: this.opts.boot } } : {}),
    };
    try {
      this.exits.delete(service);
      this.opts.registry.addExit(service, exit);
      if (this.opts.registry.getProcess(service)?.pid === w.pid) this.opts.registry.deleteProcess(service);
    } catch (err) {
      this.onError(err);
    }
    if (w.leader) this.leftovers.set(service, { pgid: w.pid, leaderStart: w.procStart });
    // Its cgroup goes once empty (a group still holding what it started stays for the next stop).
    this.cgroups?.remove(service);
    // A clean exit that leaves a process of the service's own running: it put itself in the
    // background (fork and exit, as daemons do), and restarting it would only start a second copy.
    if (code === 0 && !w.stopping) this.findDaemon(service, w);
    w.markExited();
    try {
      this.opts.onExit(service, exit);
    } catch (err) {
      this.onError(err);
    }
  }

  /**
   * The oldest live process the exited one left behind: one carrying the service's mark, or one
   * started during its run that runs the same program (a daemon that rewrote its title, like
   * redis-server, has overwritten its environment, and points its stdout at /dev/null).
   */
  private findDaemon(service: string, w: Watch): void {
    try {
      const marked = new Set((scanMarked(this.opts.instanceId, this.opts.dataDir).get(service) ?? []).map((m) => m.pid));
      // Another service's process is never this one's daemon, whatever its command line.
      const others = new Set([...this.watched.values()].map((x) => x.pid));
      const left = listPids()
        .filter((pid) => pid !== w.pid && pid !== process.pid && !others.has(pid))
        .map((pid) => ({ pid, stat: readProcStat(pid) }))
        .filter((m) => m.stat !== null && m.stat.state !== 'Z' && m.stat.state !== 'X' && m.stat.startTime >= w.procStart)
        .filter((m) => marked.has(m.pid) || (cmdlineMatches(readCmdline(m.pid) ?? [], w.argv) && descendsFrom(m.pid, w)))
        .sort((a, b) => a.stat!.startTime - b.stat!.startTime || a.pid - b.pid)[0];
      if (left !== undefined) this.daemonized.set(service, { pid: left.pid, command: (readCmdline(left.pid) ?? []).join(' ').trim(), startTime: left.stat!.startTime });
    } catch (err) {
      this.onError(err);
    }
  }

  /** True once the watch's exit is recorded, false when `ms` passed (or `signal` fired) first. */
  private async waitGone(w: Watch, ms: number, signal?: AbortSignal): Promise<boolean> {
    let timer: TimerHandle | undefined;
    let stop = (): void => {};
    const timeout = new Promise<false>((resolve) => {
      stop = () => resolve(false);
      timer = this.opts.clock.setTimeout(stop, ms);
      if (signal?.aborted === true) stop();
      else signal?.addEventListener('abort', stop, { once: true });
    });
    try {
      return await Promise.race([w.exited.then(() => true as const), timeout]);
    } finally {
      this.opts.clock.clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    }
  }

  /**
   * A new child's start time, its identity from now on. Unreadable for want of a descriptor, the
   * child is killed before anything else runs and the start fails (retried, as a shortage is): kept
   * under a wrong identity, it would later read as exited and be started a second time.
   */
  private identify(service: string, pid: number): number {
    try {
      return readProcStat(pid)?.startTime ?? -1;
    } catch (err) {
      signalGroup(pid, true, 'SIGKILL');
      throw this.spawnFailed(service, `started pid ${pid} but could not read its identity (${errText(err)}); killed it`, err);
    }
  }

  private spawnFailed(service: string, message: string, cause?: unknown): SpawnError {
    this.spawnErrors.set(service, message);
    // When the log directory itself is the problem, the note is lost; the error is reported anyway.
    this.logs.note(service, `start failed: ${message}`);
    return new SpawnError(`cannot start ${service}: ${message}`, { cause });
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Whether an unmarked process that runs the service's program came from the exited start command,
 * not from someone else who happens to run the same program (another supervisor, a shell). Walk
 * up its parents: the start command's processes lead to the start command itself or, orphaned, to
 * whoever adopts orphans (Warden, an ancestor of Warden's that is a subreaper, or init). A parent
 * older than the start command that is none of these is someone else's.
 */
function descendsFrom(pid: number, w: { pid: number; procStart: number }): boolean {
  const adopters = new Set([w.pid, process.pid, 1]);
  for (let p = process.ppid; p > 1 && !adopters.has(p); p = readProcStat(p)?.ppid ?? 0) adopters.add(p);
  for (let p = readProcStat(pid)?.ppid ?? 0, hops = 0; p > 0 && hops < 64; p = readProcStat(p)?.ppid ?? 0, hops++) {
    if (adopters.has(p)) return true;
    const stat = readProcStat(p);
    if (stat === null || stat.startTime < w.procStart) return false;
  }
  return false;
}
