// A path that does not answer: the service answers a check at its own address while a check that
// reaches it another way (through a proxy, a link, a load balancer: the address its clients use)
// gets no reply at all. The process runs its code, so it is not hung and a restart cannot help;
// the network between is cut, or so slow that a check's timeout cannot tell it from cut.
import type { Alternative, CheckState, Evidence, ServiceObservation, ServiceSpec } from '../domain/types.js';
import { checkAddress } from './verdicts.js';

export interface PathVerdict {
  evidence: Evidence[];
  rejected: Alternative[];
  noRepair: string;
}

type Located = { id: string; address: string; state: CheckState; timeoutMs: number };

export function unansweredPath(spec: ServiceSpec, obs: ServiceObservation | undefined): PathVerdict | null {
  if (!obs?.process.running) return null;
  const located: Located[] = spec.checks.flatMap((c) => {
    const address = checkAddress(c.probe as Record<string, unknown>);
    const state = obs.checks.find((s) => s.id === c.id);
    return address !== null && state ? [{ id: c.id, address, state, timeoutMs: c.timeoutMs }] : [];
  });
  const passing = located.filter((c) => c.state.healthy === true);
  const failing = located.filter((c) => c.state.healthy === false);
  // Only silence counts: a refusal or a wrong answer means something answered on the path.
  if (passing.length === 0 || failing.length === 0 || !failing.every((c) => c.state.last?.timedOut === true)) return null;
  if (failing.some((f) => passing.some((p) => p.address === f.address))) return null;
  if (obs.checks.some((s) => s.healthy === false && !failing.some((f) => f.id === s.id))) return null;
  const own = passing.map((c) => c.address).join(', ');
  const cut = failing.map((c) => c.address).join(', ');
  const ok = passing[0]!;
  return {
    evidence: [
      ...passing.map((c) => ({ source: `check:${c.id}`, piece: `check:${spec.name}:${c.id}`, fact: `answers at ${c.address}` })),
      ...failing.map((c) => ({ source: `check:${c.id}`, piece: `check:${spec.name}:${c.id}`, fact: `no reply at ${c.address} within ${c.timeoutMs} ms (${c.state.consecutiveFailures} in a row)` })),
    ],
    rejected: [
      { cause: 'process_hung', rejected: `it answers its check ${ok.id} at ${ok.address}: its code runs` },
      { cause: 'performance_degraded', rejected: `no reply at all within ${Math.max(...failing.map((c) => c.timeoutMs))} ms at ${cut}: with no answer to time, a slow path cannot be told from a cut one` },
    ],
    noRepair: `${spec.name} answers at ${own} but not at ${cut}, the address its clients reach it by: the path between (a proxy, a link, a firewall) drops or delays traffic; ` +
      `restarting ${spec.name} or its dependents cannot repair it; repair the path, then resolve this ticket`,
  };
}
