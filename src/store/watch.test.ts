import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ticket } from '../runtime/testing.js';
import { Store } from './store.js';
import { watchDamage, type Damage } from './watch.js';

test('a real garbage page: the read that meets it reports the damage, then fails as before', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = Store.open(dir);
  first.putTicket(ticket({ id: 'T1' }));
  first.setFlag('frozen', 'x');
  const file = first.path;
  first.close(); // the last connection: its WAL is checkpointed into the database file

  const c = new Database(file, { readonly: true });
  const { rootpage } = c.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'tickets'`).get() as { rootpage: number };
  const pageSize = c.pragma('page_size', { simple: true }) as number;
  c.close();
  const fd = openSync(file, 'r+');
  writeSync(fd, randomBytes(pageSize), 0, pageSize, (rootpage - 1) * pageSize);
  closeSync(fd);

  const found: Damage[] = [];
  const store = watchDamage(Store.open(dir), (d) => found.push(d));
  t.after(() => store.close());
  assert.equal(store.getFlag('frozen'), 'x', 'sound pages read as before');
  assert.equal(store.path, file);
  assert.deepEqual(found, []);
  assert.throws(() => store.listTickets({}), { code: 'SQLITE_CORRUPT' });
  assert.deepEqual(found, [{ file, what: 'is corrupt (SQLITE_CORRUPT: database disk image is malformed)' }]);
  // Inside a transaction too (each failing call reports; the listener latches once).
  assert.throws(() => store.transaction(() => store.listTickets({ openOnly: true })), { code: 'SQLITE_CORRUPT' });
  assert.equal(found.length, 3);
});

test('other failures are not damage', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const found: Damage[] = [];
  const store = watchDamage(Store.open(dir), (d) => found.push(d));
  t.after(() => store.close());
  assert.throws(() => store.transaction(() => { throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }); }), { code: 'SQLITE_FULL' });
  assert.throws(() => store.nextId('X' as 'T'), { code: 'INVALID_INPUT' });
  assert.deepEqual(found, []);
});
