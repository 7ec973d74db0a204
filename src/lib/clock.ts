// Time is injected so that decisions are pure functions of (state, event, clock) and tests can
// drive it. Two times, never mixed (DESIGN rule 8): the wall clock only stamps records; every
// duration, deadline, timeout and interval runs on the monotonic clock, so a wall-clock step
// neither fires nor starves anything.

/** An opaque timer handle from Clock.setTimeout. */
export interface TimerHandle {
  readonly __timer: true;
}

export interface Clock {
  /** Wall time, milliseconds since the epoch: for records and display only. */
  now(): number;
  /**
   * Monotonic milliseconds (CLOCK_MONOTONIC: shared by every process of one boot, so a value
   * written by one Warden can be compared by the next one on the same boot).
   */
  mono(): number;
  /** Runs `fn` once after `ms` monotonic milliseconds. Any length is safe (longer than 24.8 days too). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Node fires a timer longer than 2^31-1 ms after 1 ms; longer waits are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  mono(): number {
    // libuv's uv_hrtime is CLOCK_MONOTONIC on Linux: since boot, not since this process started.
    return Number(process.hrtime.bigint() / 1000n) / 1000;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const box: { t: NodeJS.Timeout | undefined } = { t: undefined };
    const due = this.mono() + Math.max(0, ms);
    const arm = (): void => {
      const left = due - this.mono();
      if (left <= MAX_TIMER_MS) {
        box.t = setTimeout(fn, Math.max(0, left));
      } else {
        box.t = setTimeout(arm, MAX_TIMER_MS);
      }
    };
    arm();
    return box as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    clearTimeout((handle as unknown as { t: NodeJS.Timeout | undefined }).t);
  }
}

export const systemClock: Clock = new SystemClock();

/** A repeating timer on the clock (a timeout chain: a slow callback never piles up ticks). */
export interface Repeating {
  cancel(): void;
}

export function every(clock: Clock, ms: number, fn: () => void): Repeating {
  let handle: TimerHandle | undefined;
  let cancelled = false;
  const tick = (): void => {
    if (cancelled) return;
    handle = clock.setTimeout(tick, ms);
    fn();
  };
  handle = clock.setTimeout(tick, ms);
  return { cancel: () => { cancelled = true; clock.clearTimeout(handle); } };
}

/** Resolves after `ms` on the clock's monotonic time (simulated time in tests). */
export function sleepOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => { clock.setTimeout(resolve, ms); });
}

export function iso(ms: number | null | undefined): string | null {
  return ms == null ? null : new Date(ms).toISOString();
}
