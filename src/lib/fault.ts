// Fault injection for the exactly-once tests (test-only): a named point kills this process with
// SIGKILL when the environment variable WARDEN_FAULT names it, so a test can stop Warden at an exact
// step of an effect. Inert in production, where WARDEN_FAULT is never set.
import { existsSync } from 'node:fs';

/** The points compiled into the code, in the order a restart passes them. */
export const FAULT_POINTS = ['before-spawn', 'after-spawn', 'after-record'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Dies here, like kill -9, when WARDEN_FAULT names this point (test-only). */
export function faultPoint(point: FaultPoint): void {
  if (process.env.WARDEN_FAULT === point) process.kill(process.pid, 'SIGKILL');
}

/**
 * A test-only bound on every action attempt (WARDEN_ACTION_TIMEOUT_MS), so an end-to-end test can
 * make a real restart outlast its timeout without waiting the catalog's 15 s; null when unset.
 */
export function actionTimeoutOverrideMs(): number | null {
  const v = Number(process.env.WARDEN_ACTION_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : null;
}

/**
 * A test-only wedge of the pass loop: while the file WARDEN_WEDGE_FILE names exists, the next pass
 * never completes (as a pass stuck forever would), and the process goes on (API, timers), so a test
 * can see what stops with the loop and what does not. Inert in production, where it is never set.
 */
export function loopWedged(): boolean {
  const f = process.env.WARDEN_WEDGE_FILE;
  return f !== undefined && f !== '' && existsSync(f);
}
