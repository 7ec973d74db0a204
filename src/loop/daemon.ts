// The reconciler: observe → decide → persist → act. Passes never overlap; events (a child's exit, a
// check result) only wake the loop early; a timer guarantees a full pass every `interval`.
import type { AuditIntent, DecideOutput } from '../domain/decide.js';
import { rulesDiagnoser } from '../diagnosis/diagnoser.js';
import type { Action, Health, ResolvedConfig, ServiceSpec, Summary, Ticket, World } from '../domain/types.js';
import type { ServiceDriver } from '../kinds/driver.js';
import { driverOf } from '../kinds/index.js';
import { reportUnusable } from '../plugins/index.js';
import { ProcessDriver } from '../kinds/process/driver.js';
import { SystemdDriver } from '../kinds/systemd/driver.js';
import { Notifier } from '../notify/notifier.js';
import { readBootId } from '../runtime/boot.js';
import { SdNotify } from '../runtime/sdnotify.js';
import { createApi, daemonApiDeps, readToken, startApi, type RunningApi } from '../runtime/api.js';
import { progressVerdict } from '../runtime/diagnostics.js';
import { faultStartedAt, WardenMetrics } from '../runtime/metrics.js';
import { ProcessSupervisor } from '../kinds/process/supervisor.js';
import { every, systemClock, type Clock, type Repeating, type TimerHandle } from '../lib/clock.js';
import { CheckScheduler } from '../probes/checks.js';
import { Store } from '../store/store.js';
import { acquireDataDirLock, type DataDirLock } from '../daemon/lock.js';
import { SelfHealth, type SelfEvent } from '../daemon/self.js';
import { Executor } from './executor.js';
import { describe, notificationOf } from './events.js';
import { instanceIdOf } from './shared.js';
import { DiagnosisRunner } from './diagnosis.js';
import { Reconciler, type PassResult } from './reconciler.js';

export type DaemonState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface DaemonOptions {
  clock?: Clock;
  log?: (line: string) => void;
}

const VERIFY_TICK_MS = 25;
/** A diagnosis that takes longer is abandoned and the ticket escalated. */
const DIAGNOSIS_TIMEOUT_MS = 60_000;
const ROTATE_EVERY_MS = 10_000;

export class Daemon {
  state: DaemonState = 'starting';
  readonly clock: Clock;
  private readonly log: (line: string) => void;
  private store!: Store;
  private supervisor!: ProcessSupervisor;
  private scheduler!: CheckScheduler;
  private executor!: Executor;
  private reconciler!: Reconciler;
  private diagnoses!: DiagnosisRunner;
  private passTimer: Repeating | undefined;
  private rotateTimer: Repeating | undefined;
  private wakeTimer: TimerHandle | undefined;
  private passing = false;
  private wakePending = false;
  private again = false;
  private passId = 0;
  private lastHealth = new Map<string, Health>();
  private lastPassWrite = 0;
  private readySent = false;
  private lastSummary: Summary = 'nominal';
  readonly metrics = new WardenMetrics();
  private api: RunningApi | null = null;
  private apiToken: string | null = null;
  /** ticket id → when its fault started, for time-to-recover. */
  private readonly incidentStart = new Map<string, number>();
  private lastOpenTickets = 0;
  private watchdogTimer: Repeating | undefined;
  private bootId = '';
  private processDriver!: ProcessDriver;
  private systemdDriver!: SystemdDriver;
  private notifier!: Notifier;
  private readonly sd: SdNotify;
  lastPassAt = 0;
  private lock: DataDirLock | null = null;
  /** Whether passes succeed: read by /healthz, the watchdog, status, metrics and notifications. */
  readonly self: SelfHealth;

  constructor(private config: ResolvedConfig, opts: DaemonOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? ((line) => process.stdout.write(`${new Date(this.clock.now()).toISOString()} ${line}\n`));
    this.sd = new SdNotify(process.env, this.log);
    this.self = new SelfHealth({ clock: this.clock, log: this.log, onFailure: () => this.metrics.passFailed(), onChange: (e) => this.selfChanged(e) });
  }

  async start(): Promise<void> {
    try {
      await this.startUp();
    } catch (e) {
      this.state = 'failed';
      this.abandonStart();
      throw e;
    }
  }

  /** A start that cannot complete leaves nothing behind: no timers, watchers, open store or lock. */
  private abandonStart(): void {
    this.scheduler?.stop();
    this.passTimer?.cancel();
    this.rotateTimer?.cancel();
    this.watchdogTimer?.cancel();
    this.clock.clearTimeout(this.wakeTimer);
    this.diagnoses?.abortAll();
    this.supervisor?.dispose();
    this.systemdDriver?.dispose();
    this.store?.close();
    this.lock?.release();
  }

  private async startUp(): Promise<void> {
    const cfg = this.config;
    // Before anything is opened: a missing token refuses the start with no side effects.
    if (cfg.agent.api) this.apiToken = readToken(cfg.agent.api);
    // Before anything is written: a second Warden on this data directory stops here.
    this.lock = acquireDataDirLock(cfg.agent.dataDir);
    const bootId = readBootId();
    this.bootId = bootId;
    this.store = Store.open(cfg.agent.dataDir, { stamp: () => ({ mono: this.clock.mono(), boot: bootId }) });
    await reportUnusable(cfg, this.log);
    const boot = this.store.recordBoot(bootId, this.clock.now());
    this.supervisor = new ProcessSupervisor({
      dataDir: cfg.agent.dataDir,
      instanceId: instanceIdOf(cfg),
      registry: this.store,
      clock: this.clock,
      onExit: (service, exit) => {
        this.log(`observe ${service}: process exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? '?'}`})`);
        this.wake();
      },
    });
    this.processDriver = new ProcessDriver(this.supervisor);
    this.systemdDriver = new SystemdDriver({
      clock: this.clock,
      onChange: () => this.wake(),
      onExit: (service, exit) => {
        // Kept in the store too, so the exit history outlives this process (debug, diagnosis).
        this.store.addExit(service, exit);
        this.log(`observe ${service}: unit run ended (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? '?'}`})`);
        this.wake();
      },
      onError: (e) => this.log(`systemd: ${e instanceof Error ? e.message : String(e)}`),
    });
    this.systemdDriver.setServices(cfg.services);
    // The first observation of systemd units is real before the first pass decides anything.
    if (cfg.services.some((x) => x.kind === 'systemd')) await this.systemdDriver.startPolling();
    const { adopted, gone } = this.supervisor.adopt(processServices(cfg));
    this.executor = new Executor({
      store: this.store, driverFor: (spec) => this.driverFor(spec), clock: this.clock, config: () => this.config,
      actor: cfg.agent.name, onSettled: (a) => this.settled(a), log: this.log,
    });
    this.diagnoses = new DiagnosisRunner({
      diagnoser: rulesDiagnoser, clock: this.clock, timeoutMs: DIAGNOSIS_TIMEOUT_MS,
      gather: (req) => {
        const spec = this.config.services.find((x) => x.name === req.problem.service);
        return {
          ticketId: req.ticketId, key: req.key, config: this.config, world: this.world(), problem: req.problem, now: this.clock.now(),
          logTail: spec ? this.driverFor(spec).logTail(spec, 50) : [],
        };
      },
      onAnswer: (a) => { this.reconciler.answer(a); this.wake(); },
    });
    this.reconciler = new Reconciler({
      store: this.store, config: () => this.config, now: () => ({ wall: this.clock.now(), mono: this.clock.mono(), boot: this.bootId }), observe: () => this.world(),
      diagnosing: () => this.diagnoses.diagnosing,
    });
    this.notifier = new Notifier(cfg.notify, (ch, ev, r) => {
      if (r.ok) return;
      this.log(`notify ${ch.name}: ${ev.kind} not delivered after ${r.attempts} attempt(s): ${r.error ?? ''}`);
      // Guarded: with the store full this would otherwise be an unhandled rejection that kills us.
      try {
        if (this.state === 'running' || this.state === 'draining') this.audit([{ kind: 'notify.failed', subject: ev.subject, data: { channel: ch.name, event: ev.kind, attempts: r.attempts, error: r.error } }]);
      } catch (e) {
        this.log(`audit notify.failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, this.clock);
    const resumed = this.executor.resume();
    const open = this.store.listTickets({ openOnly: true });
    const reboots = this.store.listReboots().length;
    // The start-up announcement: people learn that the agent is back, and after what.
    const summary = `online; ${reboots} reboots; ${open.length} open tickets; ${resumed.length} actions resumed`;
    // The audit head goes out of band too: a copy outside this host is what makes rewriting the
    // whole chain (every hash and the head) detectable.
    const auditHead = this.store.auditHead();
    const data = { pid: process.pid, mode: cfg.agent.mode, config: cfg.file, rebooted: boot.reboot, reboots, openTickets: open.length, resumedActions: resumed.map((a) => a.id), adopted, gone, auditHead };
    this.audit([{ kind: 'agent.online', subject: null, data }]);
    this.notify('agent.online', null, `${cfg.agent.name} ${summary}`, data);
    this.log(`online: ${cfg.agent.name} (${cfg.agent.mode} mode), ${cfg.services.length} services, adopted ${adopted.length} running, ${open.length} open tickets, ${resumed.length} actions resumed, ${reboots} reboots${boot.reboot ? ' (this start follows a reboot)' : ''}`);

    this.scheduler = new CheckScheduler(this.clock, (service, st) => {
      // Wake on what can change a decision: a check's verdict.
      const prev = this.lastCheckVerdict.get(`${service}/${st.id}`);
      this.lastCheckVerdict.set(`${service}/${st.id}`, st.healthy);
      if (prev !== st.healthy) this.wake();
    });
    this.scheduler.setServices(cfg.services);
    this.scheduler.start();
    this.passTimer = every(this.clock, cfg.agent.intervalMs, () => this.wake());
    this.rotateTimer = every(this.clock, ROTATE_EVERY_MS, () => this.supervisor.rotateLogs(processServices(this.config)));
    if (this.sd.watchdogEveryMs !== null) {
      this.watchdogTimer = every(this.clock, this.sd.watchdogEveryMs, () => this.watchdogPing());
    }
    if (cfg.agent.api) {
      this.api = await startApi(createApi(daemonApiDeps({
        config: () => this.config, store: this.store, now: () => this.clock.now(),
        lastPassAt: () => this.lastPassAt, running: () => this.state === 'running', summary: () => this.lastSummary,
        failing: () => this.self.problem,
        observe: (name, lines) => {
          const spec = this.config.services.find((x) => x.name === name)!;
          const driver = this.driverFor(spec);
          return { process: driver.state(spec), checks: this.scheduler.states(name), logTail: driver.logTail(spec, lines), logSource: spec.kind === 'process' ? this.supervisor.logFile(name) : `journal of ${spec.unit ?? name}` };
        },
        metrics: this.metrics,
      }, () => this.apiToken)), cfg.agent.api, { onError: (e) => this.log(`api: ${e.message}`) });
      this.log(`api listening on ${cfg.agent.api.host}:${this.api.port}`);
    }
    this.state = 'running';
    this.runPass();
  }

  /** True while passes complete: what /healthz and the systemd watchdog report (one definition). */
  progressing(): { ok: boolean; reason: string } {
    return progressVerdict(this.state === 'running', this.lastPassAt, this.clock.now(), this.config.agent.intervalMs, this.self.problem);
  }

  /** Out of band, since the store may be what fails; audited once the store takes writes again. */
  private selfChanged(e: SelfEvent): void {
    this.notify(e.kind, null, `${this.config.agent.name} ${e.summary}`, e.data);
    if (e.kind !== 'agent.recovered') return;
    try {
      this.audit([{ kind: 'agent.recovered', subject: null, data: e.data }]);
    } catch (err) {
      this.log(`audit agent.recovered: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private watchdogPing(): void {
    const p = this.progressing();
    // A wedged loop must stop the pings, so systemd's watchdog restarts us.
    if (!p.ok) { this.log(`watchdog: not pinging: ${p.reason}`); return; }
    this.sd.send({ WATCHDOG: '1', STATUS: this.statusLine() }).catch(() => undefined);
  }

  private statusLine(): string {
    const open = this.lastOpenTickets;
    return `${this.lastSummary}; ${this.config.services.length} services; ${open} open tickets; mode ${this.config.agent.mode}`;
  }

  /**
   * SIGHUP: read the config again. A file that does not validate changes nothing: the running
   * config stays and the reason is logged and audited.
   */
  reload(load: () => ResolvedConfig): boolean {
    let next: ResolvedConfig;
    try {
      next = load();
      if (next.agent.dataDir !== this.config.agent.dataDir) throw new Error(`agent.dataDir changed (${this.config.agent.dataDir} → ${next.agent.dataDir}); that needs a restart`);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.log(`reload rejected, keeping the running config: ${msg}`);
      this.audit([{ kind: 'config.rejected', subject: null, data: { file: this.config.file, error: msg } }]);
      return false;
    }
    if (next.agent.api) {
      try {
        this.apiToken = readToken(next.agent.api);
      } catch (e) {
        this.log(`reload: keeping the old API token: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.config = next;
    this.scheduler.setServices(next.services);
    this.systemdDriver.setServices(next.services);
    if (next.services.some((x) => x.kind === 'systemd')) this.systemdDriver.startPolling().catch((e: unknown) => this.log(`systemd: ${String(e)}`));
    this.notifier.setChannels(next.notify);
    void reportUnusable(next, this.log);
    this.audit([{ kind: 'config.reloaded', subject: null, data: { file: next.file, services: next.services.length, mode: next.agent.mode } }]);
    this.log(`reloaded ${next.file}: ${next.services.length} services, mode ${next.agent.mode}`);
    this.wake();
    return true;
  }

  private driverFor(spec: ServiceSpec): ServiceDriver {
    return driverOf<ServiceDriver>({ process: this.processDriver, systemd: this.systemdDriver }, spec);
  }

  /** Time to detect and time to recover, from the fault's start as the world shows it. */
  private measure(i: AuditIntent, world: World, now: number, out: DecideOutput): void {
    if ((i.kind === 'ticket.opened' || i.kind === 'ticket.reopened') && i.subject) {
      const t = out.tickets.find((x) => x.id === i.subject);
      const spec = t && this.config.services.find((x) => x.name === t.service);
      const obs = t && world.services[t.service];
      const at = spec && obs ? faultStartedAt(obs, spec) : null;
      if (at !== null) this.metrics.observeDetect(Math.max(0, now - at) / 1000);
      this.incidentStart.set(i.subject, at ?? now);
    } else if (i.kind === 'ticket.verified' && i.subject) {
      const start = this.incidentStart.get(i.subject) ?? out.tickets.find((x) => x.id === i.subject)?.openedAt ?? now;
      this.metrics.observeRecover(Math.max(0, now - start) / 1000);
      this.incidentStart.delete(i.subject);
    } else if (i.kind === 'action.cancelled' && i.subject) {
      const a = out.actions.find((x) => x.id === i.subject);
      if (a) this.metrics.actionFinished(a.type, 'cancelled');
    }
  }

  private notify(kind: string, subject: string | null, summary: string, data: Record<string, unknown>): void {
    this.notifier.send({ kind, agent: this.config.agent.name, at: new Date(this.clock.now()).toISOString(), subject, summary, data });
  }

  private readonly lastCheckVerdict = new Map<string, boolean | null>();

  /** Ask for a pass as soon as possible; coalesces bursts of events into one pass. */
  wake(): void {
    if (this.state !== 'running') return;
    if (this.passing) { this.again = true; return; }
    if (this.wakePending) return;
    this.wakePending = true;
    setImmediate(() => { this.wakePending = false; this.runPass(); });
  }

  /** A pass at a known future time (verification stability, retry backoff). */
  private wakeIn(ms: number): void {
    this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = this.clock.setTimeout(() => { this.wakeTimer = undefined; this.wake(); }, ms);
  }

  private runPass(): void {
    if (this.state !== 'running') return;
    this.passing = true;
    const id = ++this.passId;
    const t0 = performance.now();
    try {
      this.pass();
      this.metrics.observePass((performance.now() - t0) / 1000, this.clock.now());
      this.self.passSucceeded();
    } catch (e) {
      // Pass guard: one bad pass is reported and the next one starts from fresh observations.
      this.self.passFailed(id, e);
    } finally {
      this.passing = false;
      if (this.again) { this.again = false; this.wake(); }
    }
  }

  private world(): World {
    const services: World['services'] = {};
    for (const s of this.config.services) {
      services[s.name] = { name: s.name, host: s.host, process: this.driverFor(s).state(s), checks: this.scheduler.states(s.name) };
    }
    return { at: this.clock.now(), services };
  }

  private pass(): void {
    const r = this.reconciler.pass();
    // Effects only after the decision is committed: an action must be durable before it runs.
    this.afterCommit(r);
    for (const id of r.out.execute) this.executor.run(id);
    for (const req of r.out.diagnose) this.diagnoses.run(req);
    this.afterActions(r.open, r.pending);
  }

  /** What people and metrics see of a committed pass: logs, notifications, metrics, heartbeat. */
  private afterCommit(r: PassResult): void {
    const { out, now, world, open } = r;
    for (const c of r.commands) this.log(`command ${c.cmd.kind} by ${c.cmd.by}: ${c.result.message}`);
    const healthChanges = Object.entries(out.detection.health).filter(([n, h]) => this.lastHealth.get(n) !== h.health);
    if (healthChanges.length > 0 || now - this.lastPassWrite >= 1000) {
      this.store.transaction(() => {
        for (const [name, h] of healthChanges) {
          const spec = this.config.services.find((s) => s.name === name)!;
          this.store.putServiceState({ name, host: spec.host, health: h.health, since: now, detail: h.reason });
        }
        if (now - this.lastPassWrite >= 1000) {
          this.store.setFlag('daemon', JSON.stringify({ pid: process.pid, lastPassAt: now, summary: out.report.summary, mode: this.config.agent.mode }));
          this.lastPassWrite = now;
        }
      });
    }
    for (const [name, h] of healthChanges) {
      if (this.lastHealth.has(name) || h.health !== 'unknown') this.log(`health ${name}: ${h.health} — ${h.reason}`);
      this.lastHealth.set(name, h.health);
    }
    this.metrics.setFindings(out.report.findings);
    this.metrics.setTickets(open);
    for (const i of out.audit) {
      this.measure(i, world, now, out);
      this.log(describe(i));
      const n = notificationOf(i);
      if (n) this.notify(n.kind, i.subject, n.summary, i.data);
    }
    this.lastPassAt = now;
    this.lastSummary = out.report.summary;
    this.lastOpenTickets = open.length;
    if (!this.readySent) {
      // READY=1 only after the first full pass: systemd then knows Warden is really watching.
      this.readySent = true;
      this.sd.send({ READY: '1', STATUS: this.statusLine() }).catch(() => undefined);
    }
  }

  /** Speeds up observation of a service being repaired, and schedules the next decision time. */
  private afterActions(open: Ticket[], pending: Action[]): void {
    const verifying = open.filter((t) => t.status === 'verifying');
    for (const t of verifying) this.scheduler.boost(t.service, 50, this.config.agent.verifyStableMs + 2000);
    const retryAt = pending.map((a) => a.notBefore ?? 0).filter((n) => n > 0);
    let next = Infinity;
    if (verifying.length > 0) next = VERIFY_TICK_MS;
    for (const at of retryAt) next = Math.min(next, Math.max(0, at - this.clock.now()));
    if (next !== Infinity) this.wakeIn(next);
  }

  private settled(a: Action): void {
    if (a.state === 'completed' || a.state === 'failed') this.metrics.actionFinished(a.type, a.state);
    if (a.state === 'completed' && (a.type === 'restart' || a.type === 'start')) {
      // Results from before the repair must not count toward verification: forget them, probe now.
      this.scheduler.reset(a.target);
      this.scheduler.kick(a.target).catch((e: unknown) => this.log(`kick ${a.target}: ${String(e)}`));
    }
    this.wake();
  }

  private audit(intents: AuditIntent[]): void {
    const now = this.clock.now();
    this.store.transaction(() => {
      for (const i of intents) this.store.audit({ at: now, actor: this.config.agent.name, kind: i.kind, subject: i.subject, data: i.data });
    });
  }

  /** SIGTERM: stop deciding, let in-flight actions reach a durable state, leave services running. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.state !== 'running' && this.state !== 'starting') return;
    this.state = 'draining';
    this.sd.send({ STOPPING: '1', STATUS: 'draining' }).catch(() => undefined);
    // Before the store closes: the API's handlers read it.
    await this.api?.close();
    this.passTimer?.cancel();
    this.rotateTimer?.cancel();
    this.watchdogTimer?.cancel();
    this.clock.clearTimeout(this.wakeTimer);
    this.scheduler?.stop();
    this.diagnoses.abortAll();
    const drained = await this.executor.drain(graceMs);
    this.audit([{ kind: 'agent.stopped', subject: null, data: { pid: process.pid, drained } }]);
    this.log(`stopping: ${drained ? 'in-flight actions settled' : 'grace period over; unfinished actions resume on next start'}; services keep running`);
    await this.notifier.drain(Math.min(graceMs, 3000));
    this.supervisor.dispose();
    this.systemdDriver.dispose();
    this.store.close();
    this.lock?.release();
    this.state = 'stopped';
  }
}

function processServices(cfg: ResolvedConfig): ServiceSpec[] {
  return cfg.services.filter((s) => s.kind === 'process');
}
