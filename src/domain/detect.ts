// Detection: a pure function of (inventory, world, open tickets). It is recomputed from scratch on
// every pass (level-based), so a missed event can never leave a stale finding behind.
import type {
  CheckState, Finding, Health, Millis, ProcessState, ResolvedConfig, ServiceObservation, ServiceSpec, Ticket, World,
} from './types.js';

export interface ServiceHealth {
  health: Health;
  reason: string;
}

/** One problem = one ticket: a root service and every finding attributed to it. */
export interface Problem {
  fingerprint: string;
  service: string;
  host: string;
  findings: Finding[];
}

export interface Detection {
  health: Record<string, ServiceHealth>;
  findings: Finding[];
  problems: Problem[];
  /** Services that never ran under this Warden (no process, no exit history): deploy, not incident. */
  neverStarted: string[];
}

export function fingerprintOf(host: string, service: string): string {
  return `service:${host}/${service}`;
}

export function serviceHealth(spec: ServiceSpec, obs: ServiceObservation | undefined): ServiceHealth {
  if (!obs) return { health: 'unknown', reason: 'not observed yet' };
  const p = obs.process;
  if (p.unknown) return { health: 'unknown', reason: p.unknown };
  if (!p.running) {
    if (p.spawnError) return { health: 'missing', reason: `cannot start: ${p.spawnError}` };
    const last = p.exits[0];
    if (!last) return { health: 'missing', reason: 'not running' };
    const how = last.signal ? `killed by ${last.signal}` : `exited with code ${last.code ?? 'unknown'}`;
    return { health: 'missing', reason: `process ${how}` };
  }
  if (p.failing) return { health: 'unhealthy', reason: p.failing };
  // A result taken before this process started says nothing about it (the service was down then).
  const fresh = obs.checks.filter((c) => c.last === null ? p.startedAt == null : startedBefore(p, c.last));
  const failing = fresh.filter((c) => c.healthy === false);
  const starting = failing.filter((c) => inStartPeriod(spec, p, c));
  if (starting.length > 0 && starting.length === failing.length) {
    return { health: 'unknown', reason: `starting: check ${starting[0]!.id} not passing yet within the start period of ${spec.startPeriodMs} ms` };
  }
  if (failing.length > 0) {
    const c = failing[0]!;
    return { health: 'unhealthy', reason: `check ${c.id} failing: ${c.last?.message ?? 'no result'}` };
  }
  if (spec.checks.length === 0) return { health: 'healthy', reason: `process ${p.pid} running` };
  if (fresh.length < obs.checks.length || fresh.some((c) => c.healthy === null)) return { health: 'unknown', reason: 'waiting for first check results' };
  return { health: 'healthy', reason: 'all checks passing' };
}

/**
 * A failing result inside the start period, before the check has passed once since the process
 * started: a slow start, not a failure. A check that has passed since is never hidden by it.
 */
function inStartPeriod(spec: ServiceSpec, p: ProcessState, c: CheckState): boolean {
  const period = spec.startPeriodMs ?? 0;
  if (period <= 0 || p.startedMono == null || c.last?.mono === undefined) return false;
  if (c.okMono !== undefined && c.okMono >= p.startedMono) return false;
  return c.last.mono < p.startedMono + period;
}

/** Was the result taken after the process started? On monotonic time when both sides have it. */
function startedBefore(p: ProcessState, last: { at: Millis; mono?: number }): boolean {
  if (p.startedMono != null && last.mono !== undefined) return last.mono >= p.startedMono;
  return p.startedAt == null || last.at >= p.startedAt;
}

const ACTIVE_REPAIR: readonly Ticket['status'][] = ['open', 'diagnosing', 'awaiting_approval', 'remediating', 'verifying'];

export function detect(config: ResolvedConfig, world: World, openTickets: readonly Ticket[]): Detection {
  const specs = new Map(config.services.map((s) => [s.name, s]));
  const health: Record<string, ServiceHealth> = {};
  for (const s of config.services) health[s.name] = serviceHealth(s, world.services[s.name]);

  // A dependency counts as broken while it is down, or while a repair of it is still under way:
  // a dependent's symptom seen just after the dependency came back still belongs to that ticket.
  const repairing = new Set(openTickets.filter((t) => ACTIVE_REPAIR.includes(t.status)).map((t) => t.service));
  const isBroken = (name: string): boolean => {
    const h = health[name]?.health;
    return h === 'missing' || h === 'unhealthy';
  };

  const neverStarted: string[] = [];
  const findings: Finding[] = [];
  for (const s of config.services) {
    const h = health[s.name]!;
    if (h.health !== 'missing' && h.health !== 'unhealthy') continue;
    const obs = world.services[s.name];
    if (h.health === 'missing' && obs && !obs.process.spawnError && obs.process.exits.length === 0 && !obs.process.exitPending) {
      neverStarted.push(s.name);
      continue;
    }
    const kind = obs?.process.spawnError ? 'failed_deployment' : h.health === 'missing' ? 'missing_service' : 'unhealthy_service';
    findings.push({ kind, service: s.name, host: s.host, reason: h.reason });
  }

  // Root of a broken service: follow dependsOn to the first broken (or being repaired) dependency.
  const rootMemo = new Map<string, string>();
  const rootOf = (name: string, seen: Set<string> = new Set()): string => {
    const memo = rootMemo.get(name);
    if (memo) return memo;
    seen.add(name);
    let root = name;
    for (const dep of specs.get(name)?.dependsOn ?? []) {
      if (seen.has(dep)) continue; // cycles are rejected by config validation; stay safe anyway
      if (isBroken(dep) || repairing.has(dep)) {
        root = rootOf(dep, seen);
        break;
      }
    }
    rootMemo.set(name, root);
    return root;
  };

  const byRoot = new Map<string, Problem>();
  for (const f of findings) {
    const root = rootOf(f.service);
    if (root !== f.service) {
      f.dependencyDown = directBrokenDependency(specs.get(f.service)!, isBroken, repairing) ?? root;
    }
    const rootSpec = specs.get(root)!;
    let p = byRoot.get(root);
    if (!p) {
      p = { fingerprint: fingerprintOf(rootSpec.host, root), service: root, host: rootSpec.host, findings: [] };
      byRoot.set(root, p);
    }
    p.findings.push(f);
  }
  // Root findings first, then dependents, each in inventory order: the same world gives the same report.
  const order = new Map(config.services.map((s, i) => [s.name, i]));
  const problems = [...byRoot.values()].sort((a, b) => order.get(a.service)! - order.get(b.service)!);
  for (const p of problems) {
    p.findings.sort((a, b) => Number(a.service !== p.service) - Number(b.service !== p.service) || order.get(a.service)! - order.get(b.service)!);
  }
  return { health, findings, problems, neverStarted };
}

function directBrokenDependency(spec: ServiceSpec, isBroken: (n: string) => boolean, repairing: Set<string>): string | undefined {
  return spec.dependsOn.find((d) => isBroken(d) || repairing.has(d));
}
