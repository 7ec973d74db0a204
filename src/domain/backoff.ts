// Restart backoff per service: the first restart of an incident is immediate (kill → serving stays
// fast), each further restart of the same service waits twice as long as the one before, up to a
// cap; a measured period of health (resetAfter, like Kubernetes' crash-loop backoff) ends the
// streak. Pure, on monotonic time within a boot (wall time across boots), computed from the
// repairs' persisted start stamps and the recorded end of the last streak, so it survives a restart
// of Warden.
import { atOrAfter, elapsed, type Instant, type MonoStamp, type WindowStart } from './elapsed.js';
import type { Millis, RestartBackoff, ServiceObservation } from './types.js';

/** Store flag per service: when its restart streak ended after resetAfter of health (an Instant). */
export const BACKOFF_RESET_PREFIX = 'backoff-reset:';

/** A repair that started: when, on wall time and (when known) monotonic time. */
export interface StartedRepair {
  startedAt: Millis;
  stamp?: MonoStamp;
}

export interface BackoffVerdict {
  /** Which restart of the streak this one is (1: the first, immediate). */
  restart: number;
  /** The delay this restart owes after the previous one started. */
  delayMs: number;
  /** How much of it is still to wait from now (≤ 0: none). */
  waitMs: number;
}

/** The delay before restart `n` (1-based) of a streak. */
export function backoffDelay(b: RestartBackoff, n: number): number {
  if (n <= 1) return 0;
  return Math.min(b.maxMs, b.initialMs * 2 ** (n - 2));
}

/**
 * Where the next restart stands in its streak, given the service's restarts (any order) since the
 * streak began: `resetAt`, when the service was last healthy for resetAfter, or a person reset it.
 */
export function restartBackoff(b: RestartBackoff, starts: readonly StartedRepair[], now: Instant, resetAt?: WindowStart): BackoffVerdict {
  const ages = starts
    .filter((s) => !resetAt || atOrAfter(s.startedAt, s.stamp, resetAt))
    .map((s) => elapsed(now, s.startedAt, s.stamp))
    .sort((x, y) => x - y);
  const restart = ages.length + 1;
  const delayMs = backoffDelay(b, restart);
  return { restart, delayMs, waitMs: ages.length === 0 ? 0 : delayMs - ages[0]! };
}

/**
 * How far back restarts must be read to place the next one in its streak: far enough to see the
 * restarts that reach the cap, each at most the cap apart plus the time a repair takes to be seen
 * failing again (bounded here by resetAfter). Older restarts only ever add delays at the cap.
 */
export function backoffLookbackMs(b: RestartBackoff): number {
  const toCap = b.initialMs > 0 && b.maxMs > b.initialMs ? Math.ceil(Math.log2(b.maxMs / b.initialMs)) + 2 : 2;
  return toCap * (b.maxMs + b.resetAfterMs);
}

/**
 * How long a running service has been healthy without a break: since the later of its process's
 * start and each check's last change to passing. Null when it is not running, a check is not passing
 * (or has no result yet), or nothing says since when.
 */
export function healthyForMs(obs: ServiceObservation | undefined, now: Instant): number | null {
  if (!obs?.process.running) return null;
  const ages: number[] = [];
  const { startedAt, startedMono } = obs.process;
  if (startedAt != null) ages.push(elapsed(now, startedAt, startedMono != null ? { mono: startedMono, boot: now.boot } : null));
  for (const c of obs.checks) {
    if (c.healthy !== true) return null;
    if (c.since != null) ages.push(elapsed(now, c.since, c.sinceMono != null ? { mono: c.sinceMono, boot: now.boot } : null));
  }
  return ages.length === 0 ? null : Math.min(...ages);
}

/** "4 s", "500 ms", "1.5 s": a wait as people read it. */
export function showWait(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)} ms`;
  const s = Math.round(ms / 100) / 10;
  return `${s} s`;
}
