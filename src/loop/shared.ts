// Small facts shared by the daemon and the CLI commands that talk to its store.
import { createHash } from 'node:crypto';
import type { ResolvedConfig } from '../domain/types.js';

/** Marks the processes this Warden (this data directory) started, so it can find them again. */
export function instanceIdOf(config: ResolvedConfig): string {
  return createHash('sha256').update(config.agent.dataDir).digest('hex').slice(0, 12);
}
