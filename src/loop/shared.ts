// Small facts shared by the daemon and the CLI commands that talk to its store.
import { createHash } from 'node:crypto';
import type { ResolvedConfig } from '../domain/types.js';
import type { Store } from '../store/store.js';

/** Marks the processes this Warden (this data directory) started, so it can find them again. */
export function instanceIdOf(config: ResolvedConfig): string {
  return createHash('sha256').update(config.agent.dataDir).digest('hex').slice(0, 12);
}

/**
 * A person resolving a ticket by hand restarts the rate-limit count for its service: they have
 * looked at it, and automation may try again.
 */
export function manualResetSince(store: Store, service: string): number {
  return Number(store.getFlag(`limits-reset:${service}`) ?? 0);
}

export function markManualReset(store: Store, service: string, at: number): void {
  store.setFlag(`limits-reset:${service}`, String(at));
}
