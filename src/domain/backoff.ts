// Restart backoff per service: the first restart of an incident is immediate (kill → serving stays
// fast), each further restart of the same service waits twice as long as the one before, up to a
// cap; a restart long enough after the previous one starts a new streak. Pure, on monotonic time
// within a boot (wall time across boots), computed from the repairs' persisted start stamps, so it
// survives a restart of Warden.
import { atOrAfter, elapsed, type Instant, type MonoStamp, type WindowStart } from './elapsed.js';
import type { Millis, RestartBackoff } from './types.js';

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
 * Where the next restart stands in its streak, given the service's earlier restarts (any order);
 * `resetAt`, when a person reset the service's count, starts a new streak too.
 */
export function restartBackoff(b: RestartBackoff, starts: readonly StartedRepair[], now: Instant, resetAt?: WindowStart): BackoffVerdict {
  const ages = starts
    .filter((s) => !resetAt || atOrAfter(s.startedAt, s.stamp, resetAt))
    .map((s) => elapsed(now, s.startedAt, s.stamp))
    .sort((x, y) => x - y);
  let streak = 0;
  let prev = 0;
  for (const age of ages) {
    if (age - prev >= b.resetAfterMs) break;
    streak++;
    prev = age;
  }
  const restart = streak + 1;
  const delayMs = backoffDelay(b, restart);
  return { restart, delayMs, waitMs: streak === 0 ? 0 : delayMs - ages[0]! };
}

/**
 * How far back restarts must be read to place the next one in its streak: enough to see the
 * restarts that reach the cap, each of which may be up to resetAfterMs apart.
 */
export function backoffLookbackMs(b: RestartBackoff): number {
  const toCap = b.initialMs > 0 && b.maxMs > b.initialMs ? Math.ceil(Math.log2(b.maxMs / b.initialMs)) + 2 : 2;
  return toCap * b.resetAfterMs;
}

/** "4 s", "500 ms", "1.5 s": a wait as people read it. */
export function showWait(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)} ms`;
  const s = Math.round(ms / 100) / 10;
  return `${s} s`;
}
