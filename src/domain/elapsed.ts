// Durations between a recorded moment and now, immune to wall-clock steps (DESIGN rule 8).
// CLOCK_MONOTONIC counts from boot, so two monotonic values compare only within one boot: across a
// reboot the wall clock is all there is.
import type { Millis } from './types.js';

/** A monotonic time and the boot (kernel boot_id) it was read in. */
export interface MonoStamp {
  mono: number;
  boot: string;
}

/** Now, on both clocks. */
export interface Instant extends MonoStamp {
  wall: Millis;
}

export function stampOf(now: Instant): MonoStamp {
  return { mono: now.mono, boot: now.boot };
}

/**
 * Milliseconds from a recorded moment (its wall time, and its monotonic stamp when it has one) to
 * `now`: on monotonic time within one boot, on wall time across boots or for an unstamped record.
 */
export function elapsed(now: Instant, wall: Millis, stamp: Partial<MonoStamp> | null | undefined): number {
  if (stamp?.mono != null && stamp.boot === now.boot) return now.mono - stamp.mono;
  return now.wall - wall;
}

/** Where a window of `windowMs` ending now begins, on both clocks (for counting stamped records). */
export interface WindowStart {
  wall: Millis;
  mono: number;
  boot: string;
}

export function windowStart(now: Instant, windowMs: number): WindowStart {
  return { wall: now.wall - windowMs, mono: now.mono - windowMs, boot: now.boot };
}

/** Did a recorded moment fall within the last `windowMs`? (See `elapsed` for which clock decides.) */
export function within(now: Instant, wall: Millis, stamp: Partial<MonoStamp> | null | undefined, windowMs: number): boolean {
  return elapsed(now, wall, stamp) <= windowMs;
}

/** Did a recorded moment fall at or after `at`? On monotonic time within its boot, on wall time otherwise. */
export function atOrAfter(wall: Millis, stamp: Partial<MonoStamp> | null | undefined, at: WindowStart): boolean {
  return stamp?.mono != null && stamp.boot === at.boot ? stamp.mono >= at.mono : wall >= at.wall;
}
