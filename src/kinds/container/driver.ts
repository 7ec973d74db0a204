// The driver of `kind: container` and `kind: pod`: containers observed with `podman container
// inspect` (one call for every watched container per tick), acted on with podman run/start/stop/
// restart, their healthchecks run by Warden (without systemd, Podman schedules none), their logs
// read with `podman logs`. Every command goes through one Exec, so it can move onto a transport.
import type { ContainerRun, ContainerServiceSpec, ExitRecord, MemberState, PodServiceSpec, ProcessState, ServiceSpec } from '../../domain/types.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import { WardenError } from '../../lib/errors.js';
import { logError } from '../../lib/log.js';
import { KeyedSerial } from '../../lib/serial.js';
import type { ActOptions, ServiceDriver } from '../driver.js';
import { runArgv, seconds } from './args.js';
import { localExec, type Exec, type ExecResult } from './exec.js';
import { exitBetween, factsOf, parseInspect, type ContainerView } from './inspect.js';
import { kernelOomKilled } from './oom.js';
import { podFacts, podState } from './pod.js';
import { podJson, type PodJson } from '../../runtime/pod.js';

export type PodmanSpec = ContainerServiceSpec | PodServiceSpec;

export interface PodmanDriverOptions {
  clock: Clock;
  /** Something about the service changed (state, health, an exit): wake the loop. */
  onChange: (service: string) => void;
  /** One call per exit, after it is in state(spec).exits. */
  onExit: (service: string, exit: ExitRecord) => void;
  onError?: (err: unknown) => void;
  exec?: Exec;
  /** The podman binary. */
  podman?: string;
  /**
   * Where podman runs. conmon (Podman 4) inherits it and drops an "oom" file there when a
   * container is OOM-killed; a directory of Warden's own keeps that out of anyone else's.
   */
  workDir?: string;
  pollMs?: number;
  actionTimeoutMs?: number;
}

/** podman failed; the command and its first line of stderr say why. */
export class PodmanError extends WardenError {
  constructor(argv: readonly string[], res: ExecResult) {
    const first = res.stderr.trim().split('\n').find((l) => !l.includes('level=warning')) ?? '';
    super('PODMAN_FAILED', `${argv.join(' ')} failed (${res.code === null ? 'did not finish' : `status ${res.code}`})${first ? `: ${first}` : ''}`, { retryable: res.code === null });
  }
}

const EXITS_KEPT = 20;
const INSPECT_TIMEOUT_MS = 5000;
const LOGS_TIMEOUT_MS = 3000;
/** A log tail older than this is fetched again in the background when asked for. */
const LOGS_STALE_MS = 1000;
const LOG_LINES = 50;

/** The containers a service is made of, in config order. */
export function containersOf(spec: PodmanSpec): ContainerRun[] {
  return spec.kind === 'container' ? [spec.container] : spec.pod.containers;
}

/** Where a container's or pod's log lines come from, for people. */
export function podmanLogSource(spec: PodmanSpec): string {
  return spec.kind === 'container' ? `podman logs ${spec.container.name}` : `podman pod logs ${spec.pod.name}`;
}

export function isPodman(spec: ServiceSpec): spec is PodmanSpec {
  return spec.kind === 'container' || spec.kind === 'pod';
}

export class PodmanDriver implements ServiceDriver {
  private readonly exec: Exec;
  private readonly podman: string;
  private readonly pollMs: number;
  private readonly actionTimeoutMs: number;
  private readonly onError: (err: unknown) => void;
  private services = new Map<string, PodmanSpec>();
  /** Containers by name, as last inspected; a watched name absent after a good tick is missing. */
  private views = new Map<string, ContainerView>();
  private observed = false;
  /** Containers watched at the last good tick: a run that ended before is not reported as an exit. */
  private watchedAtLastTick = new Set<string>();
  private observeError: string | null = null;
  /** Ids of containers the kernel log shows were OOM-killed (Podman 4 on cgroup v1 cannot say). */
  private readonly kernelOom = new Set<string>();
  private readonly exits = new Map<string, ExitRecord[]>();
  private readonly acting = new Map<string, number>();
  private readonly logs = new Map<string, { lines: string[]; at: number }>();
  private readonly healthRunAt = new Map<string, number>();
  private readonly healthRunning = new Set<string>();
  private readonly signatures = new Map<string, string>();
  private readonly serially = new KeyedSerial();
  private pollChain: Promise<void> = Promise.resolve();
  private timer: TimerHandle | undefined;
  private firstPoll: Promise<void> | null = null;
  private disposed = false;

  constructor(private readonly opts: PodmanDriverOptions) {
    const exec = opts.exec ?? localExec;
    this.exec = opts.workDir === undefined ? exec : (argv, o) => exec(argv, { ...o, cwd: opts.workDir });
    this.podman = opts.podman ?? 'podman';
    this.pollMs = opts.pollMs ?? 250;
    this.actionTimeoutMs = opts.actionTimeoutMs ?? 120_000;
    this.onError = opts.onError ?? logError('podman driver');
  }

  /** Watch these services (those of kind container or pod); the others are ignored. */
  setServices(specs: readonly ServiceSpec[]): void {
    this.services = new Map(specs.filter(isPodman).map((s) => [s.name, s]));
    for (const name of this.exits.keys()) if (!this.services.has(name)) this.exits.delete(name);
    if (this.firstPoll !== null) void this.refresh();
  }

  hasServices(): boolean {
    return this.services.size > 0;
  }

  /** Poll every pollMs until dispose(). Resolves once the first tick is done (state is real). */
  startPolling(): Promise<void> {
    if (this.firstPoll !== null) return this.firstPoll;
    const tick = async (): Promise<void> => {
      await this.refresh();
      // A timeout chain, not setInterval: a slow podman never piles up ticks.
      if (!this.disposed) this.timer = this.opts.clock.setTimeout(() => void tick(), this.pollMs);
    };
    this.firstPoll = tick();
    return this.firstPoll;
  }

  /** One tick now, after any tick in progress. Never rejects. */
  refresh(): Promise<void> {
    const next = this.pollChain.then(() => this.pollOnce()).catch((err: unknown) => this.onError(err));
    this.pollChain = next;
    return next;
  }

  dispose(): void {
    this.disposed = true;
    this.opts.clock.clearTimeout(this.timer);
  }

  state(spec: ServiceSpec): ProcessState {
    const exits = [...(this.exits.get(spec.name) ?? [])];
    const idle: ProcessState = { running: false, pid: null, startedAt: null, procState: null, spawnError: null, exits };
    if (!isPodman(spec)) return { ...idle, unknown: `${spec.name} is not a container or pod` };
    if (this.observeError !== null) return { ...idle, unknown: `cannot observe ${spec.name} through podman: ${this.observeError}` };
    if (!this.observed) return { ...idle, unknown: `${spec.name} not observed yet` };
    const members = containersOf(spec).map((c) => this.member(c));
    const views = containersOf(spec).map((c) => this.views.get(c.name));
    const running = members.every((m) => m.running);
    const unhealthy = members.filter((m) => m.health === 'unhealthy').map((m) => m.name);
    const starts = members.map((m) => m.startedAt).filter((t): t is number => t !== null);
    const only = spec.kind === 'container' ? views[0] : undefined;
    const facts = spec.kind === 'container'
      ? (only ? factsOf(only, this.kernelOom.has(only.id)) : { Container: spec.container.name, Status: 'missing' })
      : podFacts(spec.pod.name, members, views);
    return {
      ...idle,
      running,
      pid: running && only ? only.pid : null,
      startedAt: running && starts.length > 0 ? Math.max(...starts) : null,
      ...(running && unhealthy.length > 0 ? { failing: `healthcheck failing in ${unhealthy.join(', ')} (podman healthcheck)` } : {}),
      facts,
      ...(spec.kind === 'pod' ? { members } : {}),
    };
  }

  /** A pod's section of the diagnostics bundle (null for other kinds), from `proc` as state() gave it. */
  podJson(spec: ServiceSpec, proc: ProcessState, lines: number): PodJson | null {
    if (spec.kind !== 'pod') return null;
    return podJson(spec.pod.name, podState(spec.pod.containers.map((c) => this.member(c))), proc, this.memberLogs(spec, lines));
  }

  start(spec: ServiceSpec, opts: ActOptions = {}): Promise<{ pid: number | null }> {
    return this.act(spec, opts, false, async (s) => {
      if (s.kind === 'pod') await this.ensurePod(s, opts);
      for (const c of containersOf(s)) await this.startContainer(s, c, opts);
    });
  }

  async stop(spec: ServiceSpec, opts: ActOptions = {}): Promise<void> {
    await this.act(spec, opts, true, async (s) => {
      const present = containersOf(s).filter((c) => this.views.get(c.name)?.running === true).map((c) => c.name);
      if (present.length > 0) await this.podmanOk(['stop', '--time', String(seconds(s.stopGraceMs)), ...present], opts);
    });
  }

  /** Restarts every container of the service; `recreate` removes and creates them from the config. */
  restart(spec: ServiceSpec, opts: ActOptions = {}): Promise<{ pid: number | null }> {
    return this.act(spec, opts, true, async (s) => {
      if (opts.recreate) {
        const names = containersOf(s).map((c) => c.name).filter((n) => this.views.has(n));
        if (names.length > 0) await this.podmanOk(['rm', '--force', '--time', String(seconds(s.stopGraceMs)), ...names], opts);
        for (const n of names) this.views.delete(n);
      }
      if (s.kind === 'pod') await this.ensurePod(s, opts);
      const existing = containersOf(s).filter((c) => this.views.has(c.name)).map((c) => c.name);
      if (existing.length > 0) await this.podmanOk(['restart', '--time', String(seconds(s.stopGraceMs)), ...existing], opts);
      for (const c of containersOf(s)) if (!existing.includes(c.name)) await this.startContainer(s, c, opts);
    });
  }

  /** The last lines of the service's output; a pod's lines carry their container's name. */
  logTail(spec: ServiceSpec, lines: number): string[] {
    if (!isPodman(spec) || lines <= 0) return [];
    if (spec.kind === 'container') return this.containerLog(spec.container.name).slice(-lines);
    return spec.pod.containers.flatMap((c) => this.containerLog(c.name).map((l) => `[${c.name}] ${l}`)).slice(-lines);
  }

  /** Each container's last lines (cached; refreshed in the background when older than a second). */
  memberLogs(spec: ServiceSpec, lines: number): Map<string, string[]> {
    if (!isPodman(spec)) return new Map();
    return new Map(containersOf(spec).map((c) => [c.name, lines <= 0 ? [] : this.containerLog(c.name).slice(-lines)]));
  }

  /** Fetch the service's logs now (the CLI, which has no poll loop to have cached them). */
  async refreshLogs(spec: ServiceSpec): Promise<void> {
    if (isPodman(spec)) await Promise.all(containersOf(spec).map((c) => this.fetchLog(c.name)));
  }

  // ---------------------------------------------------------------- observing

  private member(c: ContainerRun): MemberState {
    const v = this.views.get(c.name);
    if (!v) return { name: c.name, state: 'missing', running: false, exitCode: null, health: null, oomKilled: false, restarts: 0, startedAt: null };
    return {
      name: c.name, state: v.status, running: v.running && v.status !== 'paused', exitCode: v.running ? null : v.exitCode,
      health: c.healthcheck === null ? null : v.health, oomKilled: v.oomKilled || this.kernelOom.has(v.id), restarts: v.restarts,
      startedAt: v.running ? v.startedAt : null,
    };
  }

  private watched(): Map<string, { service: PodmanSpec; run: ContainerRun }> {
    const out = new Map<string, { service: PodmanSpec; run: ContainerRun }>();
    for (const s of this.services.values()) for (const c of containersOf(s)) out.set(c.name, { service: s, run: c });
    return out;
  }

  private async pollOnce(): Promise<void> {
    if (this.disposed) return;
    const watched = this.watched();
    if (watched.size === 0) return;
    this.runHealthchecks(watched);
    const res = await this.podmanRun(['container', 'inspect', ...watched.keys()], INSPECT_TIMEOUT_MS);
    // Missing containers make inspect exit 125 but still print the others.
    const seen = parseInspect(res.stdout === '' && res.code === 125 ? '[]' : res.stdout);
    if (seen === null) return this.blind(new PodmanError([this.podman, 'container', 'inspect', '...'], res));
    const wasBlind = this.observeError !== null || !this.observed;
    const watchedBefore = this.watchedAtLastTick;
    this.watchedAtLastTick = new Set(watched.keys());
    this.observeError = null;
    this.observed = true;
    const prev = this.views;
    this.views = seen;
    const found: { service: string; container: string; exit: ExitRecord }[] = [];
    for (const [name, { service }] of watched) {
      const cur = seen.get(name);
      // Runs that ended before Warden watched the container are not news.
      if (!watchedBefore.has(name)) continue;
      const e = exitBetween(prev.get(name), cur, this.opts.clock.now());
      if (e === null || cur === undefined) continue;
      // Killed with a memory limit and Podman says nothing: the kernel log tells whether it was OOM.
      if (e.signal === 'SIGKILL' && cur.memoryLimit !== null && !cur.oomKilled && await kernelOomKilled(this.exec, cur.id)) this.kernelOom.add(cur.id);
      found.push({ service: service.name, container: name, exit: { ...e, ...((this.acting.get(service.name) ?? 0) > 0 ? { byWarden: true } : {}) } });
    }
    // Logs first, so a diagnosis woken by onExit reads the lines about this exit.
    await Promise.all([...new Set(found.map((f) => f.container))].map((c) => this.fetchLog(c)));
    for (const f of found) {
      this.exits.set(f.service, [f.exit, ...(this.exits.get(f.service) ?? [])].slice(0, EXITS_KEPT));
      this.call(() => this.opts.onExit(f.service, f.exit));
    }
    for (const s of this.services.values()) {
      const signature = JSON.stringify(containersOf(s).map((c) => this.member(c)));
      if (signature !== this.signatures.get(s.name) || wasBlind) this.call(() => this.opts.onChange(s.name));
      this.signatures.set(s.name, signature);
    }
  }

  /**
   * Starts each running container's healthcheck when its interval has passed; Podman records the
   * result, which a later inspect reads. Not awaited: a slow check must not hold up observing.
   */
  private runHealthchecks(watched: Map<string, { run: ContainerRun }>): void {
    const now = this.opts.clock.mono();
    for (const [name, { run }] of watched) {
      const hc = run.healthcheck;
      if (hc === null || this.views.get(name)?.running !== true || this.healthRunning.has(name)) continue;
      if (now - (this.healthRunAt.get(name) ?? Number.NEGATIVE_INFINITY) < hc.intervalMs) continue;
      this.healthRunAt.set(name, now);
      this.healthRunning.add(name);
      // Exit 1 is "unhealthy", which inspect reports; only a failure to run at all is an error.
      void this.podmanRun(['healthcheck', 'run', name], hc.timeoutMs + 2000).then((res) => {
        this.healthRunning.delete(name);
        if (res.code === null && !this.disposed) this.onError(new PodmanError([this.podman, 'healthcheck', 'run', name], res));
      });
    }
  }

  private blind(err: Error): void {
    if (this.observeError === null) {
      this.onError(err);
      for (const service of this.services.keys()) this.call(() => this.opts.onChange(service));
    }
    this.observeError = err.message;
  }

  private containerLog(name: string): string[] {
    const cached = this.logs.get(name);
    if (cached === undefined || this.opts.clock.mono() - cached.at > LOGS_STALE_MS) this.fetchLog(name).catch(this.onError);
    return cached?.lines ?? [];
  }

  /** `podman logs` with timestamps, so stdout and stderr (two pipes) interleave in time order. */
  private async fetchLog(name: string): Promise<string[]> {
    const res = await this.podmanRun(['logs', '--timestamps', '--tail', String(LOG_LINES), name], LOGS_TIMEOUT_MS);
    if (res.code !== 0) return this.logs.get(name)?.lines ?? [];
    const lines = [...res.stdout.split('\n'), ...res.stderr.split('\n')].filter((l) => l !== '').sort(byTimestamp).slice(-LOG_LINES);
    this.logs.set(name, { lines, at: this.opts.clock.mono() });
    return lines;
  }

  // ---------------------------------------------------------------- acting

  /** `stops`: the effect stops containers, so exits seen meanwhile are Warden's doing (not a start's). */
  private act(spec: ServiceSpec, opts: ActOptions, stops: boolean, effect: (s: PodmanSpec) => Promise<void>): Promise<{ pid: number | null }> {
    if (!isPodman(spec)) return Promise.reject(new WardenError('NOT_PODMAN', `${spec.name} is not a container or pod`));
    return this.serially.run(spec.name, async () => {
      opts.signal?.throwIfAborted();
      if (stops) this.acting.set(spec.name, (this.acting.get(spec.name) ?? 0) + 1);
      try {
        // Observed first, so what is there decides what to do; observed after, still as Warden's doing.
        await this.refresh();
        await effect(spec);
        await this.refresh();
      } finally {
        const n = (this.acting.get(spec.name) ?? 1) - (stops ? 1 : 0);
        if (n > 0) this.acting.set(spec.name, n);
        else this.acting.delete(spec.name);
      }
      return { pid: this.state(spec).pid };
    });
  }

  private async startContainer(s: PodmanSpec, c: ContainerRun, opts: ActOptions): Promise<void> {
    const v = this.views.get(c.name);
    if (v?.running) return;
    if (v) return void await this.podmanOk(['start', c.name], opts);
    const argv = runArgv(this.podman, c, {
      service: s.name, actionId: opts.actionId ?? null, stopSignal: s.stopSignal, stopGraceMs: s.stopGraceMs,
      ...(s.kind === 'pod' ? { pod: s.pod.name } : {}),
    });
    const res = await this.exec(argv, { timeoutMs: this.actionTimeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (res.code !== 0) throw new PodmanError(argv, res);
  }

  /** Pods are made without an infra container: that needs catatonit, and ports go on containers. */
  private async ensurePod(s: PodServiceSpec, opts: ActOptions): Promise<void> {
    if ((await this.podmanRun(['pod', 'exists', s.pod.name], INSPECT_TIMEOUT_MS)).code === 0) return;
    await this.podmanOk(['pod', 'create', '--infra=false', '--name', s.pod.name, '--label', `warden.service=${s.name}`], opts);
  }

  private async podmanOk(args: string[], opts: ActOptions): Promise<void> {
    const res = await this.exec([this.podman, ...args], { timeoutMs: this.actionTimeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (res.code !== 0) throw new PodmanError([this.podman, ...args], res);
  }

  private podmanRun(args: string[], timeoutMs: number): Promise<ExecResult> {
    return this.exec([this.podman, ...args], { timeoutMs });
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onError(err);
    }
  }
}

/** Lines of `podman logs --timestamps` start with an RFC 3339 time; a line without one keeps its place. */
function byTimestamp(a: string, b: string): number {
  const ta = Date.parse(a.slice(0, a.indexOf(' ')));
  const tb = Date.parse(b.slice(0, b.indexOf(' ')));
  return Number.isFinite(ta) && Number.isFinite(tb) ? ta - tb : 0;
}
