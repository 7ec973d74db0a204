// Which exits make a crash loop. A crash loop is a service that dies soon after each start; a
// service that ran long enough to be verified healthy and then died again is a problem that came
// back (a flap), which the ticket counts by its occurrences and stops repairing when it keeps
// coming back. Counting every exit in the window made three kills of a healthy service a "crash
// loop", which is exempt from flap detection, so Warden kept restarting it.
import { within, type Instant } from './elapsed.js';
import type { ExitRecord, ResolvedConfig, ServiceSpec } from './types.js';

export interface ExitCount {
  /** Exits in the crash-loop window that Warden did not cause, newest first. */
  recent: ExitRecord[];
  /** Those of them that ended a run too short to have been verified healthy. */
  looping: ExitRecord[];
  /** Runs shorter than this (ms) are "soon after a start". */
  soonMs: number;
}

/**
 * A run shorter than the service's start period plus verify.stable cannot have been verified
 * healthy. An exit of unknown uptime (an adopted process) counts, as it always did.
 */
export function countExits(config: ResolvedConfig, spec: Pick<ServiceSpec, 'startPeriodMs'> | undefined, exits: readonly ExitRecord[], now: Instant): ExitCount {
  const soonMs = (spec?.startPeriodMs ?? 0) + config.agent.verifyStableMs;
  const recent = exits.filter((e) => !e.byWarden && within(now, e.at, e.stamp, config.agent.crashLoopWindowMs));
  return { recent, looping: recent.filter((e) => e.uptimeMs === null || e.uptimeMs < soonMs), soonMs };
}
