// The effect runner: everything a committed pass sets in motion, run only after the commit (an
// action must be durable before it runs; a notification must not announce a decision that rolled
// back). Logs, the nudge that announces the pass's audit records (notify/outbox.ts), metrics and
// the heartbeat; the actions to execute; the diagnoses to ask for; and when the next pass is due
// (verification ticks, retry backoff).
import { FROZEN_FLAG } from '../app/commands.js';
import { retryIn } from '../domain/action.js';
import type { AuditIntent } from '../domain/audit.js';
import { summarize, type DecideOutput } from '../domain/decide.js';
import type { Detection, ServiceHealth } from '../domain/detect.js';
import { BACKOFF_RESET_PREFIX } from '../domain/backoff.js';
import type { Health, ResolvedConfig, Summary, Ticket, World } from '../domain/types.js';
import type { Clock } from '../lib/clock.js';
import type { CheckScheduler } from '../probes/checks.js';
import { faultStartedAt, type WardenMetrics } from '../runtime/metrics.js';
import type { ServiceStateRecord, Store } from '../store/store.js';
import type { DiagnosisRunner } from './diagnosis.js';
import { describe } from './events.js';
import type { Executor } from './executor.js';
import type { PassResult } from './reconciler.js';

/** How often the loop looks again while a repair is being verified. */
const VERIFY_TICK_MS = 25;
/** The heartbeat `warden status` reads is written at most this often. */
const HEARTBEAT_MS = 1000;

export interface EffectRunnerDeps {
  store: Store;
  config: () => ResolvedConfig;
  clock: Clock;
  metrics: WardenMetrics;
  executor: Executor;
  diagnoses: DiagnosisRunner;
  scheduler: CheckScheduler;
  log: (line: string) => void;
  /** The pass is committed: its audit records may now be announced (the outbox follows the audit log). */
  announce: () => void;
  /** Asks for a pass in `ms` (replacing an earlier request). */
  wakeIn: (ms: number) => void;
  /** The kernel's boot id (monotonic stamps compare only within it). */
  boot: () => string;
  /** The first pass has been committed (systemd READY=1). */
  onFirstPass: () => void;
}

export class EffectRunner {
  private readonly lastHealth = new Map<string, Health>();
  /** Each service's health as last persisted (or, with the store damaged, as last seen): status from memory. */
  private readonly states = new Map<string, ServiceStateRecord>();
  /** Services paused at the last pass: their health series is withheld. */
  private lastPaused = new Set<string>();
  /** ticket id → when its fault started, for time-to-recover. */
  private readonly incidentStart = new Map<string, number>();
  /** Tickets whose current occurrence has not been diagnosed yet (warden_tickets_opened_total). */
  private readonly undiagnosed = new Set<string>();
  private lastHeartbeat = 0;
  private first = true;
  lastPassAt = 0;
  lastSummary: Summary = 'nominal';
  lastOpenTickets = 0;

  constructor(private readonly deps: EffectRunnerDeps) {}

  run(r: PassResult): void {
    this.record(r);
    for (const id of r.out.execute) this.deps.executor.run(id);
    for (const req of r.out.diagnose) this.deps.diagnoses.run(req);
    this.schedule(r);
  }

  /** What people and metrics see of a committed pass. */
  /**
   * Written in the pass's own transaction (one commit, not two): the health states that changed
   * and, when due, the heartbeat `warden status` reads.
   */
  persist(out: DecideOutput, now: number): void {
    const { store } = this.deps;
    const config = this.deps.config();
    for (const [name, h] of this.changed(out.detection.health)) {
      const spec = config.services.find((s) => s.name === name)!;
      store.putServiceState({ name, host: spec.host, health: h.health, since: now, detail: h.reason });
    }
    // A subject's health is kept beside its members' (names are unique across both).
    for (const [name, h] of this.changed(out.detection.subjects)) {
      const subject = config.subjects.find((s) => s.name === name)!;
      store.putServiceState({ name, host: subject.host, health: h.health, since: now, detail: h.reason });
    }
    for (const [name, at] of Object.entries(out.backoffResets)) store.setFlag(BACKOFF_RESET_PREFIX + name, JSON.stringify(at));
    if (this.beatDue(out, now)) store.setFlag('daemon', JSON.stringify({ pid: process.pid, lastPassAt: now, summary: out.report.summary, mode: config.agent.mode }));
  }

  /** Health (of services, or of subjects: names are unique across both) that changed since last recorded. */
  private changed(health: Readonly<Record<string, ServiceHealth>>): [string, ServiceHealth][] {
    return Object.entries(health).filter(([n, h]) => this.lastHealth.get(n) !== h.health);
  }

  /** A changed summary is written at once: status read from the store must not lag it by a beat. */
  private beatDue(out: DecideOutput, now: number): boolean {
    return now - this.lastHeartbeat >= HEARTBEAT_MS || out.report.summary !== this.lastSummary;
  }

  private record(r: PassResult): void {
    const { store, log, metrics } = this.deps;
    const config = this.deps.config();
    const { out, now, world, open } = r;
    for (const c of r.commands) log(`command ${c.cmd.kind} by ${c.cmd.by}: ${c.result.message}`);
    if (this.beatDue(out, now)) this.lastHeartbeat = now;
    this.recordHealth(out.detection, world, r.paused ?? new Set<string>(), now);
    metrics.setFindings(out.report.findings);
    metrics.setTickets(open);
    // Only a command can freeze or unfreeze, so the flag is read only on passes that applied some.
    if (r.commands.length > 0) metrics.setFrozen(store.getFlag(FROZEN_FLAG) != null);
    for (const i of out.audit) {
      this.measure(config, i, world, now, out);
      log(describe(i));
    }
    if (out.audit.length > 0 || r.commands.length > 0) this.deps.announce();
    this.countDiagnosed(out);
    for (const r of out.refused) metrics.actionBlocked(r.by);
    this.lastPassAt = now;
    this.lastSummary = out.report.summary;
    this.lastOpenTickets = open.length;
    if (this.first) {
      this.first = false;
      this.deps.onFirstPass();
    }
  }

  /**
   * Counts each ticket occurrence once, with its cause, when its first diagnosis is in: the ticket
   * has left `diagnosing` with a diagnosis for the current evidence (a repeated, identical diagnosis
   * writes no ticket.diagnosed record, so the ticket itself is read). Only tickets this pass changed.
   */
  private countDiagnosed(out: DecideOutput): void {
    if (this.undiagnosed.size === 0) return;
    for (const t of out.tickets) {
      if (!this.undiagnosed.has(t.id)) continue;
      if (t.status === 'resolved') this.undiagnosed.delete(t.id);
      else if (t.status !== 'diagnosing' && t.evidenceKey != null && t.cause !== null) {
        this.deps.metrics.ticketOpened(t.cause);
        this.undiagnosed.delete(t.id);
      }
    }
  }

  /** Health changes: logged, sent to metrics, kept in memory. */
  private recordHealth(detection: Detection, world: World, paused: ReadonlySet<string>, now: number): void {
    const { log, metrics } = this.deps;
    const healthChanges = this.changed(detection.health);
    for (const [name, h] of this.changed(detection.subjects)) {
      if (this.lastHealth.has(name) || h.health !== 'unknown') log(`health of subject ${name}: ${h.health} — ${h.reason}`);
      this.lastHealth.set(name, h.health);
      const host = this.deps.config().subjects.find((s) => s.name === name)?.host ?? 'local';
      this.states.set(name, { name, host, health: h.health, since: now, detail: h.reason });
    }
    for (const [name, h] of healthChanges) {
      if (this.lastHealth.has(name) || h.health !== 'unknown') log(`health ${name}: ${h.health} — ${h.reason}`);
      this.lastHealth.set(name, h.health);
      this.states.set(name, { name, host: world.services[name]?.host ?? 'local', health: h.health, since: now, detail: h.reason });
    }
    // A paused service has no health series (like one not observed): only changes are sent.
    const pauseChanges = [...paused, ...this.lastPaused].filter((n) => paused.has(n) !== this.lastPaused.has(n));
    for (const name of new Set([...healthChanges.map(([n]) => n), ...pauseChanges])) {
      const h = detection.health[name]?.health ?? 'unknown';
      metrics.setServiceHealth(name, world.services[name]?.host ?? 'local', paused.has(name) ? 'unknown' : h);
    }
    this.lastPaused = new Set(paused);
  }

  /**
   * A pass that only observed (the store is damaged, so nothing is decided or written): health,
   * findings and the summary go to the log, metrics and memory, as after any pass.
   */
  observed(detection: Detection, world: World, openTickets: readonly Ticket[], now: number): void {
    this.recordHealth(detection, world, this.lastPaused, now);
    this.deps.metrics.setFindings(detection.findings);
    this.lastSummary = summarize(detection, openTickets);
    this.lastPassAt = now;
  }

  /** Each service's last health, by name then host (the form the store lists them in). */
  serviceStates(): ServiceStateRecord[] {
    return [...this.states.values()].sort((a, b) => a.name.localeCompare(b.name) || a.host.localeCompare(b.host));
  }

  /** Forgets services no longer configured, so one added back under the same name is reported afresh. */
  retain(services: ReadonlySet<string>): void {
    for (const name of this.lastHealth.keys()) if (!services.has(name)) this.lastHealth.delete(name);
    for (const name of this.states.keys()) if (!services.has(name)) this.states.delete(name);
  }

  /** A tick that found nothing to decide: the loop is alive (heartbeat), nothing else changed. */
  quiet(now: number): void {
    if (now - this.lastHeartbeat >= HEARTBEAT_MS) {
      this.deps.store.setFlag('daemon', JSON.stringify({ pid: process.pid, lastPassAt: now, summary: this.lastSummary, mode: this.deps.config().agent.mode }));
      this.lastHeartbeat = now;
    }
    this.lastPassAt = now;
  }

  /** Speeds up observation of a service being repaired, and schedules the next decision time. */
  private schedule(r: PassResult): void {
    const { scheduler, clock } = this.deps;
    const config = this.deps.config();
    const verifying = r.open.filter((t) => t.status === 'verifying');
    for (const t of verifying) scheduler.boost(t.service, 50, config.agent.verifyStableMs + 2000);
    let next = verifying.length > 0 ? VERIFY_TICK_MS : Infinity;
    const now = { wall: clock.now(), mono: clock.mono(), boot: this.deps.boot() };
    for (const a of r.pending) if (a.notBefore != null) next = Math.min(next, Math.max(0, retryIn(a, now)));
    if (next !== Infinity) this.deps.wakeIn(next);
  }

  /** Time to detect and time to recover, from the fault's start as the world shows it. */
  private measure(config: ResolvedConfig, i: AuditIntent, world: World, now: number, out: DecideOutput): void {
    const { metrics } = this.deps;
    if ((i.kind === 'ticket.opened' || i.kind === 'ticket.reopened') && i.subject) {
      const t = out.tickets.find((x) => x.id === i.subject);
      const spec = t && config.services.find((x) => x.name === t.service);
      const obs = t && world.services[t.service];
      const at = spec && obs ? faultStartedAt(obs, spec) : null;
      if (at !== null) metrics.observeDetect(Math.max(0, now - at) / 1000);
      this.incidentStart.set(i.subject, at ?? now);
      this.undiagnosed.add(i.subject);
    } else if (i.kind === 'ticket.diagnosis_failed' && i.subject) {
      // No cause could be found: counted as the taxonomy's `unknown`, so opened tickets add up.
      if (this.undiagnosed.delete(i.subject)) metrics.ticketOpened('unknown');
    } else if (i.kind === 'ticket.verified' && i.subject) {
      const start = this.incidentStart.get(i.subject) ?? out.tickets.find((x) => x.id === i.subject)?.openedAt ?? now;
      metrics.observeRecover(Math.max(0, now - start) / 1000);
      this.incidentStart.delete(i.subject);
    } else if (i.kind === 'action.cancelled' && i.subject) {
      const a = out.actions.find((x) => x.id === i.subject);
      if (a) metrics.actionFinished(a.type, 'cancelled');
    }
  }
}
