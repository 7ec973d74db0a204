// The pod part of the diagnostics bundle: the pod's state and, per container, its name, state,
// exit code, health and last log lines (the shape pod diagnostics endpoints are asked for).
import type { MemberState, ProcessState } from '../domain/types.js';
import { iso } from '../lib/clock.js';

export interface PodContainerJson {
  name: string;
  state: string;
  /** The last run's exit code while it is not running; null while it runs or before it ran. */
  exitCode: number | null;
  health: string | null;
  oomKilled: boolean;
  restarts: number;
  startedAt: string | null;
  log: string[];
}

export interface PodJson {
  name: string;
  /** Running, Degraded, Exited, Created or Missing. */
  state: string;
  containers: PodContainerJson[];
}

/** Builds the pod section from the driver's observation and each container's log tail. */
export function podJson(name: string, state: string, proc: Pick<ProcessState, 'members'>, logs: ReadonlyMap<string, string[]>): PodJson {
  return {
    name,
    state,
    containers: (proc.members ?? []).map((m: MemberState) => ({
      name: m.name, state: m.state, exitCode: m.exitCode, health: m.health, oomKilled: m.oomKilled, restarts: m.restarts,
      startedAt: iso(m.startedAt), log: logs.get(m.name) ?? [],
    })),
  };
}

/** For people: what `warden debug POD` prints about the pod. */
export function renderPod(p: PodJson): string[] {
  const out = [`pod       ${p.name}: ${p.state}`];
  for (const c of p.containers) {
    const exit = c.exitCode !== null ? `, exit code ${c.exitCode}` : '';
    out.push(`  ${c.name}: ${c.state}${exit}${c.health ? `, health ${c.health}` : ''}${c.oomKilled ? ', OOM-killed' : ''}, restarts ${c.restarts}; last ${c.log.length} log lines:`);
    for (const l of c.log) out.push(`    ${l}`);
  }
  return out;
}
