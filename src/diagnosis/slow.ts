// A service that answers, but later than its check's latency bound (`slowerThan`, probes/checks.ts):
// degraded. It runs its code and its path carries the answers, so it is neither hung nor cut off;
// its dependents' failures are its symptoms. Nothing is restarted: whether the service itself or
// the path to it is slow (load, a proxy, the network) is for a person to find, or a runbook
// declared for performance_degraded.
import type { Alternative, CheckState, Evidence, ServiceObservation, ServiceSpec } from '../domain/types.js';
import { checkAddress } from './verdicts.js';

export interface SlowVerdict {
  evidence: Evidence[];
  rejected: Alternative[];
  noRepair: string;
}

type Slow = { id: string; where: string; state: CheckState; latencyMs: number; boundMs: number };

export function slowAnswers(spec: ServiceSpec, obs: ServiceObservation | undefined): SlowVerdict | null {
  if (!obs?.process.running) return null;
  const failing = obs.checks.filter((c) => c.healthy === false);
  const slow: Slow[] = failing.flatMap((state) => {
    const last = state.last;
    if (last?.slowerThanMs === undefined) return [];
    const probe = spec.checks.find((c) => c.id === state.id)?.probe;
    const where = (probe && checkAddress(probe as Record<string, unknown>)) ?? `check ${state.id}`;
    return [{ id: state.id, where, state, latencyMs: Math.round(last.latencyMs), boundMs: last.slowerThanMs }];
  });
  // A refusal or a wrong answer is a failure of its own; a timeout fits a slow service (later still).
  if (slow.length === 0 || failing.some((c) => c.last?.slowerThanMs === undefined && c.last?.timedOut !== true)) return null;
  const at = slow.map((s) => s.where).join(', ');
  const times = slow.map((s) => `${s.latencyMs} ms`).join(', ');
  return {
    evidence: slow.map((s) => ({
      source: `check:${s.id}`, piece: `check:${spec.name}:${s.id}`,
      fact: `answered in ${s.latencyMs} ms at ${s.where}, slower than its bound of ${s.boundMs} ms (${s.state.consecutiveFailures} in a row)`,
    })),
    rejected: [
      { cause: 'process_hung', rejected: `it answers its checks, in ${times}: its code runs, slowly` },
      { cause: 'network_partition', rejected: `the answers arrive at ${at}, late: the path is slow, not cut` },
    ],
    noRepair: `${spec.name} answers, but slower than its bound at ${at} (${times}): restarting it or its dependents is not known to help; ` +
      `find what slows it or the path to it (load, a proxy, the network), or declare a runbook for performance_degraded, then resolve this ticket`,
  };
}
