import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MARKER_FILE, readMarker } from './integrity.js';
import { dbPath, Store } from './store.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'warden-integrity-'));
}

const damagedAt = (file: string, what: RegExp) => (e: unknown): boolean => {
  const err = e as { code?: string; message?: string };
  return err.code === 'STORE_DAMAGED' && (err.message ?? '').includes(file) && what.test(err.message ?? '') && /warden store recover/.test(err.message ?? '');
};

function audit(s: Store, n: number, size = 10): void {
  for (let i = 0; i < n; i++) s.audit({ at: 1, actor: 'test', kind: 'agent.online', data: { pad: 'x'.repeat(size) } });
}

/** The files as a crash would leave them: copied while the writer still has them open (its WAL not checkpointed). */
function crashCopy(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const f of ['warden.db', 'warden.db-wal', MARKER_FILE]) if (fs.existsSync(path.join(from, f))) fs.copyFileSync(path.join(from, f), path.join(to, f));
}

void describe('a damaged store is never read as empty', () => {
  void it('a new data directory is created and marked; the marker carries the database\'s id', () => {
    const dir = tmp();
    const s = Store.open(dir);
    s.close();
    const m = readMarker(dir);
    assert.ok(m);
    const db = new Database(dbPath(dir), { readonly: true });
    assert.equal((db.prepare('SELECT store_id FROM store_identity').get() as { store_id: string }).store_id, m.storeId);
    db.close();
  });

  void it('a store older than markers is marked on its next open', () => {
    const dir = tmp();
    Store.open(dir).close();
    fs.rmSync(path.join(dir, MARKER_FILE));
    Store.open(dir).close();
    assert.ok(readMarker(dir));
  });

  void it('missing, empty, or schema-less databases of a marked store are refused, for readers and writers, and nothing is created', () => {
    const dir = tmp();
    const s = Store.open(dir);
    audit(s, 3);
    s.close();
    const file = dbPath(dir);
    fs.truncateSync(file, 0);
    assert.throws(() => Store.open(dir), damagedAt(file, /is empty \(0 bytes\), but .*store\.id says a store was created here/));
    assert.throws(() => Store.open(dir, { readonly: true }), damagedAt(file, /is empty/));
    assert.equal(fs.statSync(file).size, 0, 'a refused open writes nothing');
    fs.rmSync(file);
    assert.throws(() => Store.open(dir), damagedAt(file, /is missing/));
    assert.equal(fs.existsSync(file), false);
    const other = new Database(file);
    other.exec('CREATE TABLE unrelated (a)');
    other.close();
    assert.throws(() => Store.open(dir), damagedAt(file, /has no Warden tables/));
  });

  void it('a WAL without its database is refused even without a marker', () => {
    const dir = tmp();
    const s = Store.open(dir);
    audit(s, 3);
    crashCopy(dir, path.join(dir, 'crashed'));
    s.close();
    const crashed = path.join(dir, 'crashed');
    fs.rmSync(path.join(crashed, MARKER_FILE));
    fs.rmSync(dbPath(crashed));
    assert.throws(() => Store.open(crashed), damagedAt(dbPath(crashed), /missing, but its WAL .* is there/));
  });

  void it('an unreadable marker is refused, saying how to get past it', () => {
    const dir = tmp();
    Store.open(dir).close();
    fs.writeFileSync(path.join(dir, MARKER_FILE), 'x');
    assert.throws(() => Store.open(dir), /store\.id: not a store marker .* delete .*store\.id and Warden writes it again/);
  });

  void it('a database from another store is refused', () => {
    const a = tmp();
    const b = tmp();
    Store.open(a).close();
    Store.open(b).close();
    fs.copyFileSync(dbPath(b), dbPath(a));
    assert.throws(() => Store.open(a), damagedAt(dbPath(a), /belongs to another store/));
  });

  // Which check fires depends on the pages the WAL holds: its chain not continuing the database's,
  // or the mix of old and new pages being corrupt. Either way it is refused, not read.
  void it('a backup restored over a WAL left behind is refused at start', async () => {
    const dir = tmp();
    const s = Store.open(dir);
    // Records of 1 KiB: the audit table spans pages, as it does after a day of running.
    audit(s, 20, 1000);
    const backup = path.join(dir, 'backup.db');
    await s.backup(backup);
    audit(s, 20, 1000);
    const raw = new Database(dbPath(dir));
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    audit(s, 5, 1000);
    const crashed = path.join(dir, 'crashed');
    crashCopy(dir, crashed);
    s.close();
    fs.copyFileSync(backup, dbPath(crashed));
    assert.throws(() => Store.open(crashed, { check: true }), (e: unknown) => {
      const m = (e as Error).message;
      return (e as { code?: string }).code === 'STORE_DAMAGED' && (m.includes(`${dbPath(crashed)}-wal: does not belong`) || /corrupt/.test(m));
    });
    assert.ok(fs.existsSync(`${dbPath(crashed)}-wal`), 'the refused WAL is left where it was (not checkpointed into the database)');
  });
});
