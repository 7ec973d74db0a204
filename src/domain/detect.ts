// Detection: a pure function of (inventory, world, open tickets). It is recomputed from scratch on
// every pass (level-based), so a missed event can never leave a stale finding behind.
import { alertFinding, withAlerts } from './alerts.js';
import { hostDown, hostHealth, hostProblems } from './hosts.js';
import { subjectFingerprint, subjectVerdicts, type SubjectRules } from './subject.js';
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
  /** Per subject: healthy while every invariant holds, else the gravest broken one's reason. */
  subjects: Record<string, ServiceHealth>;
  /** Per host reached through a transport: healthy while it answers (domain/hosts.ts). */
  hosts: Record<string, ServiceHealth>;
  findings: Finding[];
  problems: Problem[];
  /** Services that never ran under this Warden (no process, no exit history): deploy, not incident. */
  neverStarted: string[];
}

export function fingerprintOf(host: string, service: string): string {
  return `service:${host}/${service}`;
}

/** A process stopped (T) or in uninterruptible sleep (D) this long is wedged, whatever its checks say. */
export const STUCK_AFTER_MS = 1000;

const STUCK_STATES: Record<string, string> = { T: 'stopped', t: 'stopped by a tracer', D: 'in uninterruptible sleep' };

/** Alive but not running its code (stopped or in D), right now: not answering, even if its backlog accepts. */
export function isStuck(p: ProcessState | undefined): boolean {
  return p?.running === true && p.procState != null && p.procState in STUCK_STATES;
}

/**
 * Why a stuck process counts as broken, once it has been so for longer than a moment (a D state
 * during one disk read is normal); a stop seen without timing counts at once, a D state never.
 */
function stuckReason(p: ProcessState, mono: number | undefined): string | null {
  if (!isStuck(p)) return null;
  const what = `process ${p.pid} ${STUCK_STATES[p.procState!]!} (state ${p.procState})`;
  if (mono === undefined || p.procStateSince === undefined) return p.procState === 'D' ? null : what;
  const forMs = Math.round(mono - p.procStateSince);
  return forMs >= STUCK_AFTER_MS ? `${what} for ${forMs} ms` : null;
}

export function serviceHealth(spec: ServiceSpec, obs: ServiceObservation | undefined, mono?: number): ServiceHealth {
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
  // Checks that still pass (a TCP connect completed by the kernel on the backlog) cannot hide it.
  const stuck = stuckReason(p, mono);
  if (stuck) return { health: 'unhealthy', reason: stuck };
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

export function detect(config: ResolvedConfig, world: World, openTickets: readonly Ticket[], subjectRules: Readonly<Record<string, SubjectRules>> = {}): Detection {
  const specs = new Map(config.services.map((s) => [s.name, s]));
  // What the service's own probes say, then with the alerts Alertmanager fires on it.
  const probed: Record<string, ServiceHealth> = {};
  const health: Record<string, ServiceHealth> = {};
  // A service on a host Warden cannot reach is unknown: whatever its driver last saw is stale.
  for (const s of config.services) {
    const unreachable = hostDown(world, s.host);
    probed[s.name] = unreachable ?? serviceHealth(s, world.services[s.name], world.mono);
    health[s.name] = unreachable ?? withAlerts(probed[s.name]!, world.alerts?.[s.name]);
  }

  // A dependency counts as broken while it is down, stopped (even for a moment: a dependent's
  // symptom then is its doing), or while a repair of it is still under way: a dependent's symptom
  // seen just after the dependency came back still belongs to that ticket.
  const repairing = new Set(openTickets.filter((t) => ACTIVE_REPAIR.includes(t.status)).map((t) => t.service));
  const isBroken = (name: string): boolean => {
    const h = health[name]?.health;
    return h === 'missing' || h === 'unhealthy' || isStuck(world.services[name]?.process);
  };
  const chain = recoveries(specs, world, (n) => isBroken(n) || repairing.has(n));

  const neverStarted: string[] = [];
  const findings: Finding[] = [];
  for (const s of config.services) {
    const f = probeFinding(s, probed[s.name]!, world.services[s.name]);
    if (f === 'never started') neverStarted.push(s.name);
    else if (f) findings.push(f);
    // Each firing alert is a finding of its own, beside what the probes find (or on its own).
    for (const a of world.alerts?.[s.name] ?? []) findings.push(alertFinding(a, s.name, s.host));
  }
  // A subject with a member not started yet is being deployed, not broken: it is judged once every
  // member has started.
  const judged = judgeSubjects(config, world, health, subjectRules, new Set(neverStarted));
  findings.push(...judged.findings);

  // Root of a broken service: follow dependsOn to the first broken (or being repaired) dependency.
  const rootMemo = new Map<string, string>();
  const rootOf = (name: string, seen: Set<string> = new Set()): string => {
    const memo = rootMemo.get(name);
    if (memo) return memo;
    // A member blamed by its subject's broken invariant is a symptom of the subject's problem.
    const subject = judged.blamedBy.get(name);
    if (subject !== undefined) return subject;
    seen.add(name);
    let root = name;
    const failedAt = health[name]?.health === 'unhealthy' ? lastFailure(world.services[name]) : null;
    for (const dep of specs.get(name)?.dependsOn ?? []) {
      if (seen.has(dep)) continue; // cycles are rejected by config validation; stay safe anyway
      if (isBroken(dep) || repairing.has(dep)) {
        root = rootOf(dep, seen);
        break;
      }
      // A failing result taken before the dependency's chain recovered is that chain's symptom
      // until this service is probed again.
      const rec = failedAt ? chain(dep) : null;
      if (failedAt && rec && before(failedAt, rec.at)) {
        root = rec.root === dep || seen.has(rec.root) ? dep : rootOf(rec.root, seen);
        break;
      }
    }
    rootMemo.set(name, root);
    return root;
  };

  const byRoot = new Map<string, Problem>();
  const subjectOf = new Map(config.subjects.map((s) => [s.name, s]));
  // A subject's problem is named after its gravest broken invariant (its first, in the plugin's order).
  const gravest = new Map<string, string>();
  for (const f of findings) if (f.kind === 'invariant_violated' && f.invariant !== undefined && !gravest.has(f.service)) gravest.set(f.service, f.invariant);
  for (const f of findings) {
    const root = f.kind === 'invariant_violated' ? f.service : rootOf(f.service);
    if (subjectOf.has(root) && f.kind !== 'invariant_violated') f.memberOf = root;
    else if (root !== f.service) {
      f.dependencyDown = directBrokenDependency(specs.get(f.service)!, isBroken, repairing) ?? root;
    }
    let p = byRoot.get(root);
    if (!p) {
      const subject = subjectOf.get(root);
      const host = subject?.host ?? specs.get(root)!.host;
      p = { fingerprint: subject ? subjectFingerprint(root, gravest.get(root) ?? 'members') : fingerprintOf(host, root), service: root, host, findings: [] };
      byRoot.set(root, p);
    }
    p.findings.push(f);
  }
  // Root findings first, then dependents, each in inventory order (subjects after services): the
  // same world gives the same report.
  const order = new Map([...config.services, ...config.subjects].map((s, i) => [s.name, i]));
  const problems = [...byRoot.values()].sort((a, b) => order.get(a.service)! - order.get(b.service)!);
  for (const p of problems) {
    p.findings.sort((a, b) => Number(a.service !== p.service) - Number(b.service !== p.service) || order.get(a.service)! - order.get(b.service)!);
  }
  // Hosts last: their services are unknown, not broken, so no service problem stands for them.
  const down = hostProblems(config, world);
  for (const p of down) findings.push(...p.findings);
  problems.push(...down);
  return { health, subjects: judged.health, hosts: hostHealth(config, world), findings, problems, neverStarted };
}

/** What a service's own probes find wrong with it, if anything; a service that never ran is deployed, not broken. */
function probeFinding(s: ServiceSpec, h: ServiceHealth, obs: ServiceObservation | undefined): Finding | 'never started' | null {
  if (h.health !== 'missing' && h.health !== 'unhealthy') return null;
  if (h.health === 'missing' && obs && !obs.process.spawnError && obs.process.exits.length === 0 && !obs.process.exitPending) return 'never started';
  const kind = obs?.process.spawnError ? 'failed_deployment' : h.health === 'missing' ? 'missing_service' : 'unhealthy_service';
  return { kind, service: s.name, host: s.host, reason: h.reason };
}

/** Each subject's broken invariants as findings, its health, and which member each blames. */
function judgeSubjects(config: ResolvedConfig, world: World, health: Readonly<Record<string, ServiceHealth>>, rules: Readonly<Record<string, SubjectRules>>, neverStarted: ReadonlySet<string>): {
  findings: Finding[]; health: Record<string, ServiceHealth>; blamedBy: Map<string, string>;
} {
  const findings: Finding[] = [];
  const out: Record<string, ServiceHealth> = {};
  const blamedBy = new Map<string, string>();
  for (const s of config.subjects) {
    const r = rules[s.type];
    if (!r) {
      out[s.name] = { health: 'unknown', reason: `subject type ${s.type} is not available` };
      continue;
    }
    const deploying = s.members.filter((m) => neverStarted.has(m));
    if (deploying.length > 0) {
      out[s.name] = { health: 'unknown', reason: `deploying: ${deploying.join(', ')} not started yet` };
      continue;
    }
    const verdicts = subjectVerdicts(r, { spec: s, world, health });
    // Not broken, but not whole either while a member is starting (or not started yet): unknown,
    // so a repair is verified only once every member is known to be healthy.
    const pending = s.members.filter((m) => health[m]?.health === 'unknown');
    out[s.name] = verdicts.length > 0 ? { health: 'unhealthy', reason: `${verdicts[0]!.invariant}: ${verdicts[0]!.violation.reason}` }
      : pending.length > 0 ? { health: 'unknown', reason: `waiting for ${pending.join(', ')}` }
        : { health: 'healthy', reason: 'every invariant holds' };
    for (const v of verdicts) {
      const { reason, blame, value } = v.violation;
      findings.push({ kind: 'invariant_violated', service: s.name, host: s.host, reason: `${v.invariant}: ${reason}`, subject: s.name, invariant: v.invariant, cause: v.cause, blame, ...(value !== undefined ? { value } : {}) });
      // A member in two broken subjects is a symptom of the first (config order).
      for (const m of blame) if (!blamedBy.has(m)) blamedBy.set(m, s.name);
    }
  }
  return { findings, health: out, blamedBy };
}

function directBrokenDependency(spec: ServiceSpec, isBroken: (n: string) => boolean, repairing: Set<string>): string | undefined {
  return spec.dependsOn.find((d) => isBroken(d) || repairing.has(d));
}

/** An instant on both clocks when known: compared on monotonic time when both sides have it. */
interface Stamp { at: Millis; mono?: number }

const STILL_BROKEN: Stamp = { at: Number.POSITIVE_INFINITY, mono: Number.POSITIVE_INFINITY };

function before(a: Stamp, b: Stamp): boolean {
  if (a.mono !== undefined && b.mono !== undefined) return a.mono < b.mono;
  return a.at < b.at;
}

/** When the newest failing check result of a service was taken (null: none). */
function lastFailure(obs: ServiceObservation | undefined): Stamp | null {
  let newest: Stamp | null = null;
  for (const c of obs?.checks ?? []) {
    if (c.healthy !== false || !c.last) continue;
    const s: Stamp = c.last.mono === undefined ? { at: c.last.at } : { at: c.last.at, mono: c.last.mono };
    if (!newest || before(newest, s)) newest = s;
  }
  return newest;
}

/** When a healthy service last came back: its process started, or a check turned healthy. */
function recoveredAt(obs: ServiceObservation | undefined): Stamp {
  let s: Stamp = { at: Number.NEGATIVE_INFINITY };
  const p = obs?.process;
  if (p?.startedAt != null) s = p.startedMono != null ? { at: p.startedAt, mono: p.startedMono } : { at: p.startedAt };
  for (const c of obs?.checks ?? []) {
    if (c.since === null) continue;
    const cs: Stamp = c.sinceMono === undefined ? { at: c.since } : { at: c.since, mono: c.sinceMono };
    if (before(s, cs)) s = cs;
  }
  return s;
}

/**
 * Per service, when its dependency chain (itself included) last recovered, and which service of it
 * recovered last: a dependent's failing result older than that was caused by that chain.
 */
function recoveries(specs: ReadonlyMap<string, ServiceSpec>, world: World, inPlay: (n: string) => boolean): (name: string) => { at: Stamp; root: string } {
  const memo = new Map<string, { at: Stamp; root: string }>();
  const walk = (name: string, seen: Set<string>): { at: Stamp; root: string } => {
    const m = memo.get(name);
    if (m) return m;
    seen.add(name);
    let r = { at: inPlay(name) ? STILL_BROKEN : recoveredAt(world.services[name]), root: name };
    for (const dep of specs.get(name)?.dependsOn ?? []) {
      if (seen.has(dep)) continue;
      const d = walk(dep, seen);
      if (before(r.at, d.at)) r = { at: d.at, root: d.root };
    }
    memo.set(name, r);
    return r;
  };
  // Walked on demand: only dependents with a failing result ask, so a healthy inventory costs nothing.
  return (name) => walk(name, new Set());
}
