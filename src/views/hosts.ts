// The hosts of the inventory as `warden status`, `warden debug HOST` and a service's diagnostics
// bundle show them: what the host monitor last read of each (reachable, boot id, load, memory,
// disks and inodes, clock offset), from the store flag `host.facts:<name>` the daemon writes (so
// the CLI sees the same without the API), and the host's own ticket and findings.
import { hostFingerprint } from '../domain/hosts.js';
import type { Cause, HostFacts, ResolvedConfig, Ticket } from '../domain/types.js';
import { iso } from '../lib/clock.js';
import type { Store } from '../store/store.js';

export const HOST_FACTS_PREFIX = 'host.facts:';

export interface HostJson {
  name: string;
  transport: 'local' | 'ssh';
  /** ssh: the address Warden connects to; null for Warden's own host. */
  address: string | null;
  /** null: not read yet (the daemon has not probed it), or Warden's own host, which is not probed. */
  reachable: boolean | null;
  /** Why it is unreachable: offline, partitioned (Warden's path cut), refused (key or login), rebooting. */
  verdict: NonNullable<HostFacts['verdict']> | null;
  reason: string;
  /** When the facts below were read. */
  seenAt: string | null;
  bootId: string | null;
  load: [number, number, number] | null;
  memory: { totalKb: number; availableKb: number; availablePct: number } | null;
  disks: { mount: string; usedPct: number; inodesUsedPct: number | null }[];
  clockOffsetMs: number | null;
  rttMs: number | null;
  /** The host's open ticket (offline, partitioned, refused), newest first; null when none. */
  ticket: string | null;
  findings: { kind: string; cause: Cause | null; reason: string }[];
}

type Reads = Pick<Store, 'flagsWithPrefix'> & { listTickets?: Store['listTickets'] };

/** What the monitor last read of `name`, from the flag; null when none is stored (or it is unreadable). */
export function storedFacts(flags: Map<string, string>, name: string): HostFacts | null {
  try {
    return JSON.parse(flags.get(name) ?? 'null') as HostFacts | null;
  } catch {
    return null;
  }
}

function hostJson(h: ResolvedConfig['hosts'][number], f: HostFacts | null, open: readonly Ticket[]): HostJson {
  const t = open.find((x) => x.fingerprint === hostFingerprint(h.name));
  const mem = f?.memory;
  return {
    name: h.name,
    transport: h.transport,
    address: h.transport === 'ssh' ? h.address : null,
    reachable: f?.reachable ?? null,
    verdict: f?.reachable === false ? f.verdict ?? 'offline' : null,
    reason: f?.reason ?? (h.transport === 'local' ? "Warden's own host (not probed)" : 'not read yet'),
    seenAt: iso(f?.at),
    bootId: f?.bootId ?? null,
    load: f?.load ?? null,
    memory: mem ? { ...mem, availablePct: mem.totalKb > 0 ? Math.round((mem.availableKb / mem.totalKb) * 1000) / 10 : 0 } : null,
    disks: f?.disks ?? [],
    clockOffsetMs: f?.clockOffsetMs ?? null,
    rttMs: f?.rttMs ?? null,
    ticket: t?.id ?? null,
    findings: (t?.findings ?? []).map((x) => ({ kind: x.kind, cause: x.cause ?? null, reason: x.reason })),
  };
}

/** Every host of the inventory, in config order. */
export function hostsJson(config: ResolvedConfig, store: Reads | null, open: readonly Ticket[] = store?.listTickets?.({ openOnly: true }) ?? []): HostJson[] {
  const flags = store?.flagsWithPrefix(HOST_FACTS_PREFIX) ?? new Map<string, string>();
  return config.hosts.map((h) => hostJson(h, storedFacts(flags, h.name), open));
}

/** One host, or null when the inventory names none so. */
export function oneHostJson(config: ResolvedConfig, store: Reads | null, name: string): HostJson | null {
  return hostsJson(config, store).find((h) => h.name === name) ?? null;
}

/** One line for people: how the host stands and what was read. */
export function hostLine(h: HostJson): string {
  if (h.reachable === null) return h.reason;
  if (!h.reachable) return `${h.verdict ?? 'unreachable'}: ${h.reason}`;
  const parts = [
    h.load ? `load ${h.load.map((l) => l.toFixed(2)).join(' ')}` : null,
    h.memory ? `mem ${h.memory.availablePct}% free` : null,
    ...h.disks.map((d) => `${d.mount} ${d.usedPct}%${d.inodesUsedPct !== null ? ` (inodes ${d.inodesUsedPct}%)` : ''}`),
    h.clockOffsetMs !== null ? `clock ${h.clockOffsetMs >= 0 ? '+' : ''}${h.clockOffsetMs} ms` : null,
    h.bootId ? `boot ${h.bootId.slice(0, 8)}` : null,
  ];
  return parts.filter((p): p is string => p !== null).join(', ');
}
