// The runtime's part of log evidence: facts the log points at but cannot give, read when a
// diagnosis is gathered (never per pass): who holds the ports a failed listen names; the recent
// actions, recorded start commands and the host's resources.
import { readFileSync, statfsSync } from 'node:fs';
import { freemem, loadavg, totalmem } from 'node:os';
import type { Problem } from '../domain/detect.js';
import type { Action, ResolvedConfig, ServiceSpec } from '../domain/types.js';
import type { Store } from '../store/store.js';
import type { EvidenceBundle } from './diagnoser.js';
import { problemServices, type HostResources, type RecentAction } from './pieces.js';
import { portListeners } from '../lib/sockets.js';
import { portsInUse } from './logs.js';
import type { DiagnoseInput } from './rules.js';

export function logEvidence(config: ResolvedConfig, spec: ServiceSpec | undefined, logTail: string[]): Pick<DiagnoseInput, 'logTail' | 'listeners'> {
  // /proc here describes this host only: a service elsewhere gets no holder rather than a wrong one.
  const local = spec !== undefined && config.hosts.find((h) => h.name === spec.host)?.transport === 'local';
  return local ? { logTail, listeners: portsInUse(logTail).map(portListeners) } : { logTail };
}

/** What the store and the host add to a bundle: recent actions, recorded start commands, resources. */
export function storeAndHostEvidence(
  config: ResolvedConfig, store: Pick<Store, 'listActions' | 'getProcess'>, problem: Problem,
): Pick<EvidenceBundle, 'actions' | 'recordedStart' | 'resources'> {
  const names = new Set(problemServices(config, problem));
  const actions: RecentAction[] = store.listActions({ limit: 200 }).filter((a) => names.has(a.target)).slice(0, 10).map(recentAction);
  const recordedStart: Record<string, string[]> = {};
  for (const n of names) {
    const r = store.getProcess(n);
    if (r) recordedStart[n] = r.argv;
  }
  return { actions, recordedStart, resources: problemResources(config, problem) };
}

/** An action as evidence: what a bundle and `warden debug` cite as `action:ID`. */
export function recentAction(a: Action): RecentAction {
  return { id: a.id, type: a.type, target: a.target, state: a.state, at: a.createdAt, error: a.error };
}

/**
 * The resources of the host of a problem's service, with the filesystems of the data directory and
 * of the problem's services' working directories; null on a host that is not this one.
 */
export function problemResources(config: ResolvedConfig, problem: Pick<Problem, 'service' | 'findings'>): HostResources | null {
  const spec = config.services.find((s) => s.name === problem.service);
  const local = spec !== undefined && config.hosts.find((h) => h.name === spec.host)?.transport === 'local';
  if (!local) return null;
  const names = new Set(problemServices(config, problem));
  return localResources(spec.host, [config.agent.dataDir, ...config.services.filter((s) => names.has(s.name)).map((s) => s.cwd)]);
}

/** This host's load, memory, descriptors and the filesystems of `paths` (each once). */
function localResources(host: string, paths: readonly string[]): HostResources {
  const filesystems: HostResources['filesystems'] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    try {
      const s = statfsSync(p);
      const key = `${s.type}:${s.blocks}:${s.files}`;
      if (seen.has(key)) continue;
      seen.add(key);
      filesystems.push({ path: p, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize, freeInodes: s.ffree, totalInodes: s.files });
    } catch {
      // A working directory that is gone is evidence elsewhere (the spawn error); here it has no filesystem.
    }
  }
  let openFds: number | null = null;
  try {
    openFds = Number(readFileSync('/proc/sys/fs/file-nr', 'utf8').split(/\s+/)[0]);
  } catch {
    openFds = null;
  }
  const [l1, l5, l15] = loadavg() as [number, number, number];
  return { host, load: [l1, l5, l15], memory: { totalBytes: totalmem(), freeBytes: freemem() }, filesystems, openFds };
}
