// The notification outbox's rows (migration 9): written by the daemon in its pass transactions,
// settled by the delivery worker (notify/outbox.ts), read by "warden notify list". Only rows; what
// to send, when and how often is the worker's business.
import type Database from 'better-sqlite3';
import type { MonoStamp } from '../domain/elapsed.js';

export type OutboxState = 'pending' | 'delivered' | 'failed' | 'dropped' | 'suppressed' | 'digested';
export const OUTBOX_STATES: readonly OutboxState[] = ['pending', 'delivered', 'failed', 'dropped', 'suppressed', 'digested'];
/** Why a pending row waits beyond backoff: quiet hours, a digest window, a resolve held for flapping. */
export type OutboxHold = 'quiet' | 'digest' | 'resolve';

export interface OutboxRow<E = unknown> {
  id: number;
  channel: string;
  kind: string;
  key: string | null;
  event: E;
  state: OutboxState;
  hold: OutboxHold | null;
  attempts: number;
  createdAt: number;
  created: MonoStamp | null;
  /** Not before this (wall; `due` on monotonic time within its boot decides when it has one). */
  dueAt: number;
  due: MonoStamp | null;
  lastStatus: number | null;
  lastError: string | null;
  settledAt: number | null;
  note: string | null;
}

export interface NewOutboxRow<E> {
  channel: string;
  kind: string;
  key: string | null;
  event: E;
  state?: OutboxState;
  hold?: OutboxHold | null;
  createdAt: number;
  created: MonoStamp | null;
  dueAt: number;
  due: MonoStamp | null;
  note?: string | null;
}

export interface OutboxFilter {
  channel?: string;
  states?: readonly OutboxState[];
  limit?: number;
}

interface Raw {
  id: number; channel: string; kind: string; key: string | null; event: string; state: OutboxState; hold: OutboxHold | null;
  attempts: number; created_at: number; created_mono: number | null; created_boot: string | null;
  due_at: number; due_mono: number | null; due_boot: string | null;
  last_status: number | null; last_error: string | null; settled_at: number | null; note: string | null;
}

const stamp = (mono: number | null, boot: string | null): MonoStamp | null => (mono != null && boot != null ? { mono, boot } : null);

function rowOf<E>(r: Raw): OutboxRow<E> {
  return {
    id: r.id, channel: r.channel, kind: r.kind, key: r.key, event: JSON.parse(r.event) as E, state: r.state, hold: r.hold,
    attempts: r.attempts, createdAt: r.created_at, created: stamp(r.created_mono, r.created_boot),
    dueAt: r.due_at, due: stamp(r.due_mono, r.due_boot),
    lastStatus: r.last_status, lastError: r.last_error, settledAt: r.settled_at, note: r.note,
  };
}

export class OutboxTable {
  constructor(private readonly st: (sql: string) => Database.Statement) {}

  insert<E>(r: NewOutboxRow<E>): number {
    return Number(this.st(
      `INSERT INTO outbox (channel, kind, key, event, state, hold, created_at, created_mono, created_boot, due_at, due_mono, due_boot, note)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(r.channel, r.kind, r.key, JSON.stringify(r.event), r.state ?? 'pending', r.hold ?? null, r.createdAt, r.created?.mono ?? null, r.created?.boot ?? null,
      r.dueAt, r.due?.mono ?? null, r.due?.boot ?? null, r.note ?? null).lastInsertRowid);
  }

  get<E>(id: number): OutboxRow<E> | null {
    const r = this.st('SELECT * FROM outbox WHERE id = ?').get(id) as Raw | undefined;
    return r === undefined ? null : rowOf<E>(r);
  }

  /** Pending rows, oldest first, at most `limit` per channel. */
  pending<E>(limit = 500): OutboxRow<E>[] {
    return (this.st(
      `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY channel ORDER BY id) AS n FROM outbox WHERE state = 'pending') WHERE n <= ? ORDER BY id`,
    ).all(limit) as Raw[]).map((r) => rowOf<E>(r));
  }

  /** The newest row about `key` on `channel` that reached (or is on its way to) the channel. */
  lastOfKey<E>(channel: string, key: string): OutboxRow<E> | null {
    const r = this.st(
      `SELECT * FROM outbox WHERE channel = ? AND key = ? AND state NOT IN ('suppressed', 'digested') ORDER BY id DESC LIMIT 1`,
    ).get(channel, key) as Raw | undefined;
    return r === undefined ? null : rowOf<E>(r);
  }

  /** The newest row of every key on `channel` (its latest word about that problem). */
  lastOfEveryKey<E>(channel: string): OutboxRow<E>[] {
    return (this.st(
      `SELECT o.* FROM outbox o JOIN (SELECT max(id) AS id FROM outbox WHERE channel = ? AND key IS NOT NULL
         AND state NOT IN ('suppressed', 'digested') GROUP BY key) m ON o.id = m.id ORDER BY o.id`,
    ).all(channel) as Raw[]).map((r) => rowOf<E>(r));
  }

  /** Rows for `channel` created at or after the wall time `since` that count toward a digest. */
  countSince(channel: string, since: number): number {
    return (this.st(
      `SELECT count(*) AS n FROM outbox WHERE channel = ? AND created_at >= ? AND state != 'suppressed' AND kind != 'notify.digest'`,
    ).get(channel, since) as { n: number }).n;
  }

  update(id: number, patch: Partial<Pick<OutboxRow, 'state' | 'hold' | 'attempts' | 'dueAt' | 'due' | 'lastStatus' | 'lastError' | 'settledAt' | 'note'>>): void {
    const cur = this.st('SELECT * FROM outbox WHERE id = ?').get(id) as Raw | undefined;
    if (cur === undefined) return;
    const due = patch.due === undefined ? stamp(cur.due_mono, cur.due_boot) : patch.due;
    this.st(
      `UPDATE outbox SET state = ?, hold = ?, attempts = ?, due_at = ?, due_mono = ?, due_boot = ?, last_status = ?, last_error = ?, settled_at = ?, note = ? WHERE id = ?`,
    ).run(patch.state ?? cur.state, patch.hold === undefined ? cur.hold : patch.hold, patch.attempts ?? cur.attempts, patch.dueAt ?? cur.due_at,
      due?.mono ?? null, due?.boot ?? null,
      patch.lastStatus === undefined ? cur.last_status : patch.lastStatus, patch.lastError === undefined ? cur.last_error : patch.lastError,
      patch.settledAt === undefined ? cur.settled_at : patch.settledAt, patch.note === undefined ? cur.note : patch.note, id);
  }

  /** Newest first. */
  list<E>(f: OutboxFilter = {}): OutboxRow<E>[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.channel !== undefined) { where.push('channel = ?'); args.push(f.channel); }
    if (f.states !== undefined) {
      if (f.states.length === 0) return [];
      where.push(`state IN (${f.states.map(() => '?').join(', ')})`);
      args.push(...f.states);
    }
    const cond = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    return (this.st(`SELECT * FROM outbox ${cond} ORDER BY id DESC LIMIT ?`).all(...args, f.limit ?? -1) as Raw[]).map((r) => rowOf<E>(r));
  }

  /** Forgets settled rows created before `before` (wall), except each key's last word per channel. */
  prune(before: number): number {
    return this.st(
      `DELETE FROM outbox WHERE state != 'pending' AND created_at < ?
         AND id NOT IN (SELECT max(id) FROM outbox WHERE key IS NOT NULL GROUP BY channel, key)`,
    ).run(before).changes;
  }
}
