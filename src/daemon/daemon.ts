// The daemon: a manager of runnables (lock, store, drivers, notifier, executor, check scheduler,
// pass loop, watchdog, API) started in that order and stopped in reverse; the pass loop runs the
// reconciler (observe → decide → commit) and hands each committed pass to the effect runner.
// Passes never overlap; events (a child's exit, a check verdict, an answer, a command) only wake
// the loop early; a timer guarantees a full pass every `interval`.
import { SubjectObserver } from '../loop/subjects.js';
import { AlertBook } from '../loop/alerts.js';
import { subjects } from '../subjects/index.js';
import { CONFIG_FLAG } from '../config/last.js';
import { FROZEN_FLAG } from '../app/commands.js';
import type { AuditIntent } from '../domain/audit.js';
import type { DiagnoseRequest } from '../domain/decide.js';
import { detect } from '../domain/detect.js';
import type { Action, HostFacts, ResolvedConfig, ServiceSpec, SshHostSpec, World } from '../domain/types.js';
import { HOST_FACTS_PREFIX } from '../views/hosts.js';
import { rulesDiagnoser, type Diagnoser, type EvidenceBundle } from '../diagnosis/diagnoser.js';
import { configuredDiagnoser } from '../diagnosis/llm/build.js';
import { logEvidence, problemResources, storeAndHostEvidence } from '../diagnosis/gather.js';
import type { ServiceDriver } from '../kinds/driver.js';
import { driverOf } from '../kinds/index.js';
import { ProcessDriver } from '../kinds/process/driver.js';
import { ProcessSupervisor } from '../kinds/process/supervisor.js';
import { podmanLogSource } from '../kinds/container/driver.js';
import { HostedPodmanDriver } from '../kinds/container/hosts.js';
import { HostedSystemdDriver } from '../kinds/systemd/hosts.js';
import { HostMonitor } from '../hosts/monitor.js';
import { HOST_BOOT_FLAG } from '../domain/hosts.js';
import { isHostAction } from '../actions/index.js';
import { Transports } from '../transport/index.js';
import { every, iso, systemClock, type Clock, type Repeating, type TimerHandle } from '../lib/clock.js';
import { errorText } from '../lib/errors.js';
import { loopWedged } from '../lib/fault.js';
import { Heartbeat } from '../runtime/heartbeat.js';
import { PeerWatcher, type PeerEvent } from '../runtime/peers.js';
import { PEER_PREFIX } from '../views/peers.js';
import { join } from 'node:path';
import { mkdirPrivate, tightenTree } from '../lib/private.js';
import { DiagnosisRunner } from '../loop/diagnosis.js';
import { EffectRunner } from '../loop/effects.js';
import { Executor } from '../loop/executor.js';
import { PolicySource } from '../loop/policysource.js';
import { Reconciler } from '../loop/reconciler.js';
import { instanceIdOf } from '../loop/shared.js';
import { reportUnusable } from '../plugins/index.js';
import { CheckScheduler } from '../probes/checks.js';
import { Followers } from '../views/events.js';
import { createApi, daemonApiDeps, readToken, startApi, type RunningApi } from '../runtime/api.js';
import { DaemonDecisions } from './decisions.js';
import { readBootId } from '../runtime/boot.js';
import { guardSecrets } from '../runtime/exposure.js';
import { progressVerdict, UNMANAGED_PREFIX } from '../runtime/diagnostics.js';
import { WardenMetrics } from '../runtime/metrics.js';
import { SdNotify } from '../runtime/sdnotify.js';
import { dbPath, Store } from '../store/store.js';
import { watchDamage } from '../store/watch.js';
import { clearDamageNote, DAMAGE_FILE, writeDamageNote, type StoreDamage } from './damage.js';
import { acquireDataDirLock, type DataDirLock } from './lock.js';
import { DaemonNotifications } from './notifications.js';
import { LastKnown } from './memory.js';
import { Manager, type Runnable } from './manager.js';
import { SelfHealth, type SelfEvent } from './self.js';

export type DaemonState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface DaemonOptions {
  clock?: Clock;
  log?: (line: string) => void;
  /** Start (and reload) even when a file holding secrets is open to others; warn instead. */
  insecure?: boolean;
}

/** Host facts are written for status at least this far apart, unless the host's state changed. */
const HOST_FACTS_EVERY_MS = 10_000;
/** A diagnosis that takes longer is abandoned and the ticket escalated. */
const DIAGNOSIS_TIMEOUT_MS = 60_000;
/** How often the log collector is looked after (brought back if it died). */
const LOGS_TEND_MS = 2_000;
/** Services read fresh from the system on each full pass beyond those in play (round robin). */
const FRESH_PER_RESYNC = 500;

export class Daemon {
  state: DaemonState = 'starting';
  readonly clock: Clock;
  readonly metrics = new WardenMetrics();
  /** Whether passes succeed: read by /healthz, the watchdog, status, metrics and notifications. */
  readonly self: SelfHealth;
  private readonly log: (line: string) => void;
  private readonly sd: SdNotify;
  private readonly manager: Manager;
  private store!: Store;
  private supervisor!: ProcessSupervisor;
  private processDriver!: ProcessDriver;
  private systemdDriver!: HostedSystemdDriver;
  private transports!: Transports;
  private hostMonitor!: HostMonitor;
  private notifications!: DaemonNotifications;
  /** Kinds container and pod. */
  private podmanDriver!: HostedPodmanDriver;
  private executor!: Executor;
  private diagnoses!: DiagnosisRunner;
  /** The rules, or the rules side by side with LLMs (diagnosis.diagnosers); built at start. */
  private diagnoser: Diagnoser = rulesDiagnoser;
  private reconciler!: Reconciler;
  private effects!: EffectRunner;
  private scheduler!: CheckScheduler;
  /** Alerts from Alertmanager (POST /api/alerts), kept in the store, seen by passes as World.alerts. */
  private alerts!: AlertBook;
  private api: RunningApi | null = null;
  private readonly followers = new Followers();
  /** The dead man's switch: pinged after passes that complete while Warden does its job. */
  private readonly heartbeat: Heartbeat;
  /** Mutual watch: the peer Wardens of `peers`, probed through their /healthz. */
  private readonly peers: PeerWatcher;
  private apiToken: string | null = null;
  /** Approve and reject from afar: named tokens, approval links (daemon/decisions.ts). */
  private readonly decisions: DaemonDecisions;
  private bootId = '';
  private passTimer: Repeating | undefined;
  private readonly subjectFacts: SubjectObserver;
  private logsTimer: Repeating | undefined;
  private watchdogTimer: Repeating | undefined;
  private wakeTimer: TimerHandle | undefined;
  private passing = false;
  private wakePending = false;
  private again = false;
  private passId = 0;
  private readonly lastCheckVerdict = new Map<string, boolean | null>();
  /** The last observation of every service: a pass re-observes only what events or open work name. */
  private readonly observed: World['services'] = {};
  /** Services an event touched since the last pass (an exit, a check verdict, a unit change, a repair). */
  private readonly dirty = new Set<string>();
  /** Something other than a service changed (an answer, a command, a reload): pass at the next chance. */
  private kicked = true;
  /** The last pass found something under way or wrong: the next tick passes again. */
  private busy = true;
  /** Monotonic time of the last full pass (every service observed afresh); -Infinity: none yet. */
  private lastFullAt = Number.NEGATIVE_INFINITY;
  /** Services to look at again on every pass while they are not healthy or have open tickets. */
  private inPlay = new Set<string>();
  /** Where the next full pass's fresh slice starts. */
  private freshCursor = 0;
  /** Where the next log-rotation slice starts. */
  /** When each host's facts were last written for status (monotonic). */
  private readonly hostFactsAt = new Map<string, number>();
  /** Services a reload removed whose stop is pending: how to stop them is known only from here. */
  private readonly retired = new Map<string, ServiceSpec>();

  private readonly insecure: boolean;
  /** What status and debug read once the store is found damaged (it is not read again then). */
  private readonly lastKnown: LastKnown;

  constructor(private config: ResolvedConfig, opts: DaemonOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.subjectFacts = new SubjectObserver({ clock: this.clock, config: () => this.config, onChange: () => this.kick(), log: (l) => this.log(l) });
    this.insecure = opts.insecure ?? false;
    this.log = opts.log ?? ((line) => process.stdout.write(`${new Date(this.clock.now()).toISOString()} ${line}\n`));
    this.sd = new SdNotify(process.env, this.log);
    this.manager = new Manager(this.log);
    this.self = new SelfHealth({
      clock: this.clock, log: this.log, onFailure: () => this.metrics.passFailed(), onChange: (e) => this.selfChanged(e),
      storeFile: dbPath(config.agent.dataDir), onLatched: (d, text) => this.latched(d, text),
    });
    this.heartbeat = new Heartbeat({ clock: this.clock, spec: () => this.config.heartbeat ?? null, agent: () => this.config.agent.name, log: (l) => this.log(l) });
    this.decisions = new DaemonDecisions({ store: () => this.store, clock: this.clock, config: () => this.config, kick: () => this.kick(), halted: () => this.self.damage?.text ?? null });
    this.peers = new PeerWatcher({ clock: this.clock, peers: () => this.config.peers ?? [], onChange: (e) => this.peerChanged(e), log: (l) => this.log(l) });
    this.lastKnown = new LastKnown({
      states: () => this.effects.serviceStates(),
      process: (name) => {
        const p = this.observed[name]?.process;
        return p?.running && p.pid !== null ? { pid: p.pid, startedAt: p.startedAt ?? 0 } : null;
      },
    });
  }

  get lastPassAt(): number {
    return this.effects?.lastPassAt ?? 0;
  }

  async start(): Promise<void> {
    // Before anything is opened: a missing or exposed token refuses the start with no side effects.
    guardSecrets(this.config, { insecure: this.insecure, log: this.log });
    if (this.config.agent.api) this.apiToken = readToken(this.config.agent.api);
    this.decisions.loadTokens(this.config, this.apiToken);
    try {
      await this.manager.start(this.runnables());
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
    this.state = 'running';
    this.runPass();
  }

  /** SIGTERM: stop deciding, let in-flight actions reach a durable state, leave services running. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.state !== 'running' && this.state !== 'starting') return;
    this.state = 'draining';
    this.sd.send({ STOPPING: '1', STATUS: 'draining' }).catch(() => undefined);
    this.drainGraceMs = graceMs;
    await this.manager.stop();
    this.state = 'stopped';
  }

  private drainGraceMs = 10_000;

  /** The parts, in start order; each one's stop undoes its start. */
  private runnables(): Runnable[] {
    const cfg = this.config;
    let lock: DataDirLock | null = null;
    return [
      {
        // Before anything is written: a second Warden on this data directory stops here.
        name: 'lock',
        start: () => {
          lock = acquireDataDirLock(cfg.agent.dataDir);
          // What an older Warden or a looser umask left readable by others is closed before use.
          for (const c of tightenTree(cfg.agent.dataDir)) this.log(`data directory: tightened ${c}`);
        },
        stop: () => lock?.release(),
      },
      {
        name: 'store',
        start: async () => {
          const bootId = readBootId();
          this.bootId = bootId;
          // With the slow checks: a damaged store refuses the start rather than being read as empty.
          // Damage found later, by any read or write, latches (daemon/self.ts).
          const store = Store.open(cfg.agent.dataDir, { check: true, stamp: () => ({ mono: this.clock.mono(), boot: bootId }) });
          this.store = watchDamage(store, (d) => this.self.storeDamaged(d));
          const earlier = clearDamageNote(cfg.agent.dataDir);
          if (earlier) this.log(`an earlier run (pid ${earlier.pid}) found the store damaged (${earlier.reason}); its checks pass now`);
          this.lastKnown.load(this.store);
          this.alerts = new AlertBook({ store: this.store, config: () => this.config, now: () => this.instant() });
          this.alerts.load();
          this.decisions.loadKey(cfg);
          await reportUnusable(cfg, this.log);
        },
        stop: () => this.store.close(),
      },
      {
        name: 'drivers',
        start: () => this.startDrivers(),
        stop: async () => { this.supervisor.dispose(); this.systemdDriver.dispose(); this.podmanDriver.dispose(); await this.transports.closeAll(); },
      },
      {
        // Every host reached over SSH is read once before the first pass decides anything about it.
        name: 'hosts',
        start: () => this.hostMonitor.start(),
        stop: () => this.hostMonitor.stop(),
      },
      {
        // Before anything is announced: the outbox follows the audit log from its cursor.
        name: 'outbox',
        start: async () => {
          this.notifications = new DaemonNotifications({
            store: this.store, clock: this.clock, boot: () => this.bootId, config: () => this.config, metrics: this.metrics, log: this.log,
            linkKey: () => this.decisions.linkKey(),
            audit: (i) => { if (this.state === 'running' || this.state === 'draining' || this.state === 'starting') this.audit([i]); },
          });
          this.notifications.outbox.start();
          await reportUnusable(cfg, this.log, (u) => this.notifications.unusable(u));
        },
        stop: () => this.notifications.outbox.stop(Math.min(this.drainGraceMs, 3000)),
      },
      {
        name: 'executor',
        start: () => this.startExecutor(),
        stop: async () => {
          this.diagnoses.abortAll();
          const drained = await this.executor.drain(this.drainGraceMs);
          this.audit([{ kind: 'agent.stopped', subject: null, data: { pid: process.pid, drained } }]);
          this.log(`stopping: ${drained ? 'in-flight actions settled' : 'grace period over; unfinished actions resume on next start'}; services keep running`);
        },
      },
      {
        name: 'checks',
        start: () => {
          this.scheduler = new CheckScheduler(this.clock, (service, st) => {
            // Wake on what can change a decision: a check's verdict.
            const key = `${service}/${st.id}`;
            const prev = this.lastCheckVerdict.get(key);
            this.lastCheckVerdict.set(key, st.healthy);
            this.metrics.checkResult(service, st);
            if (prev !== st.healthy) this.touch(service);
          }, {
            onError: (e) => this.log(`checks: ${errorText(e)}`),
            // A check of a service on another host runs there.
            transportOf: (service) => this.transports.get(this.config.services.find((x) => x.name === service)?.host ?? 'local'),
          });
          this.scheduler.setServices(this.config.services);
          this.scheduler.start();
        },
        stop: () => this.scheduler.stop(),
      },
      {
        // Subjects that read their system (etcd: members, leader, alarms) do so on their own clock.
        name: 'subjects',
        start: () => this.subjectFacts.start(),
        stop: () => this.subjectFacts.stop(),
      },
      {
        // Peer Wardens are probed on their own timers, whatever this one's loop does.
        name: 'peers',
        start: () => this.peers.start(),
        stop: () => this.peers.stop(),
      },
      {
        name: 'loop',
        start: () => this.startLoop(),
        stop: async () => {
          this.passTimer?.cancel();
          this.logsTimer?.cancel();
          this.clock.clearTimeout(this.wakeTimer);
          await this.heartbeat.stop();
        },
      },
      {
        name: 'watchdog',
        start: () => {
          const every_ = this.sd.watchdogEveryMs;
          if (every_ !== null) this.watchdogTimer = every(this.clock, every_, () => this.watchdogPing());
        },
        stop: () => this.watchdogTimer?.cancel(),
      },
      {
        name: 'api',
        start: () => this.startApi(),
        // Before the store closes: the API's handlers read it. Event streams end first, cleanly.
        stop: async () => {
          await this.followers.stop();
          await this.api?.close();
        },
      },
    ];
  }

  private startDrivers(): void {
    const cfg = this.config;
    this.supervisor = new ProcessSupervisor({
      dataDir: cfg.agent.dataDir,
      instanceId: instanceIdOf(cfg),
      boot: this.bootId,
      registry: this.store,
      clock: this.clock,
      onExit: (service, exit) => {
        this.log(`observe ${service}: process exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? '?'}`})`);
        this.touch(service);
      },
      onError: (e) => this.log(`process supervisor: ${errorText(e)}`),
    });
    // Once per start: whether a stop kills a service's whole cgroup or only its process group.
    this.log(`process supervisor: ${this.supervisor.cgroupDetail}`);
    this.processDriver = new ProcessDriver(this.supervisor);
    this.transports = new Transports(cfg.agent.dataDir, (host, up, why) => { if (!up) this.log(`host ${host}: SSH master connection ended: ${why}`); });
    this.transports.set(cfg.hosts);
    this.hostMonitor = new HostMonitor({
      clock: this.clock, transport: (h) => this.transports.get(h), log: this.log,
      onChange: (host) => { for (const s of this.config.services) if (s.host === host) this.dirty.add(s.name); this.kick(); },
      onBoot: (host, from, to) => this.hostBooted(host, from, to),
      lastBoot: (host) => this.store.getFlag(HOST_BOOT_FLAG + host),
      onFacts: (host, facts, changed) => this.hostFacts(host, facts, changed),
      rebooting: (host) => {
        const a = this.store.listActions({ states: ['executing'] }).find((x) => x.target === host && isHostAction(x.type));
        return a ? `Warden's own ${a.type} ${a.id} is under way` : null;
      },
    });
    this.hostMonitor.setHosts(sshHosts(cfg));
    this.systemdDriver = new HostedSystemdDriver({
      transport: (h) => this.transports.get(h),
      clock: this.clock,
      onChange: (service) => this.touch(service),
      onExit: (service, exit) => {
        // Kept in the store too, so the exit history outlives this process (debug, diagnosis).
        this.store.addExit(service, { ...exit, stamp: { mono: this.clock.mono(), boot: this.bootId } });
        this.log(`observe ${service}: unit run ended (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? '?'}`})`);
        this.touch(service);
      },
      onError: (e) => this.log(`systemd: ${errorText(e)}`),
    });
    this.systemdDriver.setServices(cfg.services);
    const podmanDir = join(cfg.agent.dataDir, 'podman');
    mkdirPrivate(podmanDir);
    this.podmanDriver = new HostedPodmanDriver({
      transport: (h) => this.transports.get(h),
      clock: this.clock,
      workDir: podmanDir,
      onChange: (service) => this.touch(service),
      onExit: (service, exit) => {
        this.store.addExit(service, { ...exit, stamp: { mono: this.clock.mono(), boot: this.bootId } });
        this.log(`observe ${service}: container exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? '?'}`})`);
        this.touch(service);
      },
      onError: (e) => this.log(`podman: ${errorText(e)}`),
    });
    this.podmanDriver.setServices(cfg.services);
  }

  /** Resumes interrupted actions, then announces the agent: people learn that it is back, and after what. */
  private async startExecutor(): Promise<void> {
    const cfg = this.config;
    const boot = this.store.recordBoot(this.bootId, this.clock.now());
    // The first observation of systemd units is real before the first pass decides anything.
    if (cfg.services.some((x) => x.kind === 'systemd')) await this.systemdDriver.startPolling();
    if (this.podmanDriver.hasServices()) await this.podmanDriver.startPolling();
    const { adopted, gone } = this.supervisor.adopt(processServices(cfg));
    this.executor = new Executor({
      store: this.store, driverFor: (spec) => this.driverFor(spec), clock: this.clock, boot: this.bootId, config: () => this.config,
      retired: (name) => this.retired.get(name),
      host: (name) => {
        const spec = this.config.hosts.find((h) => h.name === name);
        return spec && { host: spec, transport: this.transports.get(name), facts: () => this.hostMonitor.snapshot()[name] };
      },
      actor: cfg.agent.name, onSettled: (a) => this.settled(a), log: this.log,
      halted: () => this.self.damage?.text ?? null, refused: (r) => this.metrics.actionBlocked(r.by),
    });
    this.diagnoser = configuredDiagnoser(cfg, this.store.llm, this.clock);
    this.diagnoses = new DiagnosisRunner({
      diagnoser: this.diagnoser, clock: this.clock, timeoutMs: DIAGNOSIS_TIMEOUT_MS,
      gather: (req) => this.evidence(req),
      onAnswer: (a) => { this.reconciler.answer(a); this.kick(); },
    });
    const resumed = this.executor.resume();
    const open = this.store.listTickets({ openOnly: true });
    const reboots = this.store.listReboots().length;
    // The audit head goes out of band too: a copy outside this host is what makes rewriting the
    // whole chain (every hash and the head) detectable.
    const auditHead = this.store.auditHead();
    const data = { pid: process.pid, mode: cfg.agent.mode, config: cfg.file, rebooted: boot.reboot, reboots, openTickets: open.length, resumedActions: resumed.map((a) => a.id), adopted, gone, auditHead };
    this.store.setFlag(CONFIG_FLAG, JSON.stringify(cfg));
    this.audit([{ kind: 'agent.online', subject: null, data }]);
    this.notifications.outbox.kick();
    this.log(`online: ${cfg.agent.name} (${cfg.agent.mode} mode), ${cfg.services.length} services, adopted ${adopted.length} running, ${open.length} open tickets, ${resumed.length} actions resumed, ${reboots} reboots${boot.reboot ? ' (this start follows a reboot)' : ''}`);
  }

  private startLoop(): void {
    this.metrics.setInventory(this.config.services, this.config.notify.map((c) => c.name));
    this.metrics.setFrozen(this.store.getFlag(FROZEN_FLAG) != null);
    this.metrics.configLoaded(true, this.clock.now());
    this.reconciler = new Reconciler({
      store: this.store, config: () => this.config, observe: (touched) => this.world(touched), policy: new PolicySource(),
      now: () => ({ wall: this.clock.now(), mono: this.clock.mono(), boot: this.bootId }),
      diagnosing: () => this.diagnoses.diagnosing,
      persistAlso: (out, now) => this.effects.persist(out, now),
      // Rules answer at once: applied in the pass that asks (one commit, as fast as before).
      // With LLMs beside them, every diagnosis is an effect: the LLM's answer must not be skipped.
      ...(this.diagnoser.diagnoseNow ? { diagnoseNow: (req: DiagnoseRequest) => ({ ticketId: req.ticketId, key: req.key, diagnosis: this.diagnoser.diagnoseNow!(this.evidence(req)) }) } : {}),
    });
    this.effects = new EffectRunner({
      store: this.store, config: () => this.config, clock: this.clock, metrics: this.metrics, executor: this.executor,
      diagnoses: this.diagnoses, scheduler: this.scheduler, log: this.log,
      announce: () => this.notifications.outbox.kick(),
      wakeIn: (ms) => this.wakeIn(ms),
      boot: () => this.bootId,
      // READY=1 only after the first full pass: systemd then knows Warden is really watching.
      onFirstPass: () => { this.sd.send({ READY: '1', STATUS: this.statusLine() }).catch(() => undefined); },
    });
    this.passTimer = every(this.clock, this.config.agent.intervalMs, () => this.tick());
    this.supervisor.configureLogs(processServices(this.config));
    this.logsTimer = every(this.clock, LOGS_TEND_MS, () => this.supervisor.tendLogs());
  }

  private async startApi(): Promise<void> {
    const api = this.config.agent.api;
    if (!api) return;
    this.api = await startApi(createApi(daemonApiDeps({
      config: () => this.config, store: this.store, now: () => this.clock.now(),
      lastPassAt: () => this.lastPassAt, running: () => this.state === 'running', summary: () => this.effects.lastSummary,
      failing: () => this.self.problem,
      reads: () => (this.self.damage === null ? this.store : this.lastKnown),
      damaged: () => {
        const d = this.self.damage;
        return d && { since: iso(d.since), reason: d.text };
      },
      observe: (name, lines) => {
        const spec = this.config.services.find((x) => x.name === name)!;
        const driver = this.driverFor(spec);
        const process = driver.state(spec);
        return {
          process, checks: this.scheduler.states(name), logTail: driver.logTail(spec, lines), logSource: logSourceOf(spec, this.supervisor),
          pod: this.podmanDriver.podJson(spec, process, lines), resources: problemResources(this.config, { service: name, findings: [] }),
        };
      },
      checks: (name) => this.scheduler.states(name),
      metrics: this.metrics, followers: this.followers,
      alerts: (incoming) => {
        const receipt = this.alerts.receive(incoming);
        this.log(`alerts: ${receipt.received} received; ${receipt.firing.length} firing on services, ${receipt.resolved.length} resolved, ${receipt.unmatched.length} naming no service${receipt.unmatched.length ? ` (${receipt.unmatched.map((u) => u.alert).join(', ')})` : ''}`);
        this.kick();
        return receipt;
      },
      named: () => this.decisions.named(), decisions: this.decisions.api(),
    }, () => this.apiToken)), api, { onError: (e) => this.log(`api: ${e.message}`) });
    this.log(`api listening on ${api.tls ? 'https' : 'http'}://${api.host}:${this.api.port} (at most ${api.maxConnections} connections)`);
    // The config accepted the reason; every start says it again, where whoever reads the log sees it.
    if (api.allowRemote && !api.tls) this.log(`api: other hosts can reach it over plain HTTP; insecureReason: ${api.insecureReason ?? ''}`);
  }

  /** True while passes complete: what /healthz and the systemd watchdog report (one definition). */
  progressing(): { ok: boolean; reason: string } {
    return progressVerdict(this.state === 'running', this.lastPassAt, this.clock.now(), this.config.agent.intervalMs, this.self.problem);
  }

  /**
   * Store damage latched: the gauge, systemd's status line, and the note a CLI command reads to
   * refuse at once (without it, a command waits for a pass that never applies it, then withdraws).
   */
  private latched(d: StoreDamage, text: string): void {
    this.metrics.setStoreDamaged(true);
    this.sd.send({ STATUS: text }).catch(() => undefined);
    try {
      writeDamageNote(this.config.agent.dataDir, { pid: process.pid, since: new Date(d.since).toISOString(), reason: text });
    } catch (e) {
      this.log(`cannot write ${DAMAGE_FILE}: ${errorText(e)}; people's commands are withdrawn after a wait instead of refused at once`);
    }
  }

  /**
   * Degraded goes out of band at once (the store may be what fails: then from memory); recovered
   * is audited once the store takes writes again, and announced from the audit log like the rest.
   */
  private selfChanged(e: SelfEvent): void {
    if (e.kind !== 'agent.recovered') {
      this.notifications.self(e.kind, `${this.config.agent.name} ${e.summary}`, e.data);
      return;
    }
    try {
      this.audit([{ kind: 'agent.recovered', subject: null, data: e.data }]);
      this.notifications.outbox.kick();
    } catch (err) {
      this.log(`audit agent.recovered: ${errorText(err)}`);
      this.notifications.self(e.kind, `${this.config.agent.name} ${e.summary}`, e.data);
    }
  }

  /**
   * A peer's verdict changed: kept for status; when it became unreachable or answers again,
   * audited and so announced through the outbox (from memory when the store cannot take it).
   */
  private peerChanged(e: PeerEvent): void {
    const p = e.peer;
    const flag = (): void => this.store.setFlag(PEER_PREFIX + p.name, JSON.stringify({ url: p.url, reachable: p.reachable, since: p.since, reason: p.reason }));
    if (e.kind === null) {
      this.log(`peer ${p.name}: reachable at ${p.url}`);
      try { flag(); } catch (err) { this.log(`peer ${p.name}: ${errorText(err)}`); }
      return;
    }
    const data = { peer: p.name, url: p.url, reason: p.reason, failures: p.failures, since: iso(p.since) };
    const summary = e.kind === 'peer.unreachable'
      ? `${this.config.agent.name} cannot reach its peer ${p.name} (${p.failures} probes of ${p.url} failed): ${p.reason ?? ''}`
      : `${this.config.agent.name} reaches its peer ${p.name} again`;
    this.log(`peer ${p.name}: ${summary}`);
    const kind = e.kind;
    try {
      this.store.transaction(() => {
        flag();
        this.store.audit({ at: this.clock.now(), actor: this.config.agent.name, kind, subject: null, data });
      });
    } catch (err) {
      // Not audited (the store fails): said from memory, as degraded is.
      this.log(`audit ${e.kind}: ${errorText(err)}`);
      this.notifications.self(kind, summary, data);
    }
    this.notifications.outbox.kick();
  }

  private watchdogPing(): void {
    const p = this.progressing();
    // A wedged loop must stop the pings, so systemd's watchdog restarts us.
    if (!p.ok) { this.log(`watchdog: not pinging: ${p.reason}`); return; }
    this.sd.send({ WATCHDOG: '1', STATUS: this.statusLine() }).catch(() => undefined);
  }

  private statusLine(): string {
    if (this.self.damage) return this.self.damage.text;
    return `${this.effects.lastSummary}; ${this.config.services.length} services; ${this.effects.lastOpenTickets} open tickets; mode ${this.config.agent.mode}`;
  }

  /**
   * SIGHUP: read the config again. A file that does not validate changes nothing: the running
   * config stays and the reason is logged and audited.
   */
  reload(load: () => ResolvedConfig): boolean {
    if (this.self.damage) {
      // A reload writes the store and may commit stop actions: acting has stopped.
      this.log(`reload refused, keeping the running config: ${this.self.damage.text}`);
      return false;
    }
    let next: ResolvedConfig;
    try {
      next = load();
      guardSecrets(next, { insecure: this.insecure, log: this.log });
      if (next.agent.dataDir !== this.config.agent.dataDir) throw new Error(`agent.dataDir changed (${this.config.agent.dataDir} → ${next.agent.dataDir}); that needs a restart`);
    } catch (e) {
      const msg = errorText(e);
      this.log(`reload rejected, keeping the running config: ${msg}`);
      this.metrics.configLoaded(false, this.clock.now());
      this.audit([{ kind: 'config.rejected', subject: null, data: { file: this.config.file, error: msg } }]);
      return false;
    }
    if (next.agent.api) {
      try {
        this.apiToken = readToken(next.agent.api);
        this.decisions.loadTokens(next, this.apiToken);
        this.decisions.loadKey(next);
      } catch (e) {
        this.log(`reload: keeping the old API tokens and link key: ${errorText(e)}`);
      }
    }
    const prev = this.config;
    this.config = next;
    this.store.setFlag(CONFIG_FLAG, JSON.stringify(next));
    this.retire(prev, next);
    this.transports.set(next.hosts);
    this.hostMonitor.setHosts(sshHosts(next));
    this.scheduler.setServices(next.services);
    this.systemdDriver.setServices(next.services);
    this.supervisor.configureLogs(processServices(next));
    this.subjectFacts.start();
    this.peers.start();
    if (next.services.some((x) => x.kind === 'systemd')) this.systemdDriver.startPolling().catch((e: unknown) => this.log(`systemd: ${errorText(e)}`));
    this.podmanDriver.setServices(next.services);
    if (this.podmanDriver.hasServices()) this.podmanDriver.startPolling().catch((e: unknown) => this.log(`podman: ${errorText(e)}`));
    this.metrics.configLoaded(true, this.clock.now());
    this.metrics.setInventory(next.services, next.notify.map((c) => c.name));
    this.effects.retain(new Set(next.services.map((x) => x.name)));
    this.lastKnown.loadFlags(this.store);
    void reportUnusable(next, this.log, (u) => this.notifications.unusable(u));
    this.audit([{ kind: 'config.reloaded', subject: null, data: { file: next.file, services: next.services.length, mode: next.agent.mode } }]);
    this.log(`reloaded ${next.file}: ${next.services.length} services, mode ${next.agent.mode}`);
    this.lastFullAt = Number.NEGATIVE_INFINITY;
    this.kick();
    return true;
  }

  /**
   * Services the reload removed (domain/inventory.ts decides): a stop action, committed by the
   * reconciler and run by the next pass like any other, or left running and recorded as unmanaged.
   */
  private retire(prev: ResolvedConfig, next: ResolvedConfig): void {
    for (const s of next.services) this.retired.delete(s.name);
    const names = new Set(next.services.map((s) => s.name));
    // Back in the inventory: managed again.
    for (const name of this.store.flagsWithPrefix(UNMANAGED_PREFIX).keys()) if (names.has(name)) this.store.setFlag(UNMANAGED_PREFIX + name, null);
    for (const r of this.reconciler.retire(prev, next)) {
      if ('stop' in r) {
        this.retired.set(r.spec.name, r.spec);
        this.log(`reload: ${r.spec.name} removed from the inventory: ${r.stop.next.type} ${r.stop.next.id} (${r.stop.next.state})`);
        continue;
      }
      const pid = this.driverFor(r.spec).state(r.spec).pid;
      this.store.setFlag(UNMANAGED_PREFIX + r.spec.name, JSON.stringify({ pid, since: this.clock.now(), reason: r.leave }));
      this.audit([{ kind: 'service.unmanaged', subject: r.spec.name, data: { service: r.spec.name, pid, reason: r.leave } }]);
      this.log(`reload: ${r.spec.name} is unmanaged${pid ? ` (pid ${pid} left running)` : ''}: ${r.leave}`);
    }
  }

  /** An event touched a service: observe it again in a pass as soon as possible. */
  private touch(service: string): void {
    this.dirty.add(service);
    this.wake();
  }

  /** Something besides a service changed (a person's command, an answer): pass as soon as possible. */
  kick(): void {
    this.kicked = true;
    this.wake();
  }

  /** Ask for a pass as soon as possible; coalesces bursts of events into one pass. */
  wake(): void {
    if (this.state !== 'running') return;
    if (this.passing) { this.again = true; return; }
    if (this.wakePending) return;
    this.wakePending = true;
    setImmediate(() => { this.wakePending = false; this.runPass(); });
  }

  /**
   * The interval timer. A pass when anything is under way, changed or queued, or when the full
   * resync is due; otherwise nothing can have changed without an event, and the tick only proves the
   * loop alive (heartbeat). Steady-state cost so follows change, not the size of the inventory.
   */
  private tick(): void {
    if (this.state !== 'running' || this.passing) return;
    if (this.wedged()) return;
    // Store damaged: every tick observes (nothing else can wake the loop for commands or answers).
    if (this.self.damage) { this.runPass(); return; }
    try {
      this.assertProbesRun();
      if (this.busy || this.kicked || this.dirty.size > 0 || this.fullDue() || this.store.hasPendingCommands()) {
        this.runPass();
        return;
      }
      this.effects.quiet(this.clock.now());
      this.self.passSucceeded();
      this.passed();
    } catch (e) {
      this.self.passFailed(++this.passId, e);
    }
  }

  /**
   * Checks that cannot run (Warden out of descriptors) make the world unknown: the pass fails and
   * says why rather than decide on it. The next probe that runs clears it.
   */
  private assertProbesRun(): void {
    const blocked = this.scheduler.blocked();
    if (blocked !== null) throw blocked;
  }

  /**
   * A pass (or a quiet tick) completed: the dead man's switch is pinged while Warden does its job,
   * not while it only observes a damaged store (acting has stopped: the outside should know).
   */
  private passed(): void {
    if (this.self.problem === null && this.self.damage === null) this.heartbeat.passed();
  }

  /** The test-only wedge (lib/fault.ts): from now on no pass completes, as if one never returned. */
  private wedged(): boolean {
    if (!loopWedged()) return false;
    if (!this.passing) this.log('fault: the pass loop is wedged (WARDEN_WEDGE_FILE); no pass completes from now on');
    this.passing = true;
    return true;
  }

  private fullDue(): boolean {
    return this.clock.mono() - this.lastFullAt >= this.config.agent.resyncMs;
  }

  /** A pass at a known future time (verification stability, retry backoff). */
  private wakeIn(ms: number): void {
    this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = this.clock.setTimeout(() => { this.wakeTimer = undefined; this.kick(); }, ms);
  }

  private runPass(): void {
    if (this.state !== 'running') return;
    if (this.wedged()) return;
    this.passing = true;
    const id = ++this.passId;
    const t0 = performance.now();
    const full = this.fullDue();
    const touched = [...this.dirty];
    this.dirty.clear();
    this.kicked = false;
    try {
      this.assertProbesRun();
      if (this.self.damage) this.observeOnly(full, touched);
      else this.decide(full, touched);
      this.metrics.observePass((performance.now() - t0) / 1000, this.clock.now());
      this.self.passSucceeded();
      this.passed();
    } catch (e) {
      // Pass guard: one bad pass is reported and the next one starts from fresh observations.
      for (const s of touched) this.dirty.add(s);
      this.kicked = true;
      this.lastFullAt = Number.NEGATIVE_INFINITY;
      this.self.passFailed(id, e);
    } finally {
      this.passing = false;
      if (this.again) { this.again = false; this.wake(); }
    }
  }

  private decide(full: boolean, touched: string[]): void {
    const r = this.reconciler.pass(full ? null : touched);
    if (full) this.lastFullAt = this.clock.mono();
    this.busy = r.busy;
    // Services not healthy, or with open tickets, are looked at again on every pass until settled.
    this.inPlay = new Set([
      ...Object.entries(r.out.detection.health).filter(([, h]) => h.health !== 'healthy').map(([n]) => n),
      ...r.open.map((t) => t.service), ...r.pending.map((a) => a.target),
    ]);
    // Effects only after the decision is committed: an action must be durable before it runs.
    this.effects.run(r);
    this.lastKnown.committed(r, this.store);
  }

  /**
   * The store is damaged: observe and report (health, findings, summary: log, metrics, status from
   * memory), but decide nothing and write nothing: no ticket, no action, no person's command.
   */
  private observeOnly(full: boolean, touched: string[]): void {
    const world = this.world(full ? null : touched);
    if (full) this.lastFullAt = this.clock.mono();
    const open = this.lastKnown.listTickets({ openOnly: true });
    const detection = detect(this.config, world, open, subjects);
    this.inPlay = new Set(Object.entries(detection.health).filter(([, h]) => h.health !== 'healthy').map(([n]) => n));
    this.effects.observed(detection, world, open, this.clock.now());
  }

  /**
   * The world. A full pass (`touched` null) takes every service again: fresh from the system for
   * the ones events touched, the ones in play and a rolling slice of the rest (FRESH_PER_RESYNC, so
   * every process is read again within a few resyncs), from the drivers' event-fed state for the
   * others. Other passes take only the touched ones and those in play; the rest stay as last seen.
   */
  private world(touched: readonly string[] | null): World {
    const specs = this.config.services;
    const fresh = new Set([...(touched ?? []), ...this.inPlay]);
    if (touched === null) {
      const names = new Set(specs.map((x) => x.name));
      for (const key of Object.keys(this.observed)) if (!names.has(key)) delete this.observed[key];
      for (let i = 0; i < Math.min(FRESH_PER_RESYNC, specs.length); i++) fresh.add(specs[(this.freshCursor + i) % specs.length]!.name);
      this.freshCursor = specs.length === 0 ? 0 : (this.freshCursor + FRESH_PER_RESYNC) % specs.length;
      // Untouched services keep their last observation: no event said it changed, and rebuilding
      // ten thousand of them per resync is garbage for nothing.
      for (const s of specs) {
        if (fresh.has(s.name)) this.observe(s, false);
        else if (this.observed[s.name] === undefined) this.observe(s, true);
      }
    } else {
      for (const s of specs) if (fresh.has(s.name) || this.observed[s.name] === undefined) this.observe(s, false);
    }
    this.observeDependenciesOfFailing(fresh);
    const now = this.instant();
    return { at: now.wall, mono: now.mono, services: this.observed, subjects: this.subjectFacts.snapshot(), promql: this.subjectFacts.promql(), alerts: this.alerts.firing(now), hosts: this.hostMonitor.snapshot() };
  }

  private instant(): { wall: number; mono: number; boot: string } {
    return { wall: this.clock.now(), mono: this.clock.mono(), boot: this.bootId };
  }

  /**
   * A service failing now may be failing because of a dependency that only looks alive (stopped,
   * its TCP backlog still accepting): its dependencies, transitively, are read fresh in this pass.
   */
  private observeDependenciesOfFailing(fresh: Set<string>): void {
    const specs = new Map(this.config.services.map((s) => [s.name, s]));
    const queue = [...fresh].filter((n) => {
      const o = this.observed[n];
      return o !== undefined && (!o.process.running || o.checks.some((c) => c.healthy === false || c.last?.ok === false));
    });
    const seen = new Set(queue);
    while (queue.length > 0) {
      for (const dep of specs.get(queue.pop()!)?.dependsOn ?? []) {
        const spec = specs.get(dep);
        if (spec === undefined || seen.has(dep)) continue;
        seen.add(dep);
        queue.push(dep);
        if (fresh.has(dep)) continue;
        fresh.add(dep);
        this.observe(spec, false);
      }
    }
  }

  private observe(s: ServiceSpec, cached: boolean): void {
    this.observed[s.name] = this.observation(s, cached);
  }

  /** One service as its driver and its checks show it now (`cached`: the driver's event-fed state). */
  private observation(s: ServiceSpec, cached = false): World['services'][string] {
    return { name: s.name, host: s.host, process: this.driverFor(s).state(s, { cached }), checks: this.scheduler.states(s.name) };
  }

  /**
   * The world a diagnosis looks at: the problem's services and their dependencies read fresh, the
   * rest as last observed (a diagnosis must not cost a /proc read per service of the inventory).
   */
  private evidenceWorld(problem: DiagnoseRequest['problem']): World {
    const services: World['services'] = { ...this.observed };
    // A subject's problem is judged on all its members, and on what the subject last read.
    const members = this.config.subjects.find((s) => s.name === problem.service)?.members ?? [];
    const names = new Set([problem.service, ...members, ...problem.findings.map((f) => f.service)]);
    for (const n of [...names]) for (const d of this.config.services.find((x) => x.name === n)?.dependsOn ?? []) names.add(d);
    for (const s of this.config.services) {
      if (names.has(s.name)) services[s.name] = this.observation(s);
    }
    const now = this.instant();
    return { at: now.wall, mono: now.mono, services, subjects: this.subjectFacts.snapshot(), promql: this.subjectFacts.promql(), alerts: this.alerts.firing(now), hosts: this.hostMonitor.snapshot() };
  }

  /** Everything a diagnoser may look at for one request (the runtime's I/O: log tail, fresh state). */
  private evidence(req: DiagnoseRequest): EvidenceBundle {
    const spec = this.config.services.find((x) => x.name === req.problem.service);
    return {
      ticketId: req.ticketId, key: req.key, config: this.config, world: this.evidenceWorld(req.problem), problem: req.problem,
      now: this.clock.now(), mono: this.clock.mono(), boot: this.bootId,
      ...logEvidence(this.config, spec, spec ? this.driverFor(spec).logTail(spec, 50) : []),
      ...storeAndHostEvidence(this.config, this.store, req.problem),
    };
  }

  private driverFor(spec: ServiceSpec): ServiceDriver {
    return driverOf<ServiceDriver>({ process: this.processDriver, systemd: this.systemdDriver, container: this.podmanDriver, pod: this.podmanDriver }, spec);
  }

  private settled(a: Action): void {
    this.lastKnown.action(a);
    // The executor audited the outcome: announce it.
    this.notifications.outbox.kick();
    this.metrics.actionSettled(a, this.clock.now());
    if (a.state === 'completed' && (a.type === 'restart' || a.type === 'start')) {
      // Results from before the repair must not count toward verification: forget them, probe now.
      this.scheduler.reset(a.target);
      this.scheduler.kick(a.target).catch((e: unknown) => this.log(`kick ${a.target}: ${errorText(e)}`));
    }
    this.touch(a.target);
  }

  /**
   * What the host monitor read, kept for status and debug (views/hosts.ts): at once when the host's
   * reachability or boot changed, otherwise at most every HOST_FACTS_EVERY_MS (a write per probe
   * of every host would be an fsync a second for nothing).
   */
  private hostFacts(host: string, facts: HostFacts, changed: boolean): void {
    const now = this.clock.mono();
    if (!changed && now - (this.hostFactsAt.get(host) ?? Number.NEGATIVE_INFINITY) < HOST_FACTS_EVERY_MS) return;
    this.hostFactsAt.set(host, now);
    try {
      this.store.setFlag(HOST_FACTS_PREFIX + host, JSON.stringify(facts));
    } catch (e) {
      this.log(`host ${host}: cannot keep its facts for status: ${errorText(e)}`);
    }
  }

  /** A managed host's boot id changed: remembered across Warden's restarts; a reboot logged and audited. */
  private hostBooted(host: string, from: string | null, to: string): void {
    if (from !== null) this.log(`host ${host} rebooted: boot id ${from} → ${to}`);
    try {
      this.store.setFlag(HOST_BOOT_FLAG + host, to);
      if (from !== null) this.audit([{ kind: 'host.rebooted', subject: host, data: { host, from, to } }]);
    } catch (e) {
      this.log(`audit host.rebooted: ${errorText(e)}`);
    }
  }

  private audit(intents: AuditIntent[]): void {
    const now = this.clock.now();
    this.store.transaction(() => {
      for (const i of intents) this.store.audit({ at: now, actor: this.config.agent.name, kind: i.kind, subject: i.subject, data: i.data });
    });
  }
}

/** Where a service's log lines come from, for people. */
function logSourceOf(spec: ServiceSpec, supervisor: ProcessSupervisor): string | null {
  if (spec.kind === 'process') return supervisor.logFile(spec.name);
  if (spec.kind === 'systemd') return `journal of ${spec.unit}`;
  return podmanLogSource(spec);
}


function sshHosts(cfg: ResolvedConfig): SshHostSpec[] {
  return cfg.hosts.filter((h): h is SshHostSpec => h.transport === 'ssh');
}

function processServices(cfg: ResolvedConfig): ServiceSpec[] {
  return cfg.services.filter((s) => s.kind === 'process');
}
