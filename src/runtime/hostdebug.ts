// `warden debug HOST`: one host's diagnostics — what the host monitor last read of it (reachable,
// boot id, load, memory, disks and inodes, clock offset), the services that run on it with their
// health, its tickets and the actions on it (host.reboot) — from the store, as status reads it.
import { hostFingerprint } from '../domain/hosts.js';
import type { Health, ResolvedConfig } from '../domain/types.js';
import type { Store } from '../store/store.js';
import { hostLine, oneHostJson, type HostJson } from '../views/hosts.js';
import { actionSummary, ticketSummary, type ActionSummaryJson, type TicketSummaryJson } from './diagnostics.js';

const SCAN = 500;
const SHOWN = 10;

export interface HostBundle {
  host: HostJson;
  services: { name: string; kind: string; health: Health; detail: string }[];
  /** The host's own tickets (offline, partitioned, refused), newest first. */
  tickets: TicketSummaryJson[];
  /** Actions on the host itself (host.reboot), newest first. */
  actions: ActionSummaryJson[];
}

export function hostBundle(config: ResolvedConfig, store: Pick<Store, 'flagsWithPrefix' | 'listTickets' | 'listActions' | 'listServiceStates'>, name: string): HostBundle | null {
  const host = oneHostJson(config, store, name);
  if (host === null) return null;
  const states = new Map(store.listServiceStates().map((s) => [`${s.host}/${s.name}`, s]));
  return {
    host,
    services: config.services.filter((s) => s.host === name).map((s) => {
      const st = states.get(`${name}/${s.name}`);
      return { name: s.name, kind: s.kind, health: st?.health ?? 'unknown', detail: st?.detail ?? 'no observation yet' };
    }),
    tickets: store.listTickets({ limit: SCAN }).filter((t) => t.fingerprint === hostFingerprint(name)).slice(0, SHOWN).map(ticketSummary),
    actions: store.listActions({ limit: SCAN }).filter((a) => a.target === name).slice(0, SHOWN).map(actionSummary),
  };
}

export function renderHostBundle(b: HostBundle): string {
  const h = b.host;
  const out = [
    `host ${h.name} (${h.transport}${h.address ? ` ${h.address}` : ''}): ${h.reachable === null ? 'not read' : h.reachable ? 'reachable' : 'UNREACHABLE'}${h.seenAt ? ` (read ${h.seenAt})` : ''}`,
    `  ${hostLine(h)}`,
  ];
  if (h.reachable && h.rttMs !== null) out.push(`  round trip ${h.rttMs} ms; boot id ${h.bootId ?? '?'}`);
  out.push('services');
  if (b.services.length === 0) out.push('  none');
  for (const s of b.services) out.push(`  ${s.name} (${s.kind}): ${s.health} — ${s.detail}`);
  out.push('tickets');
  if (b.tickets.length === 0) out.push('  none');
  for (const t of b.tickets) {
    out.push(`  ${t.id} ${t.status}${t.cause ? ` ${t.cause}` : ''}, opened ${t.openedAt ?? '?'}${t.reason ? ` — ${t.reason}` : ''}`);
    for (const f of t.findings) out.push(`    - ${f.kind} — ${f.reason}`);
  }
  out.push('actions');
  if (b.actions.length === 0) out.push('  none');
  for (const a of b.actions) out.push(`  ${a.id} ${a.type} ${a.state} (by ${a.requestedBy}, ${a.createdAt ?? '?'})${a.error ? ` — ${a.error}` : ''}`);
  return `${out.join('\n')}\n`;
}
