// What status, debug and the API read while the store is damaged: the daemon's own memory of the
// last committed state (tickets, actions, flags) and of what it observes now (health, processes).
// A damaged store is not read again: a page that errors today may return wrong rows tomorrow.
import type { Action, Ticket } from '../domain/types.js';
import { CLOSED_TICKET_STATES } from '../domain/types.js';
import { FROZEN_FLAG } from '../app/commands.js';
import { PAUSE_PREFIX } from '../domain/pause.js';
import type { PassResult } from '../loop/reconciler.js';
import { UNMANAGED_PREFIX, type ReadSide } from '../runtime/diagnostics.js';
import type { ActionFilter, ProcessRecord, ServiceStateRecord, Store, TicketFilter } from '../store/store.js';

/** As many recent tickets and actions as status and debug look at (diagnostics' SCAN). */
const KEPT = 500;

export interface LastKnownDeps {
  /** Each service's last health (the effect runner's memory). */
  states: () => ServiceStateRecord[];
  /** The running process of a service as last observed; null when none runs. */
  process: (service: string) => { pid: number; startedAt: number } | null;
}

export class LastKnown implements ReadSide {
  private readonly tickets = new Map<string, Ticket>();
  private readonly actions = new Map<string, Action>();
  private flags = new Map<string, string>();
  private paused = new Set<string>();

  constructor(private readonly deps: LastKnownDeps) {}

  /** At start, from the store (sound then: its checks passed): the memory begins where it stands. */
  load(store: Pick<Store, 'listTickets' | 'listActions' | 'getFlag' | 'flagsWithPrefix'>): void {
    for (const t of [...store.listTickets({ limit: KEPT }), ...store.listTickets({ openOnly: true })]) this.tickets.set(t.id, t);
    for (const a of store.listActions({ limit: KEPT })) this.actions.set(a.id, a);
    this.loadFlags(store);
  }

  /** The flags status shows (the kill switch, pauses, unmanaged services), read again after a change. */
  loadFlags(store: Pick<Store, 'getFlag' | 'flagsWithPrefix'>): void {
    const flags = new Map<string, string>();
    const frozen = store.getFlag(FROZEN_FLAG);
    if (frozen !== null) flags.set(FROZEN_FLAG, frozen);
    for (const prefix of [PAUSE_PREFIX, UNMANAGED_PREFIX]) {
      for (const [k, v] of store.flagsWithPrefix(prefix)) flags.set(prefix + k, v);
    }
    this.flags = flags;
  }

  /** After a committed pass: what it changed. Flags only change by commands and pauses' ends. */
  committed(r: PassResult, store: Pick<Store, 'getFlag' | 'flagsWithPrefix'>): void {
    for (const t of r.out.tickets) this.tickets.set(t.id, t);
    for (const a of r.out.actions) this.actions.set(a.id, a);
    const paused = r.paused ?? new Set<string>();
    if (r.commands.length > 0 || paused.size !== this.paused.size || [...paused].some((n) => !this.paused.has(n))) this.loadFlags(store);
    this.paused = new Set(paused);
    this.prune();
  }

  /** An action the executor moved on (started, retried, settled). */
  action(a: Action): void {
    this.actions.set(a.id, a);
  }

  listServiceStates(): ServiceStateRecord[] {
    return this.deps.states();
  }

  listTickets(f: TicketFilter = {}): Ticket[] {
    const closed = new Set<string>(CLOSED_TICKET_STATES);
    return newest([...this.tickets.values()], (t) => t.openedAt)
      .filter((t) => (f.statuses === undefined || f.statuses.includes(t.status)) && (!f.openOnly || !closed.has(t.status)))
      .slice(0, f.limit ?? Infinity);
  }

  listActions(f: ActionFilter = {}): Action[] {
    return newest([...this.actions.values()], (a) => a.createdAt)
      .filter((a) => (f.ticketId === undefined || a.ticketId === f.ticketId) && (f.states === undefined || f.states.includes(a.state)))
      .slice(0, f.limit ?? Infinity);
  }

  getFlag(key: string): string | null {
    return this.flags.get(key) ?? null;
  }

  flagsWithPrefix(prefix: string): Map<string, string> {
    return new Map([...this.flags].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  }

  getProcess(service: string): ProcessRecord | null {
    const p = this.deps.process(service);
    return p === null ? null : { service, pid: p.pid, procStart: 0, startedAt: p.startedAt, argv: [] };
  }

  /** Keeps the newest KEPT closed tickets and settled actions; open and unfinished ones all stay. */
  private prune(): void {
    if (this.tickets.size > 2 * KEPT) {
      const closed = new Set<string>(CLOSED_TICKET_STATES);
      for (const t of newest([...this.tickets.values()], (x) => x.openedAt).slice(KEPT)) if (closed.has(t.status)) this.tickets.delete(t.id);
    }
    if (this.actions.size > 2 * KEPT) {
      const done = new Set<string>(['completed', 'failed', 'cancelled']);
      for (const a of newest([...this.actions.values()], (x) => x.createdAt).slice(KEPT)) if (done.has(a.state)) this.actions.delete(a.id);
    }
  }
}

/** The store's order: newest first, then by id in natural order (T10 before T9). */
function newest<T extends { id: string }>(xs: T[], at: (x: T) => number): T[] {
  return xs.sort((a, b) => at(b) - at(a) || b.id.length - a.id.length || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0));
}
