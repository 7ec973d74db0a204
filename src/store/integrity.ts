// A damaged store is never read as empty. A store that was ever created marks its data directory
// (store.id, written once its first migration has committed); the same id lives in the database.
// So a database that is missing or empty while the marker (or its WAL) is there, a database or WAL
// from another store, pages SQLite finds corrupt, or a WAL that does not continue the database's
// audit chain are refused with the file, what is wrong and what to do, rather than started fresh.
// What survives what: deleting warden.db leaves store.id and usually the WAL; truncating it leaves
// both; deleting the whole data directory leaves nothing, and then Warden does start fresh.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AuditLog } from './audit.js';
import { StoreDamagedError, StoreError } from './errors.js';
import { schemaVersion } from './migrations.js';

export const MARKER_FILE = 'store.id';

export interface StoreMarker {
  storeId: string;
  /** ISO time the store was created (or first marked, for stores older than the marker). */
  createdAt: string;
}

/** What to do about any damage: said in every refusal. */
export function remedy(file: string): string {
  return `restore a backup (stop Warden, move ${path.basename(file)}, its -wal and -shm files aside, copy the backup to ${file}), ` +
    `or salvage what can still be read into a new store with "warden store recover" (it keeps the old files)`;
}

export function damaged(file: string, what: string, cause?: unknown): StoreDamagedError {
  return new StoreDamagedError(file, what, `${file}: ${what}. Warden will not read a damaged store as empty: ${remedy(file)}`, cause === undefined ? {} : { cause });
}

/** SQLite's codes for a file that is not (or no longer) a sound database. */
export function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_') || code === 'STORE_DAMAGED');
}

/** SQLite's corruption errors, which name no file, as a refusal that names it; anything else unchanged. */
export function asDamage(err: unknown, file: string): unknown {
  if (!isCorruption(err) || err instanceof StoreError) return err;
  return damaged(file, whatIsWrong(err as { code: string; message?: string }), err);
}

/** Which file of a store is damaged and what is wrong with it; null for any other error. */
export function damageOf(err: unknown, file: string): { file: string; what: string } | null {
  if (!isCorruption(err)) return null;
  if (err instanceof StoreDamagedError) return { file: err.file, what: err.what };
  if (err instanceof StoreError) return { file, what: err.message };
  return { file, what: whatIsWrong(err as { code: string; message?: string }) };
}

function whatIsWrong(err: { code: string; message?: string }): string {
  return err.code === 'SQLITE_NOTADB' ? 'is not a SQLite database (SQLITE_NOTADB)' : `is corrupt (${err.code}: ${err.message ?? ''})`;
}

export function markerPath(dir: string): string {
  return path.join(dir, MARKER_FILE);
}

export function readMarker(dir: string): StoreMarker | null {
  let text: string;
  try {
    text = fs.readFileSync(markerPath(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const m = JSON.parse(text) as Partial<StoreMarker>;
    if (typeof m.storeId === 'string' && m.storeId !== '') return { storeId: m.storeId, createdAt: String(m.createdAt ?? '') };
  } catch {
    // Reported below, like any other unreadable marker.
  }
  throw new StoreError('STORE_DAMAGED', `${markerPath(dir)}: not a store marker (expected {"storeId": ..., "createdAt": ...}); ` +
    `it says a store was created in this data directory. If warden.db is sound, delete ${markerPath(dir)} and Warden writes it again; otherwise ${remedy(path.join(dir, 'warden.db'))}`);
}

/** Atomic and durable: a crash leaves the old marker or the new one, never half of one. */
export function writeMarker(dir: string, m: StoreMarker): void {
  const file = markerPath(dir);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, `${JSON.stringify(m)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const d = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(d);
  } finally {
    fs.closeSync(d);
  }
}

function sizeOf(file: string): number | null {
  try {
    return fs.statSync(file).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * The checks on the files alone, before SQLite opens (and could create) anything. `fresh`: no
 * store was ever created here, so creating one is right.
 */
export function preflight(dir: string, file: string): { marker: StoreMarker | null; fresh: boolean } {
  const marker = readMarker(dir);
  const db = sizeOf(file);
  const wal = sizeOf(`${file}-wal`) ?? 0;
  const since = marker ? `, but ${markerPath(dir)} says a store was created here${marker.createdAt ? ` (${marker.createdAt})` : ''}` : '';
  if (db === null || db === 0) {
    const state = db === null ? 'is missing' : 'is empty (0 bytes)';
    if (marker) throw damaged(file, `${state}${since}`);
    if (wal > 0) throw damaged(file, `${state}, but its WAL ${file}-wal (${wal} bytes) is there: the database was lost, its latest writes were not`);
    return { marker, fresh: true };
  }
  return { marker, fresh: false };
}

/** Before migrations: a marked store whose database has no schema lost it (a deleted WAL, a swapped file). */
export function checkBeforeMigrate(db: Database.Database, dir: string, file: string, marker: StoreMarker | null): void {
  if (marker && schemaVersion(db) === 0) {
    throw damaged(file, `has no Warden tables${marker.createdAt ? `, but ${markerPath(dir)} says a store was created here (${marker.createdAt})` : ''}: its WAL, where the latest writes live, may have been removed`);
  }
}

export function storeIdOf(db: Database.Database): string | null {
  const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_identity'`).get();
  if (table === undefined) return null;
  return (db.prepare('SELECT store_id FROM store_identity WHERE id = 1').get() as { store_id: string } | undefined)?.store_id ?? null;
}

/** The database is this data directory's store (when both say which store they are). */
export function checkIdentity(db: Database.Database, dir: string, file: string, marker: StoreMarker | null): void {
  const id = storeIdOf(db);
  if (id === null || marker === null || id === marker.storeId) return;
  const which = sizeOf(`${file}-wal`) ? `${file} (read with its WAL ${file}-wal)` : file;
  throw damaged(which, `belongs to another store: its id is ${id}, ${markerPath(dir)} says ${marker.storeId}`);
}

/** A store without a marker (new, or older than markers) gets one, once its migrations committed. */
export function markIfUnmarked(db: Database.Database, dir: string, marker: StoreMarker | null): void {
  const id = storeIdOf(db);
  if (marker === null && id !== null) writeMarker(dir, { storeId: id, createdAt: new Date().toISOString() });
}

/**
 * Every check of an existing store, on a read-only connection: closing a read-write one
 * checkpoints the WAL into the database, and a refused store must stay as it was found.
 * `deep` adds quick_check and whether the WAL belongs to the database (`alone`).
 */
export function inspect(dir: string, file: string, marker: StoreMarker | null, opts: { deep: boolean; alone: AloneView | null; timeoutMs: number }): void {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: opts.timeoutMs });
    checkBeforeMigrate(db, dir, file, marker);
    checkIdentity(db, dir, file, marker);
    if (opts.deep) deepCheck(db, file, opts.alone);
  } catch (e) {
    throw asDamage(e, file);
  } finally {
    db?.close();
  }
}

/** What the database file says without its WAL: taken before SQLite opens the pair. */
export interface AloneView {
  storeId: string | null;
  head: { seq: number; hash: string } | null;
}

/**
 * The database file read without its WAL, from a copy (SQLite always reads a WAL beside its
 * database). null when there is no WAL to compare with, or when the file alone cannot be read
 * (never checkpointed, or a checkpoint cut short): then there is nothing to compare.
 */
export function aloneView(file: string): AloneView | null {
  if ((sizeOf(`${file}-wal`) ?? 0) === 0) return null;
  const copy = path.join(path.dirname(file), `.${path.basename(file)}.alone-${process.pid}`);
  try {
    fs.copyFileSync(file, copy);
    const db = new Database(copy, { fileMustExist: true });
    try {
      const head = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_head'`).get() === undefined
        ? null
        : (db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined) ?? null;
      return { storeId: storeIdOf(db), head };
    } finally {
      db.close();
    }
  } catch {
    return null;
  } finally {
    for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) fs.rmSync(f, { force: true });
  }
}

/** SQLite's quick_check: every page of every table and index is readable and well formed. */
export function quickCheck(db: Database.Database, file: string): void {
  const bad = (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check).filter((r) => r !== 'ok');
  if (bad.length > 0) throw damaged(file, `is corrupt: SQLite's quick_check reports ${bad.slice(0, 3).join('; ')}${bad.length > 3 ? ` (and ${bad.length - 3} more)` : ''}`);
}

/**
 * Whether the WAL read with `db` belongs to the database `file`: the same store, and an audit chain
 * that continues the database's own head (a backup restored over a WAL left behind, or a WAL copied
 * from another store, does not). Throws STORE_DAMAGED naming the WAL when it does not.
 */
export function walBelongs(db: Database.Database, file: string, alone: AloneView | null): void {
  if (alone === null) return;
  const wal = `${file}-wal`;
  const id = storeIdOf(db);
  if (alone.storeId !== null && id !== alone.storeId) {
    throw damaged(wal, `does not belong to ${file}: the WAL holds store ${id ?? '(none)'}, the database store ${alone.storeId}`);
  }
  if (alone.head === null) return;
  const log = new AuditLog((sql) => db.prepare(sql));
  const v = db.transaction(() => log.verify(alone.head)).deferred();
  if (!v.ok) {
    throw damaged(wal, `does not belong to ${file}: it does not continue the database's audit chain from record ${alone.head.seq} (${v.problems[0]?.reason ?? ''}); a backup restored over a WAL left behind, or a WAL from elsewhere`);
  }
}

/** The checks too slow for every command, run once when the daemon starts. */
export function deepCheck(db: Database.Database, file: string, alone: AloneView | null): void {
  quickCheck(db, file);
  walBelongs(db, file, alone);
}
