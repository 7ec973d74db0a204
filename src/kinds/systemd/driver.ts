// The driver for `kind: systemd`: a unit observed through its real properties and acted on with
// systemctl. systemd offers no exit events to a non-D-Bus client, so the driver polls: one
// `systemctl show` for every watched unit (and every timer's job) per tick, a snapshot kept in
// memory, and the differences between snapshots reported as exits and changes.
import { logError } from '../../lib/log.js';
import type { ExitRecord, ProcessState, ServiceSpec } from '../../domain/types.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import { readProcStat } from '../../lib/proc.js';
import type { ActOptions, ServiceDriver } from '../driver.js';
import { binary, commandRunner, SystemctlError, type CommandResult, type CommandRunner } from './command.js';
import {
  int, parseShow, showArgs, timestamp, triggeredUnitOf, unitHealth, unitType,
  type UnitHealth, type UnitProperties,
} from './properties.js';
import { exitAtFirstSight, exitsBetween, lastJobRun, type Observation, type ObservedExit } from './transitions.js';
import { KeyedSerial } from '../../lib/serial.js';

export { SystemctlError, type CommandResult, type CommandRunner } from './command.js';

/**
 * ProcessState plus `unknown`: set when the unit's health cannot be told (systemctl failed, the
 * unit is between states, not observed yet). detect.ts should read it as health "unknown".
 */
export type SystemdProcessState = ProcessState;

export interface SystemdDriverOptions {
  clock: Clock;
  /** Something about the service changed (state, verdict, an exit): wake the loop. */
  onChange: (service: string) => void;
  /** One call per exit, oldest first, after it is in state(spec).exits. */
  onExit: (service: string, exit: ExitRecord) => void;
  /** Failures of systemctl/journalctl and of the callbacks; reported once per outage. */
  onError?: (err: unknown) => void;
  pollMs?: number;
  /** How long `systemctl show` may take before the tick counts as failed. */
  showTimeoutMs?: number;
  /** How long start/stop/restart may wait for systemd's job (its own default start timeout is 90 s). */
  actionTimeoutMs?: number;
  /** Journal lines cached per unit for logTail. */
  journalLines?: number;
  systemctl?: CommandRunner;
  journalctl?: CommandRunner;
  /** The state letter of a pid (R, S, D, T, ...); default: this machine's /proc. */
  procState?: (pid: number) => string | null;
}

const EXITS_KEPT = 20;
/** The manager states is-system-running names (offline and unknown say it could not tell). */
const SYSTEM_STATES = new Set(['initializing', 'starting', 'running', 'degraded', 'maintenance', 'stopping']);
const STOPPING = 'the host is shutting down (systemctl is-system-running: stopping)';
const UNDECIDED = 'a unit went down and whether the host is shutting down could not be asked (systemctl is-system-running gave no answer)';
const JOURNAL_TIMEOUT_MS = 2000;
/** logTail refreshes a cache older than this in the background. */
const JOURNAL_STALE_MS = 5000;

interface UnitView {
  /** Last good observation (what state() shows); kept through failed ticks. */
  props: UnitProperties | null;
  /**
   * Last settled observation (up or down, not activating/deactivating), which exits are counted
   * against: a restart seen mid-way, or a stop still in stop-sigterm, is counted once it settles,
   * with the exit status systemd has recorded by then.
   */
  baseline: Observation | null;
  health: UnitHealth | null;
  /** A timer's settled verdict: kept while its job runs, because systemd resets Result on start. */
  failing: string | null;
  /** End stamp of the job run last accounted for; undefined until the job is first seen. */
  lastJobEnd: number | null | undefined;
  signature: string;
  logs: string[];
  logsAt: number | null;
}

export class SystemdDriver implements ServiceDriver {
  private readonly pollMs: number;
  private readonly showTimeoutMs: number;
  private readonly actionTimeoutMs: number;
  private readonly journalLines: number;
  private readonly systemctl: CommandRunner;
  private readonly journalctl: CommandRunner;
  private readonly onError: (err: unknown) => void;
  private readonly procState: (pid: number) => string | null;
  /** Service name → unit. */
  private services = new Map<string, string>();
  private readonly views = new Map<string, UnitView>();
  private readonly exits = new Map<string, ExitRecord[]>();
  /** Units with a start/stop/restart in flight: exits seen meanwhile are Warden's doing. */
  private readonly acting = new Map<string, number>();
  private readonly serially = new KeyedSerial();
  private pollChain: Promise<void> = Promise.resolve();
  private timer: TimerHandle | undefined;
  private firstPoll: Promise<void> | null = null;
  /** Why the last tick could not observe anything; null after a good tick. */
  private observeError: string | null = null;
  /** Set while the host shuts down, or may be (it could not be asked): every unit reads unknown, no exit is news. */
  private hostStopping: string | null = null;
  private journalError: string | null = null;
  private timestampOption = true;
  private disposed = false;

  constructor(private readonly opts: SystemdDriverOptions) {
    this.pollMs = opts.pollMs ?? 250;
    this.showTimeoutMs = opts.showTimeoutMs ?? 5000;
    this.actionTimeoutMs = opts.actionTimeoutMs ?? 120_000;
    this.journalLines = opts.journalLines ?? 50;
    this.systemctl = opts.systemctl ?? commandRunner(binary('systemctl'));
    this.journalctl = opts.journalctl ?? commandRunner(binary('journalctl'));
    this.onError = opts.onError ?? logError('systemd driver');
    this.procState = opts.procState ?? ((pid) => readProcStat(pid)?.state ?? null);
  }

  /** Watch these services (those of kind systemd); the others are ignored. */
  setServices(specs: readonly ServiceSpec[]): void {
    this.services = new Map(specs.filter((s) => s.kind === 'systemd' && s.unit !== null).map((s) => [s.name, s.unit!]));
    const units = new Set(this.services.values());
    for (const unit of this.views.keys()) if (!units.has(unit)) this.views.delete(unit);
    for (const name of this.exits.keys()) if (!this.services.has(name)) this.exits.delete(name);
    if (this.firstPoll !== null) void this.refresh();
  }

  /** Poll every pollMs until dispose(). Resolves once the first tick is done (state is real). */
  startPolling(): Promise<void> {
    if (this.firstPoll !== null) return this.firstPoll;
    const tick = async (): Promise<void> => {
      await this.refresh();
      // A timeout chain, not setInterval: a slow systemctl never piles up ticks.
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

  state(spec: ServiceSpec): SystemdProcessState {
    const unit = spec.unit ?? '';
    const view = this.views.get(unit);
    const exits = [...(this.exits.get(spec.name) ?? [])];
    const idle = { running: false, pid: null, startedAt: null, procState: null, spawnError: null, exits };
    const cannot = this.hostStopping ?? (this.observeError === null ? null : `cannot observe ${unit}: ${this.observeError}`);
    if (view?.props == null || view.health === null) {
      return { ...idle, unknown: cannot ?? `${unit} not observed yet`, facts: { Id: unit, ...(cannot !== null ? { ObserveError: this.observeError } : {}) } };
    }
    const h = view.health;
    const facts = cannot === null ? h.facts : { ...h.facts, ObserveError: this.observeError };
    // Stale properties are not liveness: while systemctl fails, the unit is unknown, not running.
    if (cannot !== null) return { ...idle, unknown: cannot, facts };
    const mainPid = int(view.props, 'MainPID');
    const pid = h.running && mainPid !== null && mainPid > 0 ? mainPid : null;
    return {
      running: h.running,
      pid,
      startedAt: h.running ? timestamp(view.props, 'ExecMainStartTimestamp') ?? timestamp(view.props, 'ActiveEnterTimestamp') : null,
      procState: pid === null ? null : this.procState(pid),
      spawnError: h.notLoaded,
      exits,
      ...(view.failing !== null ? { failing: view.failing } : {}),
      ...(h.unknown !== null ? { unknown: h.unknown } : {}),
      facts,
    };
  }

  start(spec: ServiceSpec, opts: ActOptions = {}): Promise<{ pid: number | null }> {
    return this.act(spec, 'start', opts.signal);
  }

  async stop(spec: ServiceSpec, opts: ActOptions = {}): Promise<void> {
    await this.act(spec, 'stop', opts.signal);
  }

  restart(spec: ServiceSpec, opts: ActOptions = {}): Promise<{ pid: number | null }> {
    return this.act(spec, 'restart', opts.signal);
  }

  /**
   * The cached journal tail (ServiceDriver.logTail is synchronous, and journalctl can take long on
   * a big journal). The cache is refreshed before every exit is reported, so a diagnosis started by
   * onExit reads the lines about that exit; a stale cache is refreshed in the background.
   */
  logTail(spec: ServiceSpec, lines: number): string[] {
    const view = spec.unit === null ? undefined : this.views.get(spec.unit);
    if (view === undefined) return [];
    if (view.logsAt === null || this.opts.clock.mono() - view.logsAt > JOURNAL_STALE_MS) this.refreshLogs(spec).catch(this.onError);
    return lines <= 0 ? [] : view.logs.slice(-lines);
  }

  /** Fetch the journal tail now (for a timer: its own and its job's lines, interleaved by time). */
  async refreshLogs(spec: ServiceSpec): Promise<string[]> {
    if (spec.unit === null) return [];
    return this.fetchJournal(spec.unit);
  }

  // ---------------------------------------------------------------- observing

  private async pollOnce(): Promise<void> {
    if (this.disposed) return;
    // Units acted on but not watched (a one-shot command) are observed too, so an action's pid is real.
    const units = [...new Set([...this.services.values(), ...this.acting.keys()])];
    if (units.length === 0) return;
    const names = new Set(units);
    for (const unit of units) {
      const job = triggeredUnitOf(this.views.get(unit)?.props);
      if (unitType(unit) === 'timer' && job !== null) names.add(job);
    }
    const seen = await this.show([...names]);
    if (seen === null) return;
    // A timer seen for the first time (or whose Unit= changed): fetch its job in the same tick.
    const newJobs = units.map((u) => (unitType(u) === 'timer' ? triggeredUnitOf(seen.get(u)) : null))
      .filter((j): j is string => j !== null && !seen.has(j));
    if (newJobs.length > 0) {
      const more = await this.show([...new Set(newJobs)]);
      if (more === null) return;
      for (const [k, v] of more) seen.set(k, v);
    }
    if (this.disposed) return;
    const wasBlind = this.observeError !== null;
    this.observeError = null;
    // A unit seen going down while its host shuts down is the shutdown, not the unit's failure:
    // asked only when a unit went down (or the host was already stopping), so it costs nothing else.
    // A shutdown stops units and SSH sessions at once, so the question may go unanswered: then
    // nothing is judged this tick, and a host once seen stopping stays so until it says otherwise.
    const wentDown = units.some((u) => this.views.get(u)?.health?.running === true && seen.get(u)?.ActiveState !== 'active');
    if (wentDown || this.hostStopping !== null) {
      const was = this.hostStopping;
      const system = await this.systemState();
      if (system === null) this.hostStopping = was ?? UNDECIDED;
      else this.hostStopping = system === 'stopping' ? STOPPING : null;
      if (this.hostStopping !== null) {
        if (was !== this.hostStopping) for (const service of this.services.keys()) this.call(() => this.opts.onChange(service));
        return;
      }
      // Back from a shutdown (a reboot): the runs it ended are not news; units are judged afresh.
      if (was === STOPPING) for (const v of this.views.values()) v.baseline = null;
    }

    const exits: { unit: string; exit: ExitRecord }[] = [];
    const changed = new Set<string>();
    for (const unit of units) {
      const props = seen.get(unit);
      if (props === undefined) continue;
      const jobName = unitType(unit) === 'timer' ? triggeredUnitOf(props) : null;
      const { found, signatureChanged } = this.observe(unit, props, jobName === null ? null : seen.get(jobName) ?? null);
      for (const exit of found) exits.push({ unit, exit });
      if (signatureChanged || found.length > 0 || wasBlind) changed.add(unit);
    }
    // The journal first, so a diagnosis woken by onExit reads the lines about this exit.
    await Promise.all([...new Set(exits.map((e) => e.unit))].map((u) => this.fetchJournal(u)));
    for (const { unit, exit } of exits) {
      for (const service of this.servicesOf(unit)) this.call(() => this.opts.onExit(service, exit));
    }
    for (const unit of changed) for (const service of this.servicesOf(unit)) this.call(() => this.opts.onChange(service));
  }

  /** Compare with the last observation; record exits in memory (first) and return them. */
  private observe(unit: string, props: UnitProperties, job: UnitProperties | null): { found: ExitRecord[]; signatureChanged: boolean } {
    let view = this.views.get(unit);
    const isNew = view === undefined;
    if (view === undefined) {
      view = { props: null, baseline: null, health: null, failing: null, lastJobEnd: undefined, signature: '', logs: [], logsAt: null };
      this.views.set(unit, view);
    }
    const health = unitHealth(props, job);
    const byWarden = (this.acting.get(unit) ?? 0) > 0;
    const now = this.opts.clock.now();
    const toRecord = (e: ObservedExit, warden = byWarden): ExitRecord => ({
      at: e.at ?? now, code: e.code, signal: e.signal, uptimeMs: e.uptimeMs, ...(warden ? { byWarden: true } : {}),
    });
    const found: ExitRecord[] = [];
    // Exits that happened before Warden looked are remembered but not announced: they are not news.
    const seeded: ExitRecord[] = [];
    const cur = { props, running: health.running };
    if (health.unknown === null) {
      if (view.baseline !== null) {
        for (const e of exitsBetween(view.baseline, cur)) found.push(toRecord(e));
      } else {
        // Seen only between states so far (view.props set): this failure happened while watched.
        const e = exitAtFirstSight(cur);
        if (e !== null) (view.props === null ? seeded : found).push(toRecord(e, view.props !== null && byWarden));
      }
      view.baseline = cur;
    }
    if (unitType(unit) === 'timer' && job !== null) {
      const run = lastJobRun(job);
      if (view.lastJobEnd === undefined) {
        // The job's first sight: a failed last run is why the timer is failing, not a new event.
        if (run !== null && !run.ok) seeded.push(toRecord(run.exit, false));
        view.lastJobEnd = run?.endUs ?? null;
      } else if (run !== null && run.endUs !== view.lastJobEnd) {
        view.lastJobEnd = run.endUs;
        // Only failed runs are exits: a timer's job ending well is its normal life. Starting or
        // stopping the timer does not run the job, so a failed run is never Warden's doing.
        if (!run.ok) found.push(toRecord(run.exit, false));
      }
    }
    if (!health.jobInProgress) view.failing = health.failing;
    view.props = props;
    view.health = health;
    for (const service of this.servicesOf(unit)) {
      const list = this.exits.get(service) ?? [];
      // Oldest first in, newest first kept.
      for (const e of [...seeded, ...found]) list.unshift(e);
      this.exits.set(service, list.slice(0, EXITS_KEPT));
    }
    const signature = JSON.stringify([
      health.running, view.failing, health.unknown, health.notLoaded, props.MainPID, props.ActiveState, props.SubState,
      props.Result, props.NRestarts,
    ]);
    const signatureChanged = signature !== view.signature;
    view.signature = signature;
    // Only for a unit in trouble at first sight (diagnosis will want it); a healthy one's tail is
    // fetched when it fails or logTail asks. After the update, so a timer's includes its job's lines.
    if (isNew && (!health.running || view.failing !== null)) this.fetchJournal(unit).catch(this.onError);
    return { found, signatureChanged };
  }

  /** What `systemctl is-system-running` says of the host's manager; null when it gave no such answer. */
  private async systemState(): Promise<string | null> {
    const r = await this.run(this.systemctl, ['is-system-running'], this.showTimeoutMs);
    const state = r.stdout.trim();
    return r.code !== null && SYSTEM_STATES.has(state) ? state : null;
  }

  /** Properties of each unit by name, or null when systemctl could not tell (reported once). */
  private async show(units: string[]): Promise<Map<string, UnitProperties> | null> {
    let args = showArgs(units, this.timestampOption);
    let res = await this.run(this.systemctl, args, this.showTimeoutMs);
    if (res.code !== 0 && this.timestampOption && /--timestamp|timestamp style/i.test(res.stderr)) {
      // systemd < 248: no --timestamp; the default form under TZ=UTC is parsed instead.
      this.timestampOption = false;
      args = showArgs(units, false);
      res = await this.run(this.systemctl, args, this.showTimeoutMs);
    }
    if (res.code !== 0) return this.blind(new SystemctlError(args, res));
    const blocks = parseShow(res.stdout);
    if (blocks.length !== units.length) {
      return this.blind(new Error(`systemctl show printed ${blocks.length} unit block(s) for ${units.length} unit(s)`));
    }
    return new Map(units.map((u, i) => [u, blocks[i]!]));
  }

  private blind(err: Error): null {
    if (this.observeError === null) {
      this.onError(err);
      // Once per outage: the loop re-evaluates every service as unknown.
      for (const service of this.services.keys()) this.call(() => this.opts.onChange(service));
    }
    this.observeError = err.message;
    return null;
  }

  private async fetchJournal(unit: string): Promise<string[]> {
    const view = this.views.get(unit);
    const job = unitType(unit) === 'timer' ? triggeredUnitOf(view?.props) : null;
    const args = ['--no-pager', '--quiet', '-o', 'short-iso', '-n', String(this.journalLines), '-u', unit, ...(job !== null ? ['-u', job] : [])];
    const res = await this.run(this.journalctl, args, JOURNAL_TIMEOUT_MS);
    if (res.code !== 0) {
      const msg = `journalctl ${args.join(' ')} failed: ${res.stderr.trim().split('\n')[0] ?? ''}`;
      if (this.journalError !== msg) this.onError(new Error(msg));
      this.journalError = msg;
      return view?.logs ?? [];
    }
    this.journalError = null;
    const lines = res.stdout.split('\n').filter((l) => l !== '');
    if (view !== undefined) {
      view.logs = lines;
      view.logsAt = this.opts.clock.mono();
    }
    return lines;
  }

  // ---------------------------------------------------------------- acting

  private act(spec: ServiceSpec, verb: 'start' | 'stop' | 'restart', signal?: AbortSignal): Promise<{ pid: number | null }> {
    if (spec.kind !== 'systemd' || spec.unit === null) {
      return Promise.reject(Object.assign(new Error(`${spec.name} is not a systemd service`), { code: 'NOT_SYSTEMD' }));
    }
    const unit = spec.unit;
    return this.serially.run(unit, async () => {
      // Aborted while queued: queue no job. A job already queued is systemd's to finish (killing
      // systemctl would not cancel it), so that wait is not cut short: the effect really ends first.
      signal?.throwIfAborted();
      // Waits for systemd's job (no --no-block): success means the unit got there.
      const argv = [verb, '--no-ask-password', '--', unit];
      this.acting.set(unit, (this.acting.get(unit) ?? 0) + 1);
      let res: CommandResult;
      try {
        res = await this.run(this.systemctl, argv, this.actionTimeoutMs);
        // Observe at once, still counted as Warden's doing, so the exit this caused is byWarden.
        await this.refresh();
      } finally {
        const n = (this.acting.get(unit) ?? 1) - 1;
        if (n > 0) this.acting.set(unit, n);
        else this.acting.delete(unit);
      }
      if (res.code !== 0) throw new SystemctlError(argv, res);
      const props = this.views.get(unit)?.props;
      const pid = int(props, 'MainPID');
      return { pid: pid !== null && pid > 0 && this.views.get(unit)?.health?.running === true ? pid : null };
    });
  }



  // ---------------------------------------------------------------- helpers

  private async run(runner: CommandRunner, args: string[], timeoutMs: number): Promise<CommandResult> {
    try {
      return await runner(args, { timeoutMs });
    } catch (err) {
      // An injected runner may reject; the poll must not.
      return { code: null, stdout: '', stderr: err instanceof Error ? err.message : String(err) };
    }
  }

  private servicesOf(unit: string): string[] {
    const out: string[] = [];
    for (const [service, u] of this.services) if (u === unit) out.push(service);
    return out;
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onError(err);
    }
  }
}
