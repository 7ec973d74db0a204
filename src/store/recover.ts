// `warden store recover`: salvage what SQLite can still read of a damaged store into a new one made
// by the normal migrations, table by table and row by row, skipping what cannot be read, and say per
// table what was copied and what was lost. The old files are never deleted: they are renamed aside
// with a timestamp, and read from scratch copies so even a checkpoint cannot change them.
// (better-sqlite3 has no `.recover`, the sqlite3 shell's; this is the same idea at row level.)
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { errorText } from '../lib/errors.js';
import { isStoreError } from './errors.js';
import { aloneView, damaged, MARKER_FILE, readMarker, storeIdOf, walBelongs, writeMarker, type StoreMarker } from './integrity.js';
import { DB_FILE, Store } from './store.js';

export interface TableRecovery {
  table: string;
  copied: number;
  /** Rows known to exist (from the table or its indexes) that could not be read. */
  lost: number;
  /** Their keys, when an index still names them (e.g. the ids of lost actions). */
  lostKeys: string[];
  /** Why nothing at all could be read of it, when so. */
  error?: string;
}

export interface RecoveryReport {
  dataDir: string;
  /** The damaged files, renamed aside (kept). */
  movedAside: string[];
  /** What was read: the database with its WAL, the database alone, or nothing. */
  source: string;
  tables: TableRecovery[];
  /** The new store's audit chain: what of the history is gone shows here. */
  audit: { ok: boolean; records: number; problems: number };
}

/** Tables the migrations fill themselves. */
const SKIP = new Set(['schema_migrations', 'sqlite_sequence']);

/** UTC, safe in file names: 20250101T120000Z. */
function stamp(now: number): string {
  return new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Renames the store's files aside; the database and its WAL keep names SQLite pairs (X, X-wal). */
function moveAside(dir: string, now: number): { moved: string[]; db: string | null; wal: string | null } {
  const base = path.join(dir, `${DB_FILE}.damaged-${stamp(now)}`);
  const moves: [string, string][] = [
    [path.join(dir, DB_FILE), base], [path.join(dir, `${DB_FILE}-wal`), `${base}-wal`],
    [path.join(dir, `${DB_FILE}-shm`), `${base}-shm`], [path.join(dir, MARKER_FILE), path.join(dir, `${MARKER_FILE}.damaged-${stamp(now)}`)],
  ];
  const moved: string[] = [];
  for (const [from, to] of moves) {
    if (!fs.existsSync(from)) continue;
    if (fs.existsSync(to)) throw new Error(`${to} already exists; try again in a second`);
    fs.renameSync(from, to);
    moved.push(to);
  }
  return { moved, db: moved.includes(base) ? base : null, wal: moved.includes(`${base}-wal`) ? `${base}-wal` : null };
}

/**
 * Opens a scratch copy of the old database (with its WAL when it belongs to it) to read from. A
 * missing database with a WAL is read from an empty file: SQLite then takes every page it can from
 * the WAL, which, until the first checkpoint, is all of them.
 */
function openSource(dir: string, db: string | null, wal: string | null, marker: StoreMarker | null): { src: Database.Database | null; source: string; cleanup: () => void } {
  const scratch = path.join(dir, `.recover-${process.pid}.db`);
  const cleanup = (): void => { for (const f of [scratch, `${scratch}-wal`, `${scratch}-shm`]) fs.rmSync(f, { force: true }); };
  cleanup();
  if (db === null && wal === null) return { src: null, source: 'nothing: no database and no WAL', cleanup };
  let source = db === null ? `the WAL ${wal} alone (the database was missing)` : `${db} alone`;
  let useWal = wal !== null;
  if (wal !== null && db !== null) {
    const alone = aloneView(db);
    // Only the verdict "not this database's WAL" leaves it out; other trouble is the database's.
    const why = probe(dir, db, wal, (s) => {
      walBelongs(s, db, alone);
      // A database never checkpointed says nothing by itself: the data directory's marker does.
      const id = storeIdOf(s);
      if (marker && id !== null && id !== marker.storeId) throw damaged(wal, `belongs to another store (${id}; the data directory's is ${marker.storeId})`);
    });
    useWal = !isStoreError(why, 'STORE_DAMAGED');
    source = useWal ? `${db} with its WAL` : `${db} alone (its WAL was left out: ${errorText(why)})`;
  }
  if (db !== null) fs.copyFileSync(db, scratch);
  else if (wal !== null) emptyDatabaseFor(wal, scratch);
  if (useWal && wal !== null) fs.copyFileSync(wal, `${scratch}-wal`);
  try {
    return { src: new Database(scratch, { fileMustExist: true }), source, cleanup };
  } catch (e) {
    return { src: null, source: `nothing readable: ${errorText(e)}`, cleanup };
  }
}

/**
 * An empty WAL-mode database with the WAL's page size, for a WAL whose database is lost: SQLite
 * deletes a WAL beside a 0-byte database, but reads one beside a database with a valid header.
 */
function emptyDatabaseFor(wal: string, file: string): void {
  const header = Buffer.alloc(12);
  const fd = fs.openSync(wal, 'r');
  try {
    fs.readSync(fd, header, 0, 12, 0);
  } finally {
    fs.closeSync(fd);
  }
  const pageSize = header.readUInt32BE(8);
  const db = new Database(file);
  try {
    if (pageSize >= 512 && pageSize <= 65536) db.pragma(`page_size = ${pageSize}`);
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
}

/**
 * Runs a check on a throwaway copy of the database and its WAL (closing a connection checkpoints
 * the WAL into its database, which must not happen to what is read afterwards): null when it
 * passes, else what it threw.
 */
function probe(dir: string, db: string, wal: string, check: (db: Database.Database) => void): unknown {
  const copy = path.join(dir, `.recover-probe-${process.pid}.db`);
  let conn: Database.Database | undefined;
  try {
    fs.copyFileSync(db, copy);
    fs.copyFileSync(wal, `${copy}-wal`);
    conn = new Database(copy, { fileMustExist: true });
    check(conn);
    return null;
  } catch (e) {
    return e;
  } finally {
    conn?.close();
    for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) fs.rmSync(f, { force: true });
  }
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function columnsOf(db: Database.Database, table: string): { name: string; pk: number }[] {
  return db.prepare(`SELECT name, pk FROM pragma_table_info(?)`).all(table) as { name: string; pk: number }[];
}

/** Every rowid the table or any of its indexes still knows, and the key an index gives each. */
function knownRows(src: Database.Database, table: string, keyCol: string | null): { rowids: Set<number>; keys: Map<number, string> } {
  const rowids = new Set<number>();
  const keys = new Map<number, string>();
  const scan = (sql: string, arg: number): number | null => {
    let last: number | null = null;
    try {
      for (const r of src.prepare(sql).iterate(arg) as IterableIterator<{ r: number; k?: unknown }>) {
        rowids.add(r.r);
        if (r.k !== undefined && r.k !== null) keys.set(r.r, String(r.k));
        last = r.r;
      }
      return null;
    } catch {
      return last ?? arg;
    }
  };
  // The table itself, jumping over what cannot be read (further and further, then on).
  const t = q(table);
  let from = Number.MIN_SAFE_INTEGER;
  for (let tries = 0; tries < 64; tries++) {
    const stuck = scan(`SELECT rowid AS r FROM ${t} WHERE rowid > ? ORDER BY rowid`, from);
    if (stuck === null) break;
    from = stuck + 2 ** Math.min(tries, 52);
  }
  // Its indexes live on pages of their own: they still name rows whose table page is gone.
  for (const idx of src.prepare(`SELECT name FROM pragma_index_list(?)`).all(table) as { name: string }[]) {
    const cols = (src.prepare(`SELECT name FROM pragma_index_info(?)`).all(idx.name) as { name: string | null }[]).map((c) => c.name);
    const k = keyCol !== null && cols.length === 1 && cols[0] === keyCol ? `, ${q(keyCol)} AS k` : '';
    scan(`SELECT rowid AS r${k} FROM ${t} INDEXED BY ${q(idx.name)} WHERE rowid > ?`, Number.MIN_SAFE_INTEGER);
  }
  return { rowids, keys };
}

function copyTable(src: Database.Database, dst: Database.Database, table: string): TableRecovery {
  const out: TableRecovery = { table, copied: 0, lost: 0, lostKeys: [] };
  let srcCols: { name: string; pk: number }[];
  try {
    srcCols = columnsOf(src, table);
  } catch (e) {
    return { ...out, error: errorText(e) };
  }
  if (srcCols.length === 0) return { ...out, error: 'not in the old store' };
  const dstNames = new Set(columnsOf(dst, table).map((c) => c.name));
  const cols = srcCols.map((c) => c.name).filter((n) => dstNames.has(n));
  const pk = srcCols.filter((c) => c.pk > 0);
  const { rowids, keys } = knownRows(src, table, pk.length === 1 ? pk[0]!.name : null);
  const read = src.prepare(`SELECT ${cols.map(q).join(', ')} FROM ${q(table)} WHERE rowid = ?`);
  // REPLACE: rows the migrations made (the audit head, the identity) take the old store's values.
  const write = dst.prepare(`INSERT OR REPLACE INTO ${q(table)} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  dst.transaction(() => {
    for (const rowid of [...rowids].sort((a, b) => a - b)) {
      let row: Record<string, unknown> | undefined;
      try {
        row = read.get(rowid) as Record<string, unknown> | undefined;
      } catch {
        row = undefined;
      }
      if (row === undefined) {
        out.lost++;
        const key = keys.get(rowid);
        if (key !== undefined) out.lostKeys.push(key);
        continue;
      }
      write.run(...cols.map((c) => row[c]));
      out.copied++;
    }
  })();
  return out;
}

/** When the audit head was lost, the chain's last readable record stands in (verify still shows the gap). */
function repairHead(dst: Database.Database): void {
  const head = dst.prepare('SELECT seq FROM audit_head WHERE id = 1').get() as { seq: number } | undefined;
  const last = dst.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  if (last !== undefined && (head === undefined || head.seq === 0)) {
    dst.prepare('INSERT OR REPLACE INTO audit_head (id, seq, hash) VALUES (1, ?, ?)').run(last.seq, last.hash);
  }
}

/**
 * Moves the damaged store aside and salvages it into a new one in its place. The caller holds the
 * data directory's lock (no daemon may run meanwhile).
 */
export function recoverStore(dataDir: string, now: number): RecoveryReport {
  const dir = path.resolve(dataDir);
  let marker: StoreMarker | null = null;
  try {
    marker = readMarker(dir);
  } catch {
    // An unreadable marker says nothing about which store this is.
  }
  const { moved, db, wal } = moveAside(dir, now);
  const fresh = Store.open(dir);
  fresh.close();
  const file = path.join(dir, DB_FILE);
  const { src, source, cleanup } = openSource(dir, db, wal, marker);
  const tables: TableRecovery[] = [];
  try {
    const dst = new Database(file);
    try {
      dst.pragma('foreign_keys = OFF');
      const names = (dst.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[])
        .map((r) => r.name).filter((n) => !SKIP.has(n));
      for (const table of names) {
        tables.push(src === null ? { table, copied: 0, lost: 0, lostKeys: [], error: source } : copyTable(src, dst, table));
      }
      repairHead(dst);
      // The store keeps its identity when it could be read, so its backups still match the marker.
      const id = storeIdOf(dst);
      if (id !== null) writeMarker(dir, { storeId: id, createdAt: new Date(now).toISOString() });
    } finally {
      dst.close();
    }
  } finally {
    src?.close();
    cleanup();
  }
  const store = Store.open(dir, { check: true });
  try {
    const v = store.verifyAudit();
    return { dataDir: dir, movedAside: moved, source, tables, audit: { ok: v.ok, records: v.records, problems: v.problems.length } };
  } finally {
    store.close();
  }
}
