// The durable store: one SQLite file per data directory, shared by the daemon and CLI commands.
// WAL lets readers run beside the writer; synchronous=FULL fsyncs every commit, so a crash or power
// loss at any instant loses no committed decision. Batch writes with transaction() to pay one fsync.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { countStartedIn, type StartedAction } from '../domain/policy.js';
import type { MonoStamp, WindowStart } from '../domain/elapsed.js';
import type { Action, ActionState, ActionType, ExitRecord, Health, Ticket, TicketStatus } from '../domain/types.js';
import { systemClock } from '../lib/clock.js';
import { mkdirPrivate, PRIVATE_FILE } from '../lib/private.js';
import { readBootId } from '../runtime/boot.js';
import { CLOSED_TICKET_STATES } from '../domain/types.js';
import { AuditLog } from './audit.js';
import type { AuditEntry, AuditListFilter, AuditRecord, AuditVerification } from './audit.js';
import { StoreError } from './errors.js';
import { checkState } from './statecheck.js';
import { aloneView, asDamage, inspect, markIfUnmarked, preflight } from './integrity.js';
import { LATEST_VERSION, migrate, schemaVersion, tooNewError } from './migrations.js';
import { OutboxTable } from './outbox.js';
import { LlmCallTable } from './llm.js';

export type { AuditEntry, AuditListFilter, AuditRecord, AuditVerification, AuditProblem } from './audit.js';
export { StoreError, isStoreError } from './errors.js';
export type { StoreErrorCode } from './errors.js';

export const DB_FILE = 'warden.db';
/** The daemon and CLI commands write concurrently; a writer waits this long for the lock. */
export const BUSY_TIMEOUT_MS = 5000;
/** Exit history kept per service. */
export const EXITS_KEPT = 50;

export interface ProcessRecord {
  service: string;
  pid: number;
  /** starttime field of /proc/PID/stat: tells our process from a later one that reused the pid. */
  procStart: number;
  startedAt: number;
  argv: string[];
  /** The action that started it (the id its marker carries); null when unknown or none. */
  actionId?: string | null;
}

export interface ServiceStateRecord {
  name: string;
  host: string;
  health: Health;
  since: number;
  detail: string;
}

export interface TicketFilter {
  statuses?: TicketStatus[];
  /** Only tickets whose status is not closed (not `resolved`). */
  openOnly?: boolean;
  limit?: number;
}

export interface ActionFilter {
  /** null: actions without a ticket (deployments). */
  ticketId?: string | null;
  states?: ActionState[];
  limit?: number;
}

export function dbPath(dataDir: string): string {
  return path.join(path.resolve(dataDir), DB_FILE);
}

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');
// SQLite reads a negative LIMIT as "no limit".
const limitArg = (limit: number | undefined): number => (limit === undefined ? -1 : Math.max(0, Math.floor(limit)));
// Natural order for ids of one prefix: T10 after T9.
const ID_DESC = 'length(id) DESC, id DESC';

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** mkdir -p (private), then fsync the parent of every directory it created so they survive power loss. */
function mkdirDurable(dir: string): void {
  const first = mkdirPrivate(dir);
  if (first === undefined) return;
  const stop = path.resolve(first);
  for (let d = dir; ; d = path.dirname(d)) {
    fsyncDir(path.dirname(d));
    if (d === stop || d === path.dirname(d)) break;
  }
}

export class Store {
  readonly path: string;
  readonly readonly: boolean;
  private readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly log: AuditLog;
  /** The notification outbox (store/outbox.ts). */
  readonly outbox: OutboxTable;
  /** Calls to LLM diagnosers (store/llm.ts). */
  readonly llm: LlmCallTable;
  private savepoints = 0;
  /** Now on monotonic time, with the boot: stamped on an action when it starts. */
  private readonly stamp: () => MonoStamp;

  private constructor(db: Database.Database, file: string, readonly: boolean, stamp: (() => MonoStamp) | undefined) {
    this.stamp = stamp ?? systemStamp();
    this.db = db;
    this.path = file;
    this.readonly = readonly;
    this.log = new AuditLog((sql) => this.st(sql));
    this.outbox = new OutboxTable((sql) => this.st(sql));
    this.llm = new LlmCallTable((sql) => this.st(sql));
  }

  /**
   * Opens (or, in a data directory that never had one, creates) the store. A damaged store is
   * refused with STORE_DAMAGED (store/integrity.ts); `check` adds the checks too slow for every
   * command (quick_check, whether the WAL belongs to the database): the daemon's start runs them.
   */
  static open(dataDir: string, opts: { readonly?: boolean; stamp?: () => MonoStamp; check?: boolean } = {}): Store {
    const dir = path.resolve(dataDir);
    const file = path.join(dir, DB_FILE);
    const readonly = opts.readonly ?? false;
    // Before SQLite opens anything: it would create an empty database where one was lost.
    const { marker, fresh } = fs.existsSync(dir) ? preflight(dir, file) : { marker: null, fresh: true };
    if (!fresh) inspect(dir, file, marker, { deep: opts.check ?? false, alone: opts.check ? aloneView(file) : null, timeoutMs: BUSY_TIMEOUT_MS });
    let db: Database.Database;
    if (readonly) {
      // Checked first so a read-only command never leaves an empty database (or directory) behind.
      if (fresh) {
        throw new StoreError('STORE_MISSING', `no Warden store at ${file}: nothing has run with this data directory yet`);
      }
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    } else {
      mkdirDurable(dir);
      // Created private before SQLite opens it: its -wal and -shm files copy the store's mode.
      fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE));
      db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    }
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      if (!readonly) db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      if (readonly) {
        const found = schemaVersion(db);
        if (found > LATEST_VERSION) throw tooNewError(file, found, LATEST_VERSION);
        if (found < LATEST_VERSION) {
          throw new StoreError(
            'STORE_OUTDATED',
            `${file}: schema version ${found}, this Warden needs ${LATEST_VERSION}; ` +
              `a read-only command cannot migrate it (run any writing command, or the daemon, once)`,
          );
        }
      } else {
        migrate(db, file);
      }
      if (!readonly) markIfUnmarked(db, dir, marker);
    } catch (err) {
      db.close();
      throw asDamage(err, file);
    }
    return new Store(db, file, readonly, opts.stamp);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** A consistent copy to `file` by SQLite's online backup API: safe while the daemon writes. */
  async backup(file: string): Promise<{ pages: number }> {
    const r = await this.db.backup(file);
    return { pages: r.totalPages };
  }

  /** IMMEDIATE transaction (takes the write lock up front, so it never fails half-way on a lock
   * upgrade). A nested call is a savepoint: if it throws, its own writes are undone and the outer
   * transaction goes on. fn must be synchronous. */
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) {
      const sp = `sp${++this.savepoints}`;
      this.db.exec(`SAVEPOINT ${sp}`);
      try {
        const result = fn();
        this.db.exec(`RELEASE ${sp}`);
        return result;
      } catch (err) {
        this.db.exec(`ROLLBACK TO ${sp}; RELEASE ${sp}`);
        throw err;
      } finally {
        this.savepoints--;
      }
    }
    this.st('BEGIN IMMEDIATE').run();
    try {
      const result = fn();
      if (typeof (result as { then?: unknown } | null)?.then === 'function') {
        throw new TypeError('Store.transaction: fn returned a promise; it must be synchronous (the commit cannot wait for it)');
      }
      this.st('COMMIT').run();
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.st('ROLLBACK').run();
      throw err;
    }
  }

  /** Takes the next id of a kind: 'T1', 'T2', ... Never one already in use (see nextIds). */
  nextId(kind: 'T' | 'A'): string {
    if (kind !== 'T' && kind !== 'A') throw new StoreError('INVALID_INPUT', `unknown id kind ${String(kind)}`);
    return this.transaction(() => {
      const ids = this.nextIds();
      this.useIds({ ...ids, [kind]: ids[kind] + 1 });
      return `${kind}${ids[kind]}`;
    });
  }

  /** The next free number per id kind, without taking it (a pass allocates from it purely). */
  nextIds(): { T: number; A: number } {
    const next = (kind: 'T' | 'A'): number => {
      const table = kind === 'T' ? 'tickets' : 'actions';
      const row = this.st('SELECT value FROM counters WHERE kind = ?').get(kind) as { value: number } | undefined;
      let n = (row?.value ?? 0) + 1;
      while (this.st(`SELECT 1 FROM ${table} WHERE id = ?`).get(`${kind}${n}`) !== undefined) n++;
      return n;
    };
    return { T: next('T'), A: next('A') };
  }

  /** Records the id numbers a pass used (the counters only move forward). */
  useIds(next: { T: number; A: number }): void {
    for (const kind of ['T', 'A'] as const) {
      this.st(
        `INSERT INTO counters (kind, value) VALUES (?, ?)
         ON CONFLICT (kind) DO UPDATE SET value = max(value, excluded.value)`,
      ).run(kind, next[kind] - 1);
    }
  }

  // ------------------------------------------------------------------------------ commands

  enqueueCommand(json: string, at: number): number {
    return Number(this.st(`INSERT INTO commands (at, json, state) VALUES (?, ?, 'pending')`).run(at, json).lastInsertRowid);
  }

  hasPendingCommands(): boolean {
    return this.st(`SELECT 1 FROM commands WHERE state = 'pending' LIMIT 1`).get() !== undefined;
  }

  pendingCommands(): { id: number; json: string }[] {
    return this.st(`SELECT id, json FROM commands WHERE state = 'pending' ORDER BY id`).all() as { id: number; json: string }[];
  }

  finishCommand(id: number, ok: boolean, result: string): void {
    this.st(`UPDATE commands SET state = ?, result = ? WHERE id = ?`).run(ok ? 'done' : 'failed', result, id);
  }

  /** Marks a pending command failed with `result`; false when it was applied (or settled) first. */
  withdrawCommand(id: number, result: string): boolean {
    return this.st(`UPDATE commands SET state = 'failed', result = ? WHERE id = ? AND state = 'pending'`).run(result, id).changes === 1;
  }

  commandResult(id: number): { state: 'pending' | 'done' | 'failed'; result: string | null } | null {
    return (this.st('SELECT state, result FROM commands WHERE id = ?').get(id) as { state: 'pending' | 'done' | 'failed'; result: string | null } | undefined) ?? null;
  }

  // ------------------------------------------------------------------------------ tickets

  putTicket(t: Ticket): void {
    this.st(
      `INSERT INTO tickets (id, fingerprint, status, opened_at, updated_at, json) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
         opened_at = excluded.opened_at, updated_at = excluded.updated_at, json = excluded.json`,
    ).run(t.id, t.fingerprint, t.status, t.openedAt, t.updatedAt, JSON.stringify(t));
  }

  getTicket(id: string): Ticket | null {
    return this.json<Ticket>('SELECT json FROM tickets WHERE id = ?', id);
  }

  /** Newest first, by openedAt then id. */
  listTickets(f: TicketFilter = {}): Ticket[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.statuses !== undefined) {
      if (f.statuses.length === 0) return [];
      where.push(`status IN (${placeholders(f.statuses.length)})`);
      args.push(...f.statuses);
    }
    if (f.openOnly) {
      where.push(`status NOT IN (${placeholders(CLOSED_TICKET_STATES.length)})`);
      args.push(...CLOSED_TICKET_STATES);
    }
    const cond = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    return this.jsonAll<Ticket>(
      `SELECT json FROM tickets ${cond} ORDER BY opened_at DESC, ${ID_DESC} LIMIT ?`, ...args, limitArg(f.limit),
    );
  }

  latestTicketByFingerprint(fp: string): Ticket | null {
    return this.json<Ticket>(
      `SELECT json FROM tickets WHERE fingerprint = ? ORDER BY opened_at DESC, ${ID_DESC} LIMIT 1`, fp,
    );
  }

  // ------------------------------------------------------------------------------ actions

  /** Upsert by id. Its ticket (if any) must exist; its idempotency key must not belong to another action. */
  putAction(a: Action): void {
    try {
      this.st(
        `INSERT INTO actions (id, ticket_id, type, target, state, idempotency_key, created_at, started_at, json, started_mono, started_boot)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET ticket_id = excluded.ticket_id, type = excluded.type,
           target = excluded.target, state = excluded.state, idempotency_key = excluded.idempotency_key,
           created_at = excluded.created_at, started_at = excluded.started_at, json = excluded.json,
           -- The monotonic stamp is taken when startedAt is first written (or changes: a new attempt).
           started_mono = CASE WHEN actions.started_at IS excluded.started_at THEN actions.started_mono ELSE excluded.started_mono END,
           started_boot = CASE WHEN actions.started_at IS excluded.started_at THEN actions.started_boot ELSE excluded.started_boot END`,
      ).run(a.id, a.ticketId, a.type, a.target, a.state, a.idempotencyKey, a.createdAt, a.startedAt, JSON.stringify(a), ...startStamp(a, this.stamp));
    } catch (err) {
      if (err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        const other = this.getActionByKey(a.idempotencyKey);
        throw new StoreError(
          'DUPLICATE_ACTION',
          `action ${a.id}: idempotency key ${JSON.stringify(a.idempotencyKey)} already belongs to action ${other?.id ?? '?'}`,
          { cause: err },
        );
      }
      if (err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new StoreError('UNKNOWN_TICKET', `action ${a.id}: ticket ${String(a.ticketId)} is not in the store`, { cause: err });
      }
      throw err;
    }
  }

  getAction(id: string): Action | null {
    return this.json<Action>('SELECT json FROM actions WHERE id = ?', id);
  }

  getActionByKey(key: string): Action | null {
    return this.json<Action>('SELECT json FROM actions WHERE idempotency_key = ?', key);
  }

  /** Newest first, by createdAt then id. */
  listActions(f: ActionFilter = {}): Action[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.ticketId === null) {
      where.push('ticket_id IS NULL');
    } else if (f.ticketId !== undefined) {
      where.push('ticket_id = ?');
      args.push(f.ticketId);
    }
    if (f.states !== undefined) {
      if (f.states.length === 0) return [];
      where.push(`state IN (${placeholders(f.states.length)})`);
      args.push(...f.states);
    }
    const cond = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    return this.jsonAll<Action>(
      `SELECT json FROM actions ${cond} ORDER BY created_at DESC, ${ID_DESC} LIMIT ?`, ...args, limitArg(f.limit),
    );
  }

  /**
   * Repairs (actions on a ticket) on `target` started since `since`, for rate limits: on monotonic
   * time for starts stamped in `since.boot`, on wall time otherwise; none before the wall time
   * `resetAt` (a person reset the limits). A service's first start (a deploy, with no ticket) is
   * not a repair and does not use up the limit.
   */
  /** Repairs started within a window, on either clock (see countStartedActions for how they count). */
  startedRepairsSince(since: WindowStart): StartedAction[] {
    const rows = this.st(
      `SELECT target, type, started_at AS startedAt, started_mono AS startedMono, started_boot AS startedBoot
         FROM actions WHERE ticket_id IS NOT NULL AND started_at IS NOT NULL
          AND (started_at >= ? OR (started_boot = ? AND started_mono >= ?))`,
    ).all(since.wall, since.boot, since.mono) as { target: string; type: ActionType; startedAt: number; startedMono: number | null; startedBoot: string | null }[];
    return rows.map((r) => ({ target: r.target, type: r.type, startedAt: r.startedAt, ...(r.startedMono != null && r.startedBoot != null ? { stamp: { mono: r.startedMono, boot: r.startedBoot } } : {}) }));
  }

  /** Repairs on `target` started in the window and at or after `resetAt` (wall), counted as the planner counts. */
  countStartedActions(target: string, type: ActionType | '*', since: WindowStart, resetAt = 0): number {
    return countStartedIn(this.startedRepairsSince(since), target, type, since, { wall: resetAt, mono: Number.NaN, boot: '' });
  }

  // ------------------------------------------------------------------------------ processes

  putProcess(p: ProcessRecord): void {
    this.st(
      `INSERT INTO processes (service, pid, proc_start, started_at, argv, action_id) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (service) DO UPDATE SET pid = excluded.pid, proc_start = excluded.proc_start,
         started_at = excluded.started_at, argv = excluded.argv, action_id = excluded.action_id`,
    ).run(p.service, p.pid, p.procStart, p.startedAt, JSON.stringify(p.argv), p.actionId ?? null);
  }

  getProcess(service: string): ProcessRecord | null {
    const row = this.st('SELECT service, pid, proc_start, started_at, argv, action_id FROM processes WHERE service = ?').get(service) as
      { service: string; pid: number; proc_start: number; started_at: number; argv: string; action_id: string | null } | undefined;
    if (row === undefined) return null;
    return {
      service: row.service, pid: row.pid, procStart: row.proc_start, startedAt: row.started_at,
      argv: JSON.parse(row.argv) as string[], ...(row.action_id !== null ? { actionId: row.action_id } : {}),
    };
  }

  deleteProcess(service: string): void {
    this.st('DELETE FROM processes WHERE service = ?').run(service);
  }

  // ------------------------------------------------------------------------------ exits

  /** Appends an exit and drops all but the newest EXITS_KEPT of that service. */
  addExit(service: string, e: ExitRecord): void {
    this.transaction(() => {
      this.st('INSERT INTO exits (service, at, code, signal, uptime_ms, by_warden, at_mono, at_boot) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(service, e.at, e.code, e.signal, e.uptimeMs, e.byWarden ? 1 : 0, e.stamp?.mono ?? null, e.stamp?.boot ?? null);
      this.st(
        `DELETE FROM exits WHERE service = ? AND id NOT IN
           (SELECT id FROM exits WHERE service = ? ORDER BY id DESC LIMIT ${EXITS_KEPT})`,
      ).run(service, service);
    });
  }

  /** Newest first, in the order they were recorded (wall stamps can step backwards). */
  recentExits(service: string, limit: number = EXITS_KEPT): ExitRecord[] {
    const rows = this.st(
      'SELECT at, code, signal, uptime_ms, by_warden, at_mono, at_boot FROM exits WHERE service = ? ORDER BY id DESC LIMIT ?',
    ).all(service, limitArg(limit)) as { at: number; code: number | null; signal: string | null; uptime_ms: number | null; by_warden: number; at_mono: number | null; at_boot: string | null }[];
    return rows.map((r) => ({
      at: r.at, code: r.code, signal: r.signal, uptimeMs: r.uptime_ms,
      ...(r.by_warden ? { byWarden: true } : {}),
      ...(r.at_mono != null && r.at_boot != null ? { stamp: { mono: r.at_mono, boot: r.at_boot } } : {}),
    }));
  }

  // ------------------------------------------------------------------------------ service states

  putServiceState(s: ServiceStateRecord): void {
    this.st(
      `INSERT INTO service_states (name, host, health, since, detail) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name, host) DO UPDATE SET health = excluded.health, since = excluded.since, detail = excluded.detail`,
    ).run(s.name, s.host, s.health, s.since, s.detail);
  }

  /** By name, then host. */
  listServiceStates(): ServiceStateRecord[] {
    return this.st('SELECT name, host, health, since, detail FROM service_states ORDER BY name, host').all() as ServiceStateRecord[];
  }

  /** For services removed from the inventory, so status stops showing them. */
  deleteServiceState(name: string, host?: string): void {
    if (host === undefined) this.st('DELETE FROM service_states WHERE name = ?').run(name);
    else this.st('DELETE FROM service_states WHERE name = ? AND host = ?').run(name, host);
  }

  // ------------------------------------------------------------------------------ flags

  /**
   * Records the current boot (once per boot_id). Returns whether this boot is new to the store,
   * and whether it is a reboot (a new boot after an earlier one).
   */
  recordBoot(bootId: string, at: number): { newBoot: boolean; reboot: boolean } {
    return this.transaction(() => {
      const last = this.db.prepare('SELECT boot_id FROM boots ORDER BY seq DESC LIMIT 1').get() as { boot_id: string } | undefined;
      if (last?.boot_id === bootId) return { newBoot: false, reboot: false };
      this.db.prepare('INSERT INTO boots (boot_id, previous_boot_id, first_seen_at) VALUES (?, ?, ?)').run(bootId, last?.boot_id ?? null, at);
      return { newBoot: true, reboot: last !== undefined };
    });
  }

  /** Reboots seen by this store: every boot after the first, oldest first. */
  listReboots(): { seq: number; bootId: string; previousBootId: string; at: number }[] {
    const rows = this.db.prepare('SELECT seq, boot_id, previous_boot_id, first_seen_at FROM boots WHERE previous_boot_id IS NOT NULL ORDER BY seq').all() as { seq: number; boot_id: string; previous_boot_id: string; first_seen_at: number }[];
    return rows.map((r) => ({ seq: r.seq, bootId: r.boot_id, previousBootId: r.previous_boot_id, at: r.first_seen_at }));
  }

  getFlag(key: string): string | null {
    const row = this.st('SELECT value FROM flags WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  /** Every flag whose key starts with `prefix`, keyed by the rest of the key (one query, not one per key). */
  flagsWithPrefix(prefix: string): Map<string, string> {
    const rows = this.st('SELECT key, value FROM flags WHERE key >= ? AND key < ?').all(prefix, `${prefix}\uffff`) as { key: string; value: string }[];
    return new Map(rows.map((r) => [r.key.slice(prefix.length), r.value]));
  }

  /** null deletes the flag. */
  setFlag(key: string, value: string | null): void {
    if (value === null) this.st('DELETE FROM flags WHERE key = ?').run(key);
    else this.st('INSERT INTO flags (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // ------------------------------------------------------------------------------ audit

  /** Appends one record (one fsync unless called inside transaction()). */
  audit(e: AuditEntry): AuditRecord {
    return this.transaction(() => this.log.append(e));
  }

  /** Appends many records in one transaction: one fsync for all of them. */
  auditBatch(entries: readonly AuditEntry[]): AuditRecord[] {
    return this.transaction(() => entries.map((e) => this.log.append(e)));
  }

  /** Oldest first; with limit, the last `limit` matching records. */
  listAudit(f: AuditListFilter = {}): AuditRecord[] {
    return this.log.list(f);
  }

  /** seq and hash of the newest appended record (seq 0 and the genesis hash when empty). */
  auditHead(): { seq: number; hash: string } | null {
    return this.log.head();
  }

  /** The chain, and the tickets, actions and flags it vouches for (store/statecheck.ts). */
  verifyAudit(): AuditVerification {
    const verify = (): AuditVerification => {
      const chain = this.log.verify();
      const state = checkState((sql) => this.st(sql));
      const problems = [...chain.problems, ...state.problems];
      return { ...chain, ok: problems.length === 0, problems, state: state.checked };
    };
    // One read snapshot, so a concurrent append cannot make the head, the chain and the rows disagree.
    if (this.db.inTransaction) return verify();
    return this.db.transaction(verify).deferred();
  }

  // ------------------------------------------------------------------------------ helpers

  private st(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private json<T>(sql: string, ...args: unknown[]): T | null {
    const row = this.st(sql).get(...args) as { json: string } | undefined;
    return row === undefined ? null : (JSON.parse(row.json) as T);
  }

  private jsonAll<T>(sql: string, ...args: unknown[]): T[] {
    return (this.st(sql).all(...args) as { json: string }[]).map((r) => JSON.parse(r.json) as T);
  }
}

/** The monotonic stamp of an action's start, or none while it has not started. */
function startStamp(a: Action, stamp: () => MonoStamp): [number | null, string | null] {
  if (a.startedAt == null) return [null, null];
  const s = stamp();
  return [s.mono, s.boot];
}

/** Monotonic time of the system clock, with this boot's id (read once). */
function systemStamp(): () => MonoStamp {
  let boot: string | undefined;
  return () => {
    boot ??= readBootIdOr('unknown');
    return { mono: systemClock.mono(), boot };
  };
}

function readBootIdOr(fallback: string): string {
  try {
    return readBootId();
  } catch {
    return fallback;
  }
}
