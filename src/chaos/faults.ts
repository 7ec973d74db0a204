// The faults `warden chaos` injects into a service or subject of the config, each with the recipe
// that reverts it. A recipe is plain data, because the revert may run in another process (the
// detached reverter that `--for` starts, or a later `warden chaos revert`). The faults reuse the
// lab's own tools: signals, the network-namespace faults of chaos/net.ts (also used by the etcd
// lab), the rate-limiter node's admin endpoints.
import { closeSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig, ServiceSpec, SubjectSpec } from '../domain/types.js';
import { formatDuration } from '../lib/duration.js';
import { errorText, WardenError } from '../lib/errors.js';
import { readProcStat } from '../lib/proc.js';
import { EtcdClient } from '../subjects/etcd/client.js';
import type { EtcdParams } from '../subjects/etcd/index.js';
import { addDelay, linksOf, netnsOf, removeDelay, setLinks } from './net.js';

export const CHAOS_KINDS = ['kill', 'hang', 'partition', 'latency', 'fill-disk', 'kill-leader', 'corrupt-counters'] as const;
export type ChaosKind = (typeof CHAOS_KINDS)[number];

/** How a fault is put right, as data (see the file's comment). */
export type Revert =
  | { op: 'start'; service: string }
  | { op: 'continue'; pid: number; startTime: number }
  | { op: 'links-up'; netns: string; links: string[] }
  | { op: 'undelay'; netns: string; links: string[] }
  | { op: 'remove-file'; path: string }
  | { op: 'post'; url: string };

export interface Injected {
  /** The service the fault acts on (for kill-leader, the leader found). */
  service: string;
  /** What was done, for people and the audit log. */
  detail: string;
  revert: Revert;
}

export class ChaosError extends WardenError {
  constructor(code: 'CHAOS_TARGET' | 'CHAOS_UNSUPPORTED' | 'CHAOS_FAILED', message: string) {
    super(code, message);
  }
}

/** What injecting needs from the caller: a service's main process, and (to revert a kill) a start. */
export interface ChaosDeps {
  pidOf(spec: ServiceSpec): Promise<number | null>;
  start(service: string): Promise<string>;
}

export interface InjectOptions {
  /** The fault's id: names the fill file. */
  id: string;
  /** latency: the delay. */
  delayMs: number;
  /** fill-disk: a directory on the filesystem to fill (default: the service's filesystem check's path, else its cwd). */
  path?: string;
}

/** fill-disk fills only filesystems this small: a lab's tmpfs or loop volume, never a host's disk. */
export const FILL_MAX_BYTES = 1024 ** 3;
/** corrupt-counters: the stale cache is refreshed from Redis this seldom (longer than any lab window). */
export const STALE_MS = 10_000;

const names = (xs: readonly { name: string }[]): string => xs.map((x) => x.name).join(', ') || 'none';

/** The service or subject TARGET names; an error that lists both otherwise. */
function resolveTarget(cfg: ResolvedConfig, target: string): { service: ServiceSpec } | { subject: SubjectSpec } {
  const service = cfg.services.find((s) => s.name === target);
  if (service) return { service };
  const subject = cfg.subjects.find((s) => s.name === target);
  if (subject) return { subject };
  throw new ChaosError('CHAOS_TARGET', `no service or subject "${target}" in ${cfg.file}; services: ${names(cfg.services)}; subjects: ${names(cfg.subjects)}`);
}

function serviceTarget(cfg: ResolvedConfig, kind: ChaosKind, target: string): ServiceSpec {
  const t = resolveTarget(cfg, target);
  if ('service' in t) return t.service;
  const hint = t.subject.type === 'etcd' && kind === 'kill' ? '; to kill its leader: warden chaos kill-leader ' + target : '';
  throw new ChaosError('CHAOS_TARGET', `${target} is a subject; ${kind} acts on one service: name one of its members (${t.subject.members.join(', ')})${hint}`);
}

async function runningPid(deps: ChaosDeps, spec: ServiceSpec): Promise<number> {
  const pid = await deps.pidOf(spec);
  if (pid === null) throw new ChaosError('CHAOS_TARGET', `${spec.name} does not run: there is nothing to break (see "warden status")`);
  return pid;
}

/** The named network namespace the service runs in, and its links; refuses the host's own. */
async function namespaceOf(deps: ChaosDeps, spec: ServiceSpec, kind: ChaosKind): Promise<{ netns: string; links: string[] }> {
  const pid = await runningPid(deps, spec);
  const netns = netnsOf(pid);
  if (netns === null) {
    throw new ChaosError('CHAOS_UNSUPPORTED', `${kind} acts inside the target's own network namespace, and ${spec.name} (pid ${pid}) runs in the host's: that would cut off the whole host. Run it in one of its own ("ip netns exec NS …"), as the etcd lab does`);
  }
  const links = await linksOf(netns);
  if (links.length === 0) throw new ChaosError('CHAOS_UNSUPPORTED', `${spec.name}'s namespace ${netns} has no link but loopback: nothing to ${kind}`);
  return { netns, links };
}

/** Injects one fault and says how to revert it. Nothing is left half done when it throws. */
export async function inject(cfg: ResolvedConfig, kind: ChaosKind, target: string, o: InjectOptions, deps: ChaosDeps): Promise<Injected> {
  switch (kind) {
    case 'kill':
      return kill(serviceTarget(cfg, kind, target), deps);
    case 'kill-leader':
      return kill(await leaderOf(cfg, target), deps);
    case 'hang': {
      const spec = serviceTarget(cfg, kind, target);
      const pid = await runningPid(deps, spec);
      const startTime = readProcStat(pid)?.startTime ?? 0;
      process.kill(pid, 'SIGSTOP');
      return { service: spec.name, detail: `SIGSTOP to ${spec.name} (pid ${pid})`, revert: { op: 'continue', pid, startTime } };
    }
    case 'partition': {
      const spec = serviceTarget(cfg, kind, target);
      const { netns, links } = await namespaceOf(deps, spec, kind);
      await setLinks(netns, links, 'down');
      return { service: spec.name, detail: `link ${links.join(', ')} down in ${netns}`, revert: { op: 'links-up', netns, links } };
    }
    case 'latency': {
      const spec = serviceTarget(cfg, kind, target);
      const { netns, links } = await namespaceOf(deps, spec, kind);
      const done: string[] = [];
      try {
        for (const l of links) {
          await addDelay(netns, l, o.delayMs);
          done.push(l);
        }
      } catch (e) {
        for (const l of done) await removeDelay(netns, l).catch(() => undefined);
        throw e;
      }
      return { service: spec.name, detail: `netem delay ${formatDuration(o.delayMs)} on ${links.join(', ')} in ${netns}`, revert: { op: 'undelay', netns, links } };
    }
    case 'fill-disk':
      return fillDisk(serviceTarget(cfg, kind, target), o);
    case 'corrupt-counters': {
      const spec = serviceTarget(cfg, kind, target);
      const origin = adminOrigin(spec);
      await post(`${origin}/admin/stale?ms=${STALE_MS}`);
      return { service: spec.name, detail: `${spec.name}'s local cache made stale (refreshed from Redis every ${formatDuration(STALE_MS)}) through ${origin}/admin/stale`, revert: { op: 'post', url: `${origin}/admin/flush` } };
    }
  }
}

async function kill(spec: ServiceSpec, deps: ChaosDeps): Promise<Injected> {
  const pid = await runningPid(deps, spec);
  process.kill(pid, 'SIGKILL');
  return { service: spec.name, detail: `SIGKILL to ${spec.name} (pid ${pid})`, revert: { op: 'start', service: spec.name } };
}

/** The member service an etcd subject's members name as their leader, asked through etcd's API. */
export async function leaderOf(cfg: ResolvedConfig, target: string): Promise<ServiceSpec> {
  const t = resolveTarget(cfg, target);
  if (!('subject' in t) || t.subject.type !== 'etcd') {
    const etcds = cfg.subjects.filter((s) => s.type === 'etcd');
    throw new ChaosError('CHAOS_TARGET', `kill-leader needs an etcd subject; ${target} is not one (etcd subjects: ${names(etcds)})`);
  }
  const { endpoints } = t.subject.params as unknown as EtcdParams;
  const byUrl = new Map(Object.entries(endpoints).map(([m, u]) => [new URL(u).origin, m]));
  const why: string[] = [];
  for (const [member, url] of Object.entries(endpoints)) {
    try {
      const c = new EtcdClient(url, { timeoutMs: 2000 });
      const { leader } = await c.status();
      if (leader === null) throw new Error('it knows no leader');
      const m = (await c.memberList()).find((x) => x.id === leader);
      const service = m?.clientUrls.map((u) => byUrl.get(new URL(u).origin)).find((v) => v !== undefined);
      const spec = cfg.services.find((s) => s.name === service);
      if (!spec) throw new Error(`its leader ${leader} is none of the subject's endpoints`);
      return spec;
    } catch (e) {
      why.push(`${member}: ${errorText(e)}`);
    }
  }
  throw new ChaosError('CHAOS_FAILED', `cannot find ${target}'s leader: ${why.join('; ')}`);
}

/** The node's admin address: the origin of its first http check (the lab's nodes check /healthz). */
function adminOrigin(spec: ServiceSpec): string {
  for (const c of spec.checks) if (c.probe.type === 'http' && typeof c.probe.url === 'string') return new URL(c.probe.url).origin;
  throw new ChaosError('CHAOS_TARGET', `corrupt-counters needs ${spec.name}'s address: give it an http check on the rate-limiter node's /healthz (docs/subjects-ratelimiter-lab.md)`);
}

async function post(url: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(5000) });
  } catch (e) {
    throw new ChaosError('CHAOS_FAILED', `POST ${url} failed: ${errorText(e)}`);
  }
  const body = await res.text();
  if (!res.ok) throw new ChaosError('CHAOS_FAILED', `POST ${url} answered HTTP ${res.status}: ${body.slice(0, 200)} (is it a rate-limiter node of the lab?)`);
  return body;
}

function fillDisk(spec: ServiceSpec, o: InjectOptions): Injected {
  const watched = spec.checks.find((c) => c.probe.type === 'filesystem')?.probe.path;
  const dir = o.path ?? (typeof watched === 'string' ? watched : spec.cwd);
  const st = statfsSync(dir);
  const size = st.blocks * st.bsize;
  if (size > FILL_MAX_BYTES) {
    throw new ChaosError('CHAOS_UNSUPPORTED', `fill-disk fills only small filesystems (at most ${FILL_MAX_BYTES / 1024 ** 3} GiB), and ${dir} is on one of ${(size / 1024 ** 3).toFixed(1)} GiB: give ${spec.name}'s data a small volume (mount -t tmpfs -o size=64m tmpfs DIR) and pass --path DIR, or a filesystem check on it`);
  }
  const file = join(dir, `.warden-chaos-${o.id}.fill`);
  const fd = openSync(file, 'wx', 0o600);
  let written = 0;
  try {
    // Big blocks, then small ones, until the filesystem has no room for a single one.
    for (const block of [Buffer.alloc(1024 * 1024), Buffer.alloc(4096), Buffer.alloc(512)]) {
      for (;;) {
        try {
          written += writeSync(fd, block);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } catch (e) {
    closeSync(fd);
    rmSync(file, { force: true });
    throw new ChaosError('CHAOS_FAILED', `cannot fill ${dir}: ${errorText(e)}`);
  }
  closeSync(fd);
  const free = statfsSync(dir).bavail * st.bsize;
  return { service: spec.name, detail: `${file} written with ${written} bytes until ENOSPC; ${free} bytes free`, revert: { op: 'remove-file', path: file } };
}

/** Puts right what a fault did; says what it did. Safe to run twice. */
export async function revert(r: Revert, deps: ChaosDeps, cfg: ResolvedConfig): Promise<string> {
  switch (r.op) {
    case 'start': {
      const spec = cfg.services.find((s) => s.name === r.service);
      if (!spec) return `${r.service} is no longer in the config: nothing to start`;
      const pid = await deps.pidOf(spec);
      if (pid !== null) return `${r.service} runs again (pid ${pid}): nothing to start`;
      return deps.start(r.service);
    }
    case 'continue': {
      // The same process, not one that took its pid since.
      if (readProcStat(r.pid)?.startTime !== r.startTime) return `pid ${r.pid} is gone: nothing to continue`;
      process.kill(r.pid, 'SIGCONT');
      return `SIGCONT to pid ${r.pid}`;
    }
    case 'links-up':
      await setLinks(r.netns, r.links, 'up');
      return `link ${r.links.join(', ')} up in ${r.netns}`;
    case 'undelay':
      for (const l of r.links) await removeDelay(r.netns, l);
      return `netem removed from ${r.links.join(', ')} in ${r.netns}`;
    case 'remove-file':
      rmSync(r.path, { force: true });
      return `${r.path} removed`;
    case 'post':
      return `POST ${r.url}: ${(await post(r.url)).trim()}`;
  }
}
