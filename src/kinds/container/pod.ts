// A pod judged from its containers: its state in Podman's words and the facts diagnosis reads.
import type { MemberState } from '../../domain/types.js';
import type { ContainerView } from './inspect.js';

/** Running (all run), Degraded (some), Exited (none, some ran), Created (none ran yet), Missing (none exist). */
export function podState(members: readonly MemberState[]): string {
  if (members.every((m) => m.state === 'missing')) return 'Missing';
  const up = members.filter((m) => m.running).length;
  if (up === members.length) return 'Running';
  if (up > 0) return 'Degraded';
  return members.some((m) => m.state !== 'created' && m.state !== 'missing') ? 'Exited' : 'Created';
}

/** The pod's facts; an OOM-killed member's name and memory limit, for diagnosis. */
export function podFacts(pod: string, members: readonly MemberState[], views: readonly (ContainerView | undefined)[]): Record<string, string | number | null> {
  const oom = members.findIndex((m) => m.oomKilled && !m.running);
  return {
    Pod: pod,
    State: podState(members),
    Containers: members.map((m) => `${m.name}=${m.state}${m.exitCode !== null && !m.running ? `(${m.exitCode})` : ''}`).join(' '),
    OOMKilled: oom >= 0 ? 'true' : 'false',
    ...(oom >= 0 ? { OOMKilledContainer: members[oom]!.name, MemoryLimit: views[oom]?.memoryLimit ?? null } : {}),
  };
}
