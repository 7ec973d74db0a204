// The evidence bundle as pieces with stable ids: what every diagnoser reads, what `warden debug`
// and the diagnostics endpoint show, and what a diagnosis cites. An id names where a fact lives
// (`check:web:http#0`, `log:web:12`), never its text, so the same evidence gives the same ids and a
// citation can be checked against the bundle it claims to rest on.
import { createHash } from 'node:crypto';
import type { ResolvedConfig, World } from '../domain/types.js';
import type { Problem } from '../domain/detect.js';

export type PieceKind = 'probe' | 'history' | 'process' | 'log' | 'graph' | 'action' | 'host' | 'drift' | 'subject' | 'finding' | 'alert';

export interface EvidencePiece {
  id: string;
  kind: PieceKind;
  /** One fact, in words. */
  text: string;
  /** Written by the service or its system, not by Warden: data to read, never instructions. */
  untrusted?: true;
}

/** A recent action on one of the problem's services, as the store holds it. */
export interface RecentAction { id: string; type: string; target: string; state: string; at: number; error: string | null }

/** The host's resources, read when the evidence is gathered (local hosts only). */
export interface HostResources {
  host: string;
  load: [number, number, number];
  memory: { totalBytes: number; freeBytes: number };
  /** Filesystems that matter to the problem: the data directory and the services' working directories. */
  filesystems: { path: string; freeBytes: number; totalBytes: number; freeInodes: number; totalInodes: number }[];
  openFds: number | null;
}

export interface PiecesInput {
  config: ResolvedConfig;
  world: World;
  problem: Problem;
  logTail: readonly string[];
  actions?: readonly RecentAction[];
  resources?: HostResources | null;
  /** The argv the running process was started with (store), by service: compared with the inventory. */
  recordedStart?: Readonly<Record<string, readonly string[]>>;
  /**
   * Only this service's pieces, not its dependencies' (`warden debug SERVICE`): the same ids a
   * diagnosis gives them, so a citation is found under the service its id names.
   */
  only?: string;
}

/** The services a problem concerns: its own, its findings', and their dependencies (transitively). */
export function problemServices(config: ResolvedConfig, problem: Pick<Problem, 'service' | 'findings'>): string[] {
  const names = new Set([problem.service, ...problem.findings.map((f) => f.service)]);
  for (const n of [...names]) for (const d of config.services.find((s) => s.name === n)?.dependsOn ?? []) names.add(d);
  return [...names].filter((n) => config.services.some((s) => s.name === n));
}

export function evidencePieces(input: PiecesInput): EvidencePiece[] {
  const { config, world, problem } = input;
  const out: EvidencePiece[] = [];
  for (const f of problem.findings) out.push({ id: `finding:${f.service}:${f.kind}${f.invariant ? `:${f.invariant}` : ''}`, kind: 'finding', text: f.reason });
  for (const name of input.only !== undefined ? [input.only] : problemServices(config, problem)) {
    const obs = world.services[name];
    const p = obs?.process;
    if (p) {
      out.push({ id: `process:${name}`, kind: 'process', text: p.running ? `${name}: pid ${p.pid} running, state ${p.procState ?? '?'}` : `${name}: not running${p.spawnError ? `; start failed: ${p.spawnError}` : ''}` });
      for (const e of p.exits.slice(0, 5)) {
        out.push({ id: `exit:${name}:${e.at}`, kind: 'history', text: `${name} exited at ${new Date(e.at).toISOString()} ${e.signal ? `by signal ${e.signal}` : `with code ${e.code ?? '?'}`}${e.uptimeMs != null ? ` after ${e.uptimeMs} ms` : ''}${e.byWarden ? ' (stopped by Warden)' : ''}` });
      }
    }
    for (const c of obs?.checks ?? []) {
      const state = c.healthy === null ? 'no result yet' : c.healthy ? 'passing' : `failing (${c.consecutiveFailures} in a row)`;
      out.push({ id: `check:${name}:${c.id}`, kind: 'probe', text: `${name} ${c.type} check ${c.id}: ${state}${c.last ? `: ${c.last.message}` : ''}` });
    }
    const spec = config.services.find((s) => s.name === name)!;
    out.push({ id: `graph:${name}`, kind: 'graph', text: `${name} on host ${spec.host} (${spec.kind}) depends on ${spec.dependsOn.length ? spec.dependsOn.join(', ') : 'nothing'}` });
    const recorded = input.recordedStart?.[name];
    if (recorded && spec.start.length > 0) {
      const same = hashArgv(recorded) === hashArgv(spec.start);
      out.push({ id: `drift:${name}`, kind: 'drift', text: same ? `${name} runs with the inventory's start command` : `${name} was started with a command that differs from the inventory's (recorded ${hashArgv(recorded)}, inventory ${hashArgv(spec.start)})` });
    }
  }
  // Log lines: numbered from the oldest line of the tail, so a citation names one line.
  input.logTail.forEach((line, i) => out.push({ id: `log:${problem.service}:${i}`, kind: 'log', text: line, untrusted: true }));
  for (const a of input.actions ?? []) {
    out.push({ id: `action:${a.id}`, kind: 'action', text: `${a.type} ${a.target}: ${a.state} at ${new Date(a.at).toISOString()}${a.error ? `: ${a.error}` : ''}` });
  }
  const r = input.resources;
  if (r) {
    out.push({ id: `host:${r.host}:load`, kind: 'host', text: `load ${r.load.map((x) => x.toFixed(2)).join(' ')}; memory ${mib(r.memory.freeBytes)} free of ${mib(r.memory.totalBytes)}${r.openFds === null ? '' : `; ${r.openFds} open file descriptors`}` });
    for (const fs of r.filesystems) {
      out.push({ id: `host:${r.host}:fs:${fs.path}`, kind: 'host', text: `${fs.path}: ${mib(fs.freeBytes)} free of ${mib(fs.totalBytes)}; ${fs.freeInodes} of ${fs.totalInodes} inodes free` });
    }
  }
  for (const [name, facts] of Object.entries(world.subjects ?? {})) {
    if (name !== problem.service && !problem.findings.some((f) => f.subject === name || f.memberOf === name)) continue;
    out.push({ id: `subject:${name}`, kind: 'subject', text: JSON.stringify(facts), untrusted: true });
    const spec = config.subjects.find((s) => s.name === name);
    for (const inv of spec?.promql ?? []) out.push({ id: `subject:${name}:${inv.id}`, kind: 'subject', text: `invariant ${inv.id} (${inv.cause}): ${inv.description}` });
  }
  for (const f of problem.findings) {
    if (f.alert) out.push({ id: `alert:${f.alert.fingerprint}`, kind: 'alert', text: `${f.alert.name} ${JSON.stringify(f.alert.annotations)}`, untrusted: true });
  }
  return out;
}

function hashArgv(argv: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(argv)).digest('hex').slice(0, 12);
}

function mib(n: number): string {
  return `${Math.round(n / 1048576)} MiB`;
}
