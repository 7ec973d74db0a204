// The runtime's part of log evidence: facts the log points at but cannot give, read when a
// diagnosis is gathered (never per pass). Today: who holds the ports a failed listen names.
import type { ResolvedConfig, ServiceSpec } from '../domain/types.js';
import { portListeners } from '../lib/sockets.js';
import { portsInUse } from './logs.js';
import type { DiagnoseInput } from './rules.js';

export function logEvidence(config: ResolvedConfig, spec: ServiceSpec | undefined, logTail: string[]): Pick<DiagnoseInput, 'logTail' | 'listeners'> {
  // /proc here describes this host only: a service elsewhere gets no holder rather than a wrong one.
  const local = spec !== undefined && config.hosts.find((h) => h.name === spec.host)?.transport === 'local';
  return local ? { logTail, listeners: portsInUse(logTail).map(portListeners) } : { logTail };
}
