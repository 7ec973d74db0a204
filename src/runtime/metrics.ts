// Prometheus metrics of the daemon, served at GET /metrics. A registry of our own (not prom-client's
// global one), so tests and several daemons in one process never share or collide on series.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type {
  ActionState, ActionType, Finding, FindingKind, Millis, ServiceObservation, ServiceSpec, Ticket,
} from '../domain/types.js';
import { TICKET_STATUSES } from './diagnostics.js';

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

  constructor(opts: { defaultMetrics?: boolean } = {}) {
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
    // Zeros from the start: a dashboard can tell "none" from "no data", and rate() sees the first one.
    for (const kind of FINDING_KINDS) this.findings.set({ kind }, 0);
    for (const status of OPEN_TICKET_STATUSES) this.tickets.set({ status }, 0);
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'warden_' });
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
