// From what the log says (logs.ts) to what it means for one problem: the evidence quoted, whether a
// line decides the cause, who the root cause is, and whether a restart can repair it. Facts the log
// cannot give (who holds a port now, whether a dependency answers now) come from the input.
import type { Cause, Evidence, ResolvedConfig, ServiceSpec, World } from '../domain/types.js';
import type { PortListeners } from '../lib/sockets.js';
import type { LogMatch } from './logs.js';

/** A log line that explains the failure. */
export interface LogVerdict {
  match: LogMatch;
  cause: Cause;
  /** The first broken thing: the service itself, or the dependency it was refused by. */
  rootService: string;
  confidence: number;
  /** Short, for rejected alternatives: "port 8080 already in use". */
  explains: string;
  /** What to do: restart a service (which), or nothing automatic, and why when the cause alone does not say. */
  repair: { restart: string } | { none: string | null };
}

export interface LogReading {
  evidence: Evidence[];
  verdict: LogVerdict | null;
  /** Why alternatives are rejected, from what the log says (or does not). */
  notes: Map<Cause, string>;
}

export interface LogContext {
  config: ResolvedConfig;
  world: World;
  spec: ServiceSpec;
  listeners: readonly PortListeners[] | undefined;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '::', '[::]']);

function sameAddress(a: string, b: string): boolean {
  const split = (x: string): [string, string] => { const i = x.lastIndexOf(':'); return [x.slice(0, i).toLowerCase(), x.slice(i + 1)]; };
  const [ha, pa] = split(a);
  const [hb, pb] = split(b);
  return pa === pb && (ha === hb || (LOOPBACK.has(ha) && LOOPBACK.has(hb)) || /^127\./.test(ha) && /^127\./.test(hb));
}

/** The host:port a check reaches (tcp `address`, http `url`), if it says. */
export function checkAddress(probe: Record<string, unknown>): string | null {
  if (typeof probe.address === 'string') return probe.address;
  if (typeof probe.url === 'string') {
    try {
      const u = new URL(probe.url);
      return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
    } catch {
      return null;
    }
  }
  return null;
}

/** The dependency of `spec` whose checks reach `address`, if any. */
function dependencyAt(ctx: LogContext, address: string): ServiceSpec | null {
  for (const name of ctx.spec.dependsOn) {
    const dep = ctx.config.services.find((s) => s.name === name);
    if (dep?.checks.some((c) => { const a = checkAddress(c.probe); return a !== null && sameAddress(a, address); })) return dep;
  }
  return null;
}

function answersNow(world: World, service: string): boolean {
  const o = world.services[service];
  return o?.process.running === true && !o.checks.some((c) => c.healthy === false);
}

function quote(m: LogMatch): string {
  return `"${m.line}"`;
}

/** A log line as evidence, citing its piece (`log:SVC:N`, N its place in the tail read). */
function logFact(m: LogMatch, ctx: LogContext, fact: string): Evidence {
  return { source: 'log', fact, piece: `log:${ctx.spec.name}:${m.index}` };
}

/** Port in use: decisive unless the port is free now (then it was a moment's race and a restart can take it). */
function portInUse(m: LogMatch, ctx: LogContext, r: LogReading): LogVerdict | null {
  const port = m.details.port;
  const svc = ctx.spec.name;
  r.evidence.push(logFact(m, ctx, `port ${port ?? '(not named)'} already in use: ${quote(m)}`));
  const now = port === undefined ? undefined : ctx.listeners?.find((l) => l.port === port);
  if (now && !now.held) {
    r.evidence.push({ source: 'port', fact: `port ${port} is free now` });
    r.notes.set('config_drift', `port ${port} was in use when ${svc} started but is free now: a restart can take it`);
    return null;
  }
  let holder = 'another process';
  if (now && now.holders.length > 0) {
    holder = now.holders.map((h) => {
      const owner = Object.values(ctx.world.services).find((o) => o.process.running && o.process.pid === h.pid);
      return `pid ${h.pid} (${h.command})${owner ? ` of service ${owner.name}` : ''}`;
    }).join(', ');
    r.evidence.push({ source: 'port', fact: `port ${port} is held by ${holder}` });
  } else if (now) {
    r.evidence.push({ source: 'port', fact: `port ${port} is held by a process whose descriptors cannot be read` });
  }
  const what = `port ${port ?? '(not named)'} is held by ${holder}`;
  return {
    match: m, cause: m.cause, rootService: svc, confidence: now && now.holders.length > 0 ? 0.95 : 0.9,
    explains: port === undefined ? 'port already in use' : `port ${port} already in use`,
    repair: m.restartHelps ? { restart: svc } : { none: `${what}: a restart cannot free it; stop that process or move ${svc} to another port` },
  };
}

/** Refused by a known dependency: that dependency is the root cause. Otherwise only evidence. */
function refused(m: LogMatch, ctx: LogContext, r: LogReading): LogVerdict | null {
  const address = m.details.address;
  const dep = address === undefined ? null : dependencyAt(ctx, address);
  const svc = ctx.spec.name;
  if (!dep) {
    r.evidence.push(logFact(m, ctx, `connection refused${address ? ` by ${address}` : ''}, no dependency's address: ${quote(m)}`));
    r.notes.set('dependency_down', `the refused address ${address ?? '(not named)'} is not one of ${svc}'s dependencies' checks`);
    return address === undefined ? null : wrongAddress(m, address, ctx, r);
  }
  r.evidence.push(logFact(m, ctx, `connection refused by ${address}, the address of dependency ${dep.name}: ${quote(m)}`));
  const back = answersNow(ctx.world, dep.name);
  r.evidence.push({ source: 'dependsOn', fact: `${dep.name} ${back ? 'answers its checks now' : 'does not answer now'}` });
  return {
    match: m, cause: m.cause, rootService: dep.name, confidence: 0.85,
    explains: `connection refused by dependency ${dep.name}`,
    // Back now: the dependent only has to connect again. Still down: the dependency's repair comes first.
    repair: back && m.restartHelps ? { restart: svc } : { none: `${dep.name} refuses connections at ${address}; it must be repaired first` },
  };
}

/**
 * Refused on this host at an address none of its dependencies serves, while all of them answer at
 * their own: the service is configured with the wrong address (a misconfigured port). Only on
 * loopback, where "nothing listens there" is certain; a remote address may be a system Warden does
 * not know.
 */
function wrongAddress(m: LogMatch, address: string, ctx: LogContext, r: LogReading): LogVerdict | null {
  const svc = ctx.spec.name;
  const host = address.slice(0, address.lastIndexOf(':')).toLowerCase();
  const deps = ctx.spec.dependsOn;
  if (!(LOOPBACK.has(host) || /^127\./.test(host)) || deps.length === 0 || !deps.every((d) => answersNow(ctx.world, d))) return null;
  r.evidence.push({ source: 'dependsOn', fact: `${deps.join(', ')} answer${deps.length === 1 ? 's' : ''} at ${deps.length === 1 ? 'its' : 'their'} own address now` });
  return {
    match: m, cause: 'config_drift', rootService: svc, confidence: 0.7,
    explains: `${svc} connects to ${address}, where none of its dependencies listens`,
    repair: { none: `${svc} connects to ${address}, which is refused, while its dependencies (${deps.join(', ')}) answer at their own addresses: its configuration points at the wrong address; correct it, then restart ${svc}` },
  };
}

/** Credentials refused: by a dependency (its address in the line), that dependency changed them; a person makes both sides agree. */
function authFailed(m: LogMatch, ctx: LogContext, r: LogReading): LogVerdict {
  const svc = ctx.spec.name;
  const dep = m.details.address === undefined ? null : dependencyAt(ctx, m.details.address);
  r.evidence.push(logFact(m, ctx, `credentials refused${dep ? ` by ${m.details.address}, the address of dependency ${dep.name}` : ''}: ${quote(m)}`));
  const who = dep ? `${dep.name} refuses ${svc}'s credentials` : `${svc}'s credentials are refused`;
  return {
    match: m, cause: m.cause, rootService: dep?.name ?? svc, confidence: dep ? 0.85 : 0.7,
    explains: dep ? `credentials refused by dependency ${dep.name}` : 'credentials refused',
    repair: { none: `${who}: they were changed or revoked; a restart sends the same ones. A person must make them agree, then restart ${svc}` },
  };
}

/** A missing module, file or permission: the installation or configuration, which a person must fix. */
function needsPerson(m: LogMatch, ctx: LogContext, r: LogReading): LogVerdict {
  const what = `${m.means}${m.details.path ? `: ${m.details.path}` : ''}`;
  r.evidence.push(logFact(m, ctx, `${what}: ${quote(m)}`));
  return {
    match: m, cause: m.cause, rootService: ctx.spec.name, confidence: 0.85, explains: what,
    repair: m.restartHelps ? { restart: ctx.spec.name } : { none: `${what}: a restart meets the same; a person must fix the installation or configuration` },
  };
}

function exhausted(m: LogMatch, ctx: LogContext, r: LogReading): LogVerdict {
  const what = m.resource ?? m.means;
  r.evidence.push(logFact(m, ctx, `${what} exhausted: ${quote(m)}`));
  return {
    match: m, cause: m.cause, rootService: ctx.spec.name, confidence: 0.9, explains: `${what} exhaustion`,
    // Restarting frees descriptors and memory; it cannot free a disk.
    repair: m.restartHelps ? { restart: ctx.spec.name } : { none: null },
  };
}

/**
 * Reads the matches (newest first): each one is quoted as evidence, and the newest that explains
 * the failure decides.
 */
export function judgeLog(matches: readonly LogMatch[], ctx: LogContext): LogReading {
  const r: LogReading = { evidence: [], verdict: null, notes: new Map() };
  for (const m of matches) {
    let v: LogVerdict | null;
    switch (m.signal) {
      case 'port_in_use': v = portInUse(m, ctx, r); break;
      case 'connection_refused': v = refused(m, ctx, r); break;
      case 'auth_failed': v = authFailed(m, ctx, r); break;
      case 'missing_module':
      case 'missing_file':
      case 'permission_denied': v = needsPerson(m, ctx, r); break;
      case 'disk_full':
      case 'too_many_files':
      case 'out_of_memory': v = exhausted(m, ctx, r); break;
    }
    r.verdict ??= v;
  }
  return r;
}
