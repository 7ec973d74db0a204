// The check scheduler: runs every service's checks on their own intervals, one probe in flight per
// check, and turns results into consecutive counts and a debounced healthy/unhealthy verdict.
import { WardenError } from '../lib/errors.js';
import { logError } from '../lib/log.js';
import type { CheckSpec, CheckState, ProbeResult, ServiceSpec } from '../domain/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { runProbe } from './index.js';
import type { Transport } from '../transport/transport.js';

export type ProbeRunner = (spec: CheckSpec['probe'], timeoutMs: number, on?: Transport) => Promise<ProbeResult>;

export interface CheckSchedulerOptions {
  /** Replaces the real probes (tests). */
  runProbe?: ProbeRunner;
  /** Where a throwing onChange is reported; the scheduler keeps going either way. */
  onError?: (err: unknown) => void;
  /** The transport of the service's host: its checks run there (absent: here). */
  transportOf?: (service: string) => Transport | undefined;
}

/** Probes cannot run for want of Warden's own resources; `code` is the errno (EMFILE, ENFILE). */
export class ProbeBlocked extends WardenError {
  constructor(code: string, message: string) {
    super(code, message, { retryable: true });
  }
}

/** How long after its timeout a probe that has not answered is given up on by the scheduler. */
export const BACKSTOP_GRACE_MS = 1_000;

interface Entry {
  service: string;
  spec: CheckSpec;
  /** The spec as JSON: a check whose spec did not change keeps its state across setServices. */
  key: string;
  state: CheckState;
  timer: TimerHandle | null;
  /** Settles (never rejects) when the running probe's result has been applied or discarded. */
  inflight: Promise<void> | null;
  /** Bumped by reset(): a probe started before it reports on a process that no longer exists. */
  generation: number;
  /** Monotonic time when the last probe started: intervals are start-to-start. */
  lastStart: number;
}

interface Boost {
  intervalMs: number;
  /** Monotonic time the faster pace ends. */
  untilMono: number;
}

function freshState(spec: CheckSpec): CheckState {
  return {
    id: spec.id,
    type: spec.probe.type,
    healthy: null,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    last: null,
    since: null,
  };
}

function copyState(s: CheckState): CheckState {
  return { ...s, last: s.last === null ? null : { ...s.last } };
}

/**
 * The debounce rule, pure: the next state of a check after one result observed at wall time `at`
 * (a record) and monotonic time `mono` (what freshness is decided on).
 */
export function applyResult(prev: CheckState, spec: CheckSpec, probed: ProbeResult, at: number, mono?: number): CheckState {
  const result = withinBound(spec, probed);
  const next = copyState(prev);
  next.last = mono === undefined ? { ...result, at } : { ...result, at, mono };
  if (result.ok && mono !== undefined) next.okMono = mono;
  let healthy = prev.healthy;
  if (result.ok) {
    next.consecutiveSuccesses = prev.consecutiveSuccesses + 1;
    next.consecutiveFailures = 0;
    // The first success ever counts at once: a fresh service should not wait to be called healthy.
    if (healthy === null || (healthy === false && next.consecutiveSuccesses >= spec.successes)) healthy = true;
  } else {
    next.consecutiveFailures = prev.consecutiveFailures + 1;
    next.consecutiveSuccesses = 0;
    if (healthy !== false && next.consecutiveFailures >= spec.failures) healthy = false;
  }
  if (healthy !== prev.healthy) {
    next.healthy = healthy;
    next.since = at;
    if (mono === undefined) delete next.sinceMono;
    else next.sinceMono = mono;
  }
  return next;
}

/**
 * An expected answer later than the check's `slowerThan` is a failure marked slow: the service
 * answers, so it is neither down nor hung, but too slowly for its clients (performance_degraded).
 * The message names the bound, not the time measured (latencyMs has it), so it reads the same each time.
 */
function withinBound(spec: CheckSpec, r: ProbeResult): ProbeResult {
  const bound = spec.slowerThanMs;
  if (bound === undefined || !r.ok || r.latencyMs <= bound) return r;
  return { ...r, ok: false, message: `${r.message}, but slower than ${bound} ms`, slowerThanMs: bound };
}

export class CheckScheduler {
  private readonly services = new Map<string, Map<string, Entry>>();
  private readonly boosts = new Map<string, Boost>();
  private running = false;
  /** Bumped by stop(): results of probes started before it are ignored. */
  private epoch = 0;
  private readonly probe: ProbeRunner;
  private readonly transportOf: ((service: string) => Transport | undefined) | undefined;
  private readonly onError: (err: unknown) => void;
  /** The latest probe could not run for want of Warden's own descriptors; null once one could. */
  private short: ProbeBlocked | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly onChange: (service: string, state: CheckState) => void,
    opts: CheckSchedulerOptions = {},
  ) {
    this.probe = opts.runProbe ?? runProbe;
    this.transportOf = opts.transportOf;
    this.onError = opts.onError ?? logError('check scheduler: onChange failed');
  }

  setServices(services: ServiceSpec[]): void {
    const wanted = new Set(services.map((s) => s.name));
    for (const [name, entries] of this.services) {
      if (!wanted.has(name)) {
        for (const e of entries.values()) this.clearTimer(e);
        this.services.delete(name);
        this.boosts.delete(name);
      }
    }
    for (const svc of services) {
      const old = this.services.get(svc.name) ?? new Map<string, Entry>();
      const next = new Map<string, Entry>();
      for (const spec of svc.checks) {
        const key = JSON.stringify(spec);
        const prev = old.get(spec.id);
        if (prev !== undefined && prev.key === key) {
          next.set(spec.id, prev);
          old.delete(spec.id);
          continue;
        }
        const entry: Entry = {
          service: svc.name, spec, key, state: freshState(spec),
          timer: null, inflight: null, generation: 0, lastStart: -Infinity,
        };
        next.set(spec.id, entry);
      }
      // Whatever is left in `old` was removed or replaced: its in-flight result is discarded
      // because the entry is no longer current.
      for (const e of old.values()) this.clearTimer(e);
      this.services.set(svc.name, next);
      if (this.running) {
        for (const e of next.values()) if (e.timer === null && e.inflight === null) this.launch(e);
      }
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const entries of this.services.values()) {
      for (const e of entries.values()) if (e.inflight === null) this.launch(e);
    }
  }

  stop(): void {
    this.running = false;
    this.epoch++;
    for (const entries of this.services.values()) for (const e of entries.values()) this.clearTimer(e);
  }

  /**
   * Set while probes cannot run for want of Warden's own resources: then no check can say anything
   * about its service, and the daemon decides nothing on such a world (its passes fail, saying so).
   */
  blocked(): ProbeBlocked | null {
    return this.short;
  }

  states(service: string): CheckState[] {
    const entries = this.services.get(service);
    return entries === undefined ? [] : [...entries.values()].map((e) => copyState(e.state));
  }

  /**
   * Probe all of a service's checks now. A check whose probe is already running is not started
   * twice; the returned promise waits for that probe instead, so on return every check has a
   * result at least as fresh as the call.
   */
  async kick(service: string): Promise<void> {
    const entries = this.services.get(service);
    if (entries === undefined) return;
    await Promise.all([...entries.values()].map((e) => this.run(e)));
  }

  /** Probe a service every `intervalMs` (if faster than a check's own) for the next `forMs`. */
  boost(service: string, intervalMs: number, forMs: number): void {
    this.boosts.set(service, { intervalMs, untilMono: this.clock.mono() + forMs });
    if (!this.running) return;
    // Pull waiting timers forward so the faster pace starts now, not after the slow wait.
    for (const e of this.services.get(service)?.values() ?? []) {
      if (e.inflight === null) this.schedule(e);
    }
  }

  /** Forget a service's debounce history (after a restart, old results say nothing about it). */
  reset(service: string): void {
    const now = this.clock.now();
    for (const e of this.services.get(service)?.values() ?? []) {
      e.generation++;
      const s = e.state;
      if (s.healthy !== null) { s.since = now; s.sinceMono = this.clock.mono(); }
      s.healthy = null;
      s.consecutiveFailures = 0;
      s.consecutiveSuccesses = 0;
    }
  }

  private current(e: Entry): boolean {
    return this.services.get(e.service)?.get(e.spec.id) === e;
  }

  private intervalOf(e: Entry): number {
    const boost = this.boosts.get(e.service);
    if (boost === undefined) return e.spec.intervalMs;
    if (this.clock.mono() >= boost.untilMono) {
      this.boosts.delete(e.service);
      return e.spec.intervalMs;
    }
    return Math.min(e.spec.intervalMs, boost.intervalMs);
  }

  private clearTimer(e: Entry): void {
    if (e.timer !== null) this.clock.clearTimeout(e.timer);
    e.timer = null;
  }

  /** Arm the timer for the next probe, an interval after the last one started. */
  private schedule(e: Entry): void {
    this.clearTimer(e);
    const delay = Math.max(0, e.lastStart + this.intervalOf(e) - this.clock.mono());
    e.timer = this.clock.setTimeout(() => {
      e.timer = null;
      this.launch(e);
    }, delay);
  }

  /** Start a probe from a timer or start(): the promise is tracked in e.inflight and never rejects. */
  private launch(e: Entry): void {
    this.run(e).catch(this.onError);
  }

  private run(e: Entry): Promise<void> {
    if (e.inflight !== null) return e.inflight;
    this.clearTimer(e);
    const generation = e.generation;
    const epoch = this.epoch;
    e.lastStart = this.clock.mono();
    const started = e.lastStart;
    // Probes time out by themselves; this clock timer is the backstop for one that does not (a
    // hung probe would hold its check, one in flight, forever), late enough never to race them.
    let backstop: TimerHandle | undefined;
    const timedOut = new Promise<ProbeResult>((resolve) => {
      backstop = this.clock.setTimeout(() => resolve({
        ok: false, message: `timed out after ${e.spec.timeoutMs} ms`, latencyMs: this.clock.mono() - started, timedOut: true,
      }), e.spec.timeoutMs + BACKSTOP_GRACE_MS);
    });
    const probed = this.probe(e.spec.probe, e.spec.timeoutMs, this.transportOf?.(e.service))
      .catch((err: unknown): ProbeResult => ({
        ok: false, message: `probe failed: ${String(err)}`, latencyMs: 0, timedOut: false,
      }));
    const done = Promise.race([probed, timedOut])
      .then((result) => {
        this.clock.clearTimeout(backstop);
        e.inflight = null;
        if (this.current(e) && generation === e.generation && epoch === this.epoch) this.record(e, result);
        if (this.running && this.current(e) && e.inflight === null) this.schedule(e);
      });
    e.inflight = done;
    return done;
  }

  private record(e: Entry, result: ProbeResult): void {
    // Not a verdict on the service: its state stays as it was, the probe runs again on time.
    if (result.inconclusive !== undefined) {
      this.short = new ProbeBlocked(result.inconclusive, `checks cannot run: ${e.service}/${e.spec.id}: ${result.message}`);
      return;
    }
    this.short = null;
    e.state = applyResult(e.state, e.spec, result, this.clock.now(), this.clock.mono());
    try {
      this.onChange(e.service, copyState(e.state));
    } catch (err) {
      this.onError(err);
    }
  }
}
