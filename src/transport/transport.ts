// The seam between Warden and a host: everything that touches a machine (systemctl and journalctl
// for kind systemd, host probes, probes that must run where the service runs) goes through a
// Transport, so one driver serves the host Warden runs on and hosts it reaches over SSH alike.
// kind process stays outside it (docs/fleet.md says why).
import type { Duplex } from 'node:stream';
import { WardenError } from '../lib/errors.js';

export interface RunOptions {
  /** The command is killed after this long; its result then has code null and says so. */
  timeoutMs: number;
  /** Fires to abandon the command early (an action's attempt timed out). */
  signal?: AbortSignal;
  /** Variables set for the command (on top of the host's own environment). */
  env?: Readonly<Record<string, string>>;
  /** Written to the command's standard input, then closed. */
  input?: string;
}

export interface RunResult {
  /** Exit status; null when the command did not run to the end (timeout, abort, no connection). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not reach the host at all: the host, not the command, failed. */
  unreachable?: TransportError;
}

export interface Transport {
  /** The host's name in the inventory. */
  readonly host: string;
  readonly kind: 'local' | 'ssh';
  /** Run argv on the host (never through a shell of Warden's making); never rejects. */
  run(argv: readonly string[], opts: RunOptions): Promise<RunResult>;
  /** A TCP stream opened from the host to host:port (for probes of the host's loopback). */
  connect(address: { host: string; port: number }, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<Duplex>;
  /** Let go of whatever the transport keeps open (a multiplexed SSH connection). */
  close(): Promise<void>;
}

export type TransportErrorCode =
  /** The host did not answer in time, refused, or has no route. */
  | 'HOST_UNREACHABLE'
  /** Its host key is not in known_hosts: someone must check it and add it. */
  | 'HOST_KEY_UNKNOWN'
  /** Its host key differs from the one in known_hosts: a reinstall, or someone in between. */
  | 'HOST_KEY_CHANGED'
  /** The host refused every key offered. */
  | 'AUTH_FAILED'
  /** ssh itself failed for another reason (its message says which). */
  | 'SSH_FAILED';

export class TransportError extends WardenError {
  declare readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string, opts: { cause?: unknown } = {}) {
    // Host keys and credentials do not fix themselves; a network may.
    super(code, message, { ...opts, retryable: code === 'HOST_UNREACHABLE' || code === 'SSH_FAILED' });
  }
}
