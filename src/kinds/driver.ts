// What the loop needs from a kind of service: observe it, start/stop/restart it, read its log.
// `process` (Warden runs the process itself) and `systemd` (a unit driven through systemctl)
// implement it; the daemon picks the driver by the service's kind.
import type { ProcessState, ServiceSpec } from '../domain/types.js';

export interface ServiceDriver {
  /** A synchronous snapshot (drivers that poll return their latest observation). */
  state(spec: ServiceSpec): ProcessState;
  start(spec: ServiceSpec): Promise<{ pid: number | null }>;
  stop(spec: ServiceSpec): Promise<void>;
  restart(spec: ServiceSpec): Promise<{ pid: number | null }>;
  /** The last `lines` lines of the service's output (log file, or the journal). */
  logTail(spec: ServiceSpec, lines: number): string[];
}
