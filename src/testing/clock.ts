// A simulated clock for in-process tests: time moves only when the test says so. Wall and
// monotonic time are separate, so a test can step the wall clock (NTP, a person with `date -s`)
// and show that nothing that measures a duration notices.
import { systemClock, type Clock, type TimerHandle } from '../lib/clock.js';

interface SimTimer extends TimerHandle {
  due: number;
  seq: number;
  fn: () => void;
  cleared: boolean;
}

export class SimulatedClock implements Clock {
  private wall: number;
  private monotonic: number;
  private seq = 0;
  private readonly timers = new Set<SimTimer>();

  constructor(wall = Date.UTC(2025, 0, 1), mono = 1_000_000) {
    this.wall = wall;
    this.monotonic = mono;
  }

  now(): number {
    return this.wall;
  }

  mono(): number {
    return this.monotonic;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: SimTimer = { __timer: true, due: this.monotonic + Math.max(0, ms), seq: this.seq++, fn, cleared: false };
    this.timers.add(t);
    return t;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const t = handle as SimTimer;
    t.cleared = true;
    this.timers.delete(t);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Moves both clocks forward by `ms`, firing due timers in order (a timer armed by a firing timer
   * fires too if it falls due within the step).
   */
  advance(ms: number): void {
    const end = this.monotonic + ms;
    for (;;) {
      let next: SimTimer | undefined;
      for (const t of this.timers) if (t.due <= end && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      if (!next) break;
      this.wall += next.due - this.monotonic;
      this.monotonic = next.due;
      this.timers.delete(next);
      next.fn();
    }
    this.wall += end - this.monotonic;
    this.monotonic = end;
  }

  /** Steps only the wall clock (positive or negative), as NTP or `date -s` would. Fires nothing. */
  stepWall(ms: number): void {
    this.wall += ms;
  }
}

/** Real timers and monotonic time with a scripted wall clock (tests that only fake record stamps). */
export function fakeWall(now: () => number): Clock {
  return {
    now,
    mono: () => systemClock.mono(),
    setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
    clearTimeout: (h) => systemClock.clearTimeout(h),
  };
}
