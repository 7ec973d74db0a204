// What the loop needs from a kind of service: observe it, start/stop/restart it, read its log.
// `process` (Warden runs the process itself) and `systemd` (a unit driven through systemctl)
// implement it; the daemon picks the driver by the service's kind.
import type { ProcessState, ServiceSpec } from '../domain/types.js';

/** How one attempt of an action drives a service. */
export interface ActOptions {
  /** Fires when the attempt is aborted (its timeout): stop what is in progress, start nothing new. */
  signal?: AbortSignal;
  /** The action performing the operation: a process it starts carries this id (see ProcessState.startedBy). */
  actionId?: string;
  /** A restart that removes and creates the service from its config (containers; others ignore it). */
  recreate?: boolean;
}

export interface ServiceDriver {
  /**
   * A synchronous snapshot (drivers that poll return their latest observation). `cached`: what the
   * driver's events last said, without reading the system again (a pass over services no event
   * touched); a driver that cannot tell reads as usual.
   */
  state(spec: ServiceSpec, opts?: { cached?: boolean }): ProcessState;
  start(spec: ServiceSpec, opts?: ActOptions): Promise<{ pid: number | null }>;
  stop(spec: ServiceSpec, opts?: ActOptions): Promise<void>;
  restart(spec: ServiceSpec, opts?: ActOptions): Promise<{ pid: number | null }>;
  /** The last `lines` lines of the service's output (log file, or the journal). */
  logTail(spec: ServiceSpec, lines: number): string[];
}
