// Per-service pause (Monit's "unmonitor"): while a service is paused Warden still observes it but
// acts on none of its tickets and starts none of its own actions on it; a person's start, stop or
// restart still runs. A pause ends by `resume`, by `start`, or by its deadline, which, like every
// duration, is measured on monotonic time within the boot it was set in (wall time across boots).
// A person's start or restart pauses the service while it settles, like Warden's own repair under
// verification: a check failing while the new process boots is expected, not a new problem.
import type { Instant } from './elapsed.js';
import type { Millis } from './types.js';

/** The flag key prefix of a pause in the store: `paused:<service>`. */
export const PAUSE_PREFIX = 'paused:';

export interface Pause {
  by: string;
  reason: string | null;
  /** When it was set (wall, for records). */
  at: Millis;
  /** The deadline on both clocks; null: until resumed. */
  until: Instant | null;
  /** Set while the service settles after a person's start/restart: ends once it is done and healthy. */
  settle?: { actionId: string };
}

export function pauseFlag(service: string): string {
  return `${PAUSE_PREFIX}${service}`;
}

export function parsePause(value: string): Pause | null {
  try {
    const v = JSON.parse(value) as Partial<Pause>;
    if (typeof v.by !== 'string' || typeof v.at !== 'number') return null;
    const u = v.until;
    const until = u && typeof u.wall === 'number' && typeof u.mono === 'number' && typeof u.boot === 'string' ? u : null;
    const settle = typeof v.settle?.actionId === 'string' ? { settle: { actionId: v.settle.actionId } } : {};
    return { by: v.by, reason: typeof v.reason === 'string' ? v.reason : null, at: v.at, until, ...settle };
  } catch {
    return null;
  }
}

/** Milliseconds until the pause ends by itself (Infinity without a deadline; ≤ 0: over). */
export function pauseLeftMs(p: Pause, now: Instant): number {
  if (!p.until) return Number.POSITIVE_INFINITY;
  if (p.until.boot === now.boot) return p.until.mono - now.mono;
  return p.until.wall - now.wall;
}

/** The pauses still in force now, by service (flagsWithPrefix(PAUSE_PREFIX): keys are service names). */
export function activePauses(flags: ReadonlyMap<string, string>, now: Instant): Map<string, Pause> {
  const out = new Map<string, Pause>();
  for (const [key, value] of flags) {
    const p = parsePause(value);
    if (p && pauseLeftMs(p, now) > 0) out.set(key, p);
  }
  return out;
}
