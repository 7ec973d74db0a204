// Prometheus metrics of the daemon, served at GET /metrics. A registry of our own (not prom-client's
// global one), so tests and several daemons in one process never share or collide on series.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  CAUSES, type Action, type ActionState, type ActionType, type Cause, type CheckState, type Finding, type FindingKind,
  type Health, type Millis, type ServiceObservation, type ServiceSpec, type Ticket,
} from '../domain/types.js';
import { REFUSED_BY, type RefusedBy } from '../domain/policy.js';
import { TICKET_STATUSES } from './diagnostics.js';
import { wardenVersion } from './version.js';

const FINDING_KINDS: readonly FindingKind[] = [
  'missing_service', 'unhealthy_service', 'failed_deployment', 'offline_node', 'unresolved_incident', 'invariant_violated',
];
/** Every status but `resolved`: resolved tickets only accumulate, a gauge of them says nothing. */
const OPEN_TICKET_STATUSES = TICKET_STATUSES.filter((s) => s !== 'resolved');

export type ActionOutcome = Extract<ActionState, 'completed' | 'failed' | 'cancelled'>;

// Passes take well under a millisecond to a few hundred; detection is event-driven (ms) or bounded
// by probe intervals (seconds); recovery includes the verification stable period (seconds to minutes).
const PASS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const DETECT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const RECOVER_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export class WardenMetrics {
  readonly registry = new Registry();
  private readonly passDuration: Histogram;
  private readonly lastPass: Gauge;
  private readonly findings: Gauge<'kind'>;
  private readonly tickets: Gauge<'status'>;
  private readonly actions: Counter<'type' | 'outcome'>;
  private readonly detect: Histogram;
  private readonly recover: Histogram;
  private readonly passFailures: Counter;
  private readonly serviceHealthy: Gauge<'service' | 'host'>;
  private readonly restarts: Counter<'service'>;
  private readonly lastRepair: Gauge<'service'>;
  private readonly checkSuccess: Gauge<'service' | 'check'>;
  private readonly checkLatency: Gauge<'service' | 'check'>;
  private readonly frozen: Gauge;
  private readonly storeDamaged: Gauge;
  private readonly reloadOk: Gauge;
  private readonly reloadAt: Gauge;
  private readonly notifyFailures: Counter<'channel'>;
  private readonly ticketsOpened: Counter<'cause'>;
  private readonly blocked: Counter<'by'>;
  /** The host each service's health series carries, so a move or a removal drops the old series. */
  private readonly hosts = new Map<string, string>();
  /** The checks with series, per service, so a removed service or check drops them. */
  private readonly checks = new Map<string, Set<string>>();
  /** The services of the last setInventory, whose counters exist. */
  private inventory = new Set<string>();

  constructor(opts: { defaultMetrics?: boolean; version?: string; now?: Millis } = {}) {
    const registers = [this.registry];
    this.passDuration = new Histogram({ name: 'warden_pass_duration_seconds', help: 'Duration of one reconcile pass (observe, decide, persist).', buckets: PASS_BUCKETS, registers });
    this.lastPass = new Gauge({ name: 'warden_last_pass_timestamp_seconds', help: 'Unix time of the last completed reconcile pass.', registers });
    this.findings = new Gauge({ name: 'warden_findings', help: 'Findings of the last pass, by kind.', labelNames: ['kind'], registers });
    this.tickets = new Gauge({ name: 'warden_tickets', help: 'Tickets not yet resolved, by status.', labelNames: ['status'], registers });
    this.actions = new Counter({ name: 'warden_actions_total', help: 'Actions that reached a final state, by type and outcome.', labelNames: ['type', 'outcome'], registers });
    this.detect = new Histogram({ name: 'warden_time_to_detect_seconds', help: 'From the fault (process exit, first failing probe) to its ticket being opened.', buckets: DETECT_BUCKETS, registers });
    this.recover = new Histogram({ name: 'warden_time_to_recover_seconds', help: 'From the fault (as for time to detect) to its repair being verified (ticket resolved).', buckets: RECOVER_BUCKETS, registers });
    this.passFailures = new Counter({ name: 'warden_pass_failures_total', help: 'Reconcile passes that failed (store full or corrupt, an internal error); see /healthz for why.', registers });
    const up = new Gauge({ name: 'warden_up', help: '1 while the daemon runs.', registers });
    up.set(1);
    this.serviceHealthy = new Gauge({ name: 'warden_service_healthy', help: 'Per service: 1 healthy, 0 unhealthy or missing; absent while unknown (not observed yet, or paused).', labelNames: ['service', 'host'], registers });
    this.restarts = new Counter({ name: 'warden_service_restarts_total', help: 'Restarts Warden performed on the service (completed restart actions, repairs and people\'s).', labelNames: ['service'], registers });
    this.lastRepair = new Gauge({ name: 'warden_service_last_repair_timestamp_seconds', help: 'Unix time the last repair of the service (a completed action of one of its tickets) finished.', labelNames: ['service'], registers });
    this.checkSuccess = new Gauge({ name: 'warden_check_success', help: 'Per check: 1 if its last probe succeeded, 0 if it failed (before debouncing).', labelNames: ['service', 'check'], registers });
    this.checkLatency = new Gauge({ name: 'warden_check_latency_seconds', help: 'Per check: how long its last probe took.', labelNames: ['service', 'check'], registers });
    this.frozen = new Gauge({ name: 'warden_frozen', help: '1 while Warden is frozen (warden freeze: no action starts), else 0.', registers });
    this.storeDamaged = new Gauge({ name: 'warden_store_damaged', help: '1 once the daemon found its store damaged while running (it acts on nothing until restarted; /healthz says what to do), else 0.', registers });
    const build = new Gauge({ name: 'warden_build_info', help: 'Always 1; the labels say which Warden and which Node.js run.', labelNames: ['version', 'node'], registers });
    build.set({ version: opts.version ?? wardenVersion(), node: process.version }, 1);
    this.reloadOk = new Gauge({ name: 'warden_config_last_reload_successful', help: '1 if the last configuration load (start or SIGHUP) succeeded, 0 if it was rejected.', registers });
    this.reloadAt = new Gauge({ name: 'warden_config_last_reload_success_timestamp_seconds', help: 'Unix time of the last successful configuration load.', registers });
    this.notifyFailures = new Counter({ name: 'warden_notify_failures_total', help: 'Notifications given up on, by channel: refused for good, or still undelivered at the channel\'s ttl.', labelNames: ['channel'], registers });
    this.ticketsOpened = new Counter({ name: 'warden_tickets_opened_total', help: 'Ticket occurrences (opened or reopened), counted at their first diagnosis, by cause.', labelNames: ['cause'], registers });
    this.blocked = new Counter({ name: 'warden_actions_blocked_total', help: 'Actions Warden decided not to take, by what refused them (docs/policy.md): counted once per decision, not per pass a ticket waits.', labelNames: ['by'], registers });
    for (const by of REFUSED_BY) this.blocked.inc({ by }, 0);
    this.frozen.set(0);
    this.storeDamaged.set(0);
    this.reloadOk.set(1);
    this.reloadAt.set((opts.now ?? Date.now()) / 1000);
    for (const cause of CAUSES) this.ticketsOpened.inc({ cause }, 0);
    // Zeros from the start: a dashboard can tell "none" from "no data", and rate() sees the first one.
    for (const kind of FINDING_KINDS) this.findings.set({ kind }, 0);
    for (const status of OPEN_TICKET_STATUSES) this.tickets.set({ status }, 0);
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for GET /metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** After every pass, with its wall-clock duration. */
  observePass(seconds: number, at: Millis = Date.now()): void {
    this.passDuration.observe(seconds);
    this.lastPass.set(at / 1000);
  }

  /** After every pass that failed. */
  passFailed(): void {
    this.passFailures.inc();
  }

  /** After every pass, with the pass's findings (level-based: the whole current set). */
  setFindings(findings: readonly Finding[]): void {
    const counts = new Map<string, number>(FINDING_KINDS.map((k) => [k, 0]));
    for (const f of findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
    for (const [kind, n] of counts) this.findings.set({ kind }, n);
  }

  /** After every pass, with the tickets that are not resolved (resolved ones are ignored). */
  setTickets(tickets: readonly Pick<Ticket, 'status'>[]): void {
    const counts = new Map<string, number>(OPEN_TICKET_STATUSES.map((s) => [s, 0]));
    for (const t of tickets) if (t.status !== 'resolved') counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
    for (const [status, n] of counts) this.tickets.set({ status }, n);
  }

  /** When an action reaches completed, failed or cancelled (once per action). */
  actionFinished(type: ActionType, outcome: ActionOutcome): void {
    this.actions.inc({ type, outcome });
  }

  /** When an action settles (completed or failed): the outcome, and for a completed one the repair facts. */
  actionSettled(a: Pick<Action, 'type' | 'target' | 'state' | 'ticketId'>, at: Millis): void {
    if (a.state !== 'completed' && a.state !== 'failed') return;
    this.actionFinished(a.type, a.state);
    if (a.state !== 'completed') return;
    if (a.type === 'restart') this.restarts.inc({ service: a.target });
    if (a.ticketId !== null) this.lastRepair.set({ service: a.target }, at / 1000);
  }

  /** When a service's health changes (not on every pass: the caller sends only changes). */
  setServiceHealth(service: string, host: string, health: Health): void {
    const old = this.hosts.get(service);
    if (old !== undefined && old !== host) this.serviceHealthy.remove({ service, host: old });
    if (health === 'unknown') {
      this.serviceHealthy.remove({ service, host });
      this.hosts.delete(service);
      return;
    }
    this.serviceHealthy.set({ service, host }, health === 'healthy' ? 1 : 0);
    this.hosts.set(service, host);
  }

  /** After every probe result of a check (the check scheduler's callback). */
  checkResult(service: string, st: Pick<CheckState, 'id' | 'last'>): void {
    if (st.last === null) return;
    const labels = { service, check: st.id };
    this.checkSuccess.set(labels, st.last.ok ? 1 : 0);
    this.checkLatency.set(labels, st.last.latencyMs / 1000);
    let ids = this.checks.get(service);
    if (ids === undefined) this.checks.set(service, ids = new Set());
    ids.add(st.id);
  }

  /**
   * The inventory and channels now configured (at start and after each successful reload):
   * counters start at zero for new ones, series of removed services, checks and channels go.
   */
  setInventory(services: readonly Pick<ServiceSpec, 'name' | 'checks'>[], channels: readonly string[]): void {
    const names = new Map(services.map((s) => [s.name, new Set(s.checks.map((c) => c.id))]));
    for (const [service, host] of this.hosts) {
      if (!names.has(service)) { this.serviceHealthy.remove({ service, host }); this.hosts.delete(service); }
    }
    for (const [service, ids] of this.checks) {
      const wanted = names.get(service);
      for (const check of ids) {
        if (wanted?.has(check)) continue;
        this.checkSuccess.remove({ service, check });
        this.checkLatency.remove({ service, check });
        ids.delete(check);
      }
      if (ids.size === 0) this.checks.delete(service);
    }
    for (const service of this.inventory) {
      if (names.has(service)) continue;
      this.restarts.remove({ service });
      this.lastRepair.remove({ service });
    }
    this.inventory = new Set(names.keys());
    for (const service of this.inventory) this.restarts.inc({ service }, 0);
    for (const channel of channels) this.notifyFailures.inc({ channel }, 0);
  }

  /** After a configuration load by SIGHUP: whether it was accepted (a rejected one changes nothing else). */
  configLoaded(ok: boolean, at: Millis): void {
    this.reloadOk.set(ok ? 1 : 0);
    if (ok) this.reloadAt.set(at / 1000);
  }

  /** At start and whenever a freeze or unfreeze may have been applied. */
  setFrozen(frozen: boolean): void {
    this.frozen.set(frozen ? 1 : 0);
  }

  /** When store damage is latched (daemon/self.ts); only a restart clears it. */
  setStoreDamaged(damaged: boolean): void {
    this.storeDamaged.set(damaged ? 1 : 0);
  }

  /** When a notification is given up on after its retries. */
  notifyFailed(channel: string): void {
    this.notifyFailures.inc({ channel });
  }

  /** At the first diagnosis of each ticket occurrence (see EffectRunner), with its cause. */
  ticketOpened(cause: Cause): void {
    this.ticketsOpened.inc({ cause });
  }

  /** Once per refused decision (decide's `refused`, a subject guard's refusal in the executor). */
  actionBlocked(by: RefusedBy): void {
    this.blocked.inc({ by });
  }

  /** When a ticket is opened or reopened: seconds since the fault began (see faultStartedAt). */
  observeDetect(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.detect.observe(seconds);
  }

  /**
   * When a ticket resolves after a verified repair: seconds since the fault began (the origin of
   * time to detect, so recover minus detect is the repair), or since the ticket opened if unknown.
   */
  observeRecover(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.recover.observe(seconds);
  }
}

/**
 * When the fault behind a service's finding began, as well as observations tell: the last exit of
 * a process that is not running, or else the start of the first probe in the current run of
 * failures of an unhealthy check. null when neither applies (no time-to-detect is recorded).
 */
export function faultStartedAt(obs: ServiceObservation, spec: Pick<ServiceSpec, 'checks'>): Millis | null {
  if (!obs.process.running) return obs.process.exits[0]?.at ?? null;
  let first: Millis | null = null;
  for (const c of obs.checks) {
    if (c.healthy !== false || c.last === null || c.consecutiveFailures === 0) continue;
    const interval = spec.checks.find((s) => s.id === c.id)?.intervalMs ?? 0;
    // The last failing probe started latencyMs before its result; earlier ones an interval apart.
    const began = c.last.at - c.last.latencyMs - (c.consecutiveFailures - 1) * interval;
    first = first === null ? began : Math.min(first, began);
  }
  return first;
}
