// A container the kernel's OOM killer killed: the facts the podman driver reports (OOMKilled, the
// memory limit, which pod member) as evidence. Restarting frees its memory; when the limit is too
// small it is killed again, and the restart limits and crash-loop rule take over from there.
import type { Evidence, ProcessState } from '../domain/types.js';
import { formatBytes } from '../lib/duration.js';

/** The evidence of an OOM kill of a service that is down, or null when the facts show none. */
export function oomEvidence(proc: ProcessState | undefined): Evidence[] | null {
  const f = proc?.facts;
  if (!proc || proc.running || f?.OOMKilled !== 'true') return null;
  const who = f.OOMKilledContainer ?? f.Container ?? 'the container';
  const limit = typeof f.MemoryLimit === 'number' ? f.MemoryLimit : null;
  return [
    { source: 'container', fact: `OOMKilled: the kernel's OOM killer killed container ${String(who)}${f.OOMKilledBy === 'kernel log' ? ' (seen in the kernel log)' : ''}` },
    { source: 'container', fact: limit !== null ? `memory limit ${formatBytes(limit)} (${limit} bytes)` : 'no memory limit: the host ran out of memory' },
  ];
}
