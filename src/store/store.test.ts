import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { WindowStart } from '../domain/elapsed.js';
import type { Action, Ticket } from '../domain/types.js';
import { SimulatedClock } from '../testing/clock.js';
import { Store, dbPath, isStoreError } from './store.js';
import { LATEST_VERSION, MIGRATIONS, migrate, schemaVersion } from './migrations.js';

const HOUR = 3_600_000;
/** A window start in another boot than the store's stamps: counted on wall time. */
const acrossBoots = (wall: number): WindowStart => ({ wall, mono: 0, boot: 'another-boot' });

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function ticket(id: string, over: Partial<Ticket> = {}): Ticket {
  return {
    id, fingerprint: `fp-${id}`, status: 'open', service: 'api', host: 'local', findings: [], cause: null,
    rootCause: null, confidence: null, occurrences: 1, flapping: false, openedAt: 1000, diagnosedAt: null,
    resolvedAt: null, updatedAt: 1000, actionIds: [], diagnosis: null, verification: null, reason: null,
    failedRepairs: 0, ...over,
  };
}

function action(id: string, over: Partial<Action> = {}): Action {
  return {
    id, ticketId: 'T1', type: 'restart', target: 'api', params: {}, state: 'proposed', attempts: 0,
    maxAttempts: 3, idempotencyKey: `key-${id}`, requestedBy: 'otto', approvedBy: null, createdAt: 1000,
    startedAt: null, finishedAt: null, notBefore: null, error: null, ...over,
  };
}

const hasCode = (code: string) => (err: unknown): boolean => isStoreError(err) && err.code === code;

void describe('Store: opening and migrations', () => {
  void it('creates the data directory recursively and sets WAL, FULL sync, foreign keys, busy timeout', () => {
    const dir = path.join(tmp(), 'a', 'b', 'data');
    const store = Store.open(dir);
    assert.equal(store.path, path.join(dir, 'warden.db'));
    assert.ok(fs.existsSync(store.path));
    const db = (store as unknown as { db: Database.Database }).db;
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
    store.close();
  });

  void it('applies migrations once: reopening keeps data and the recorded versions', () => {
    const dir = tmp();
    const s1 = Store.open(dir);
    s1.putTicket(ticket('T1'));
    s1.close();
    const s2 = Store.open(dir);
    assert.equal(s2.getTicket('T1')?.id, 'T1');
    s2.close();
    const raw = new Database(dbPath(dir));
    const rows = raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
    assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
    assert.equal(schemaVersion(raw), LATEST_VERSION);
    raw.close();
  });

  void it('applies pending migrations in one transaction: a failing one leaves nothing behind', () => {
    const raw = new Database(path.join(tmp(), 'm.db'));
    const broken = [...MIGRATIONS, { version: LATEST_VERSION + 1, name: 'broken', sql: 'CREATE TABLE x (a); INSERT INTO nope VALUES (1);' }];
    assert.throws(() => migrate(raw, 'm.db', broken), /no such table: nope/);
    assert.equal(schemaVersion(raw), 0);
    assert.equal(raw.prepare(`SELECT 1 FROM sqlite_master WHERE name IN ('x', 'tickets')`).get(), undefined);
    raw.close();
  });

  void it('refuses a database migrated by a newer Warden, read-write and read-only', () => {
    const dir = tmp();
    Store.open(dir).close();
    const raw = new Database(dbPath(dir));
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST_VERSION + 1, 'future', 0);
    raw.close();
    assert.throws(() => Store.open(dir), (err: unknown) => hasCode('STORE_TOO_NEW')(err) && /newer than this Warden knows/.test(String(err)));
    assert.throws(() => Store.open(dir, { readonly: true }), hasCode('STORE_TOO_NEW'));
  });

  void it('read-only open of a missing store fails with STORE_MISSING and creates nothing', () => {
    const parent = tmp();
    const missingDir = path.join(parent, 'nope');
    assert.throws(() => Store.open(missingDir, { readonly: true }), hasCode('STORE_MISSING'));
    assert.equal(fs.existsSync(missingDir), false);
    const emptyDir = tmp();
    assert.throws(() => Store.open(emptyDir, { readonly: true }), hasCode('STORE_MISSING'));
    assert.deepEqual(fs.readdirSync(emptyDir), []);
  });

  void it('read-only open reads what a writer wrote and refuses writes', () => {
    const dir = tmp();
    const w = Store.open(dir);
    w.putTicket(ticket('T1'));
    const r = Store.open(dir, { readonly: true });
    assert.equal(r.getTicket('T1')?.id, 'T1');
    w.putTicket(ticket('T2')); // a concurrent writer's commit is visible to the reader
    assert.equal(r.listTickets().length, 2);
    assert.throws(() => r.setFlag('frozen', '1'), /readonly/);
    r.close();
    w.close();
  });

  void it('read-only open of a database not yet migrated fails with STORE_OUTDATED', () => {
    const dir = tmp();
    // Not 0 bytes: an empty file and no marker is a store never created (STORE_MISSING).
    const raw = new Database(dbPath(dir));
    raw.exec('CREATE TABLE unrelated (a)');
    raw.close();
    assert.throws(() => Store.open(dir, { readonly: true }), hasCode('STORE_OUTDATED'));
  });
});

void describe('Store: ids and transactions', () => {
  void it('hands out ids from persisted counters, skipping ids already in use', () => {
    const dir = tmp();
    const s = Store.open(dir);
    assert.equal(s.nextId('T'), 'T1');
    assert.equal(s.nextId('T'), 'T2');
    assert.equal(s.nextId('A'), 'A1');
    s.putTicket(ticket('T3'));
    s.close();
    const s2 = Store.open(dir);
    assert.equal(s2.nextId('T'), 'T4');
    assert.equal(s2.nextId('A'), 'A2');
    s2.close();
  });

  void it('rolls back everything on a throw, runs nested calls inside the outer transaction, refuses async fns', () => {
    const s = Store.open(tmp());
    assert.throws(() => s.transaction(() => {
      s.setFlag('a', '1');
      s.transaction(() => s.setFlag('b', '2'));
      throw new Error('boom');
    }), /boom/);
    assert.equal(s.getFlag('a'), null);
    assert.equal(s.getFlag('b'), null);
    assert.equal(s.transaction(() => { s.setFlag('a', '1'); return 42; }), 42);
    assert.equal(s.getFlag('a'), '1');
    assert.throws(() => s.transaction(() => Promise.resolve(s.setFlag('c', '3'))), /must be synchronous/);
    assert.equal(s.getFlag('c'), null);
    s.close();
  });
});

void describe('Store: tickets', () => {
  void it('round-trips and upserts a ticket', () => {
    const s = Store.open(tmp());
    const t = ticket('T1', { findings: [{ kind: 'missing_service', service: 'api', host: 'local', reason: 'not running' }] });
    s.putTicket(t);
    assert.deepEqual(s.getTicket('T1'), t);
    s.putTicket({ ...t, status: 'resolved', resolvedAt: 2000, updatedAt: 2000 });
    assert.equal(s.getTicket('T1')?.status, 'resolved');
    assert.equal(s.getTicket('T9'), null);
    s.close();
  });

  void it('lists newest first by openedAt then natural id, with status filters and limit', () => {
    const s = Store.open(tmp());
    s.putTicket(ticket('T9', { openedAt: 500 }));
    s.putTicket(ticket('T10', { openedAt: 500, status: 'resolved' }));
    s.putTicket(ticket('T11', { openedAt: 700, status: 'held' }));
    s.putTicket(ticket('T2', { openedAt: 100 }));
    assert.deepEqual(s.listTickets().map((t) => t.id), ['T11', 'T10', 'T9', 'T2']);
    assert.deepEqual(s.listTickets({ openOnly: true }).map((t) => t.id), ['T11', 'T9', 'T2']);
    assert.deepEqual(s.listTickets({ statuses: ['resolved', 'held'] }).map((t) => t.id), ['T11', 'T10']);
    assert.deepEqual(s.listTickets({ statuses: ['resolved'], openOnly: true }), []);
    assert.deepEqual(s.listTickets({ statuses: [] }), []);
    assert.deepEqual(s.listTickets({ limit: 2 }).map((t) => t.id), ['T11', 'T10']);
    s.close();
  });

  void it('finds the latest ticket of a fingerprint', () => {
    const s = Store.open(tmp());
    s.putTicket(ticket('T1', { fingerprint: 'x', openedAt: 100, status: 'resolved' }));
    s.putTicket(ticket('T2', { fingerprint: 'x', openedAt: 300 }));
    s.putTicket(ticket('T3', { fingerprint: 'y', openedAt: 900 }));
    assert.equal(s.latestTicketByFingerprint('x')?.id, 'T2');
    assert.equal(s.latestTicketByFingerprint('z'), null);
    s.close();
  });
});

void describe('Store: actions', () => {
  void it('round-trips, upserts by id and finds by idempotency key', () => {
    const s = Store.open(tmp());
    s.putTicket(ticket('T1'));
    const a = action('A1', { params: { signal: 'SIGTERM' } });
    s.putAction(a);
    assert.deepEqual(s.getAction('A1'), a);
    s.putAction({ ...a, state: 'executing', startedAt: 2000, attempts: 1 });
    assert.equal(s.getAction('A1')?.state, 'executing');
    assert.equal(s.getActionByKey('key-A1')?.id, 'A1');
    assert.equal(s.getActionByKey('nope'), null);
    s.close();
  });

  void it('rejects a second action with an existing idempotency key (DUPLICATE_ACTION)', () => {
    const s = Store.open(tmp());
    s.putTicket(ticket('T1'));
    s.putAction(action('A1', { idempotencyKey: 'T1:restart:api:1' }));
    assert.throws(
      () => s.putAction(action('A2', { idempotencyKey: 'T1:restart:api:1' })),
      (err: unknown) => hasCode('DUPLICATE_ACTION')(err) && /already belongs to action A1/.test(String(err)),
    );
    assert.equal(s.getAction('A2'), null);
    assert.equal(s.listActions().length, 1);
    s.close();
  });

  void it('rejects an action whose ticket is not stored (UNKNOWN_TICKET)', () => {
    const s = Store.open(tmp());
    assert.throws(() => s.putAction(action('A1', { ticketId: 'T404' })), hasCode('UNKNOWN_TICKET'));
    s.close();
  });

  void it('lists newest first with ticket and state filters', () => {
    const s = Store.open(tmp());
    s.putTicket(ticket('T1'));
    s.putTicket(ticket('T2'));
    s.putAction(action('A1', { createdAt: 100, state: 'completed' }));
    s.putAction(action('A2', { createdAt: 200, ticketId: 'T2' }));
    s.putAction(action('A10', { createdAt: 200, state: 'executing' }));
    assert.deepEqual(s.listActions().map((a) => a.id), ['A10', 'A2', 'A1']);
    assert.deepEqual(s.listActions({ ticketId: 'T1' }).map((a) => a.id), ['A10', 'A1']);
    assert.deepEqual(s.listActions({ states: ['executing', 'completed'] }).map((a) => a.id), ['A10', 'A1']);
    assert.deepEqual(s.listActions({ ticketId: 'T2', states: ['completed'] }), []);
    assert.deepEqual(s.listActions({ limit: 1 }).map((a) => a.id), ['A10']);
    s.putAction(action('A11', { createdAt: 300, ticketId: null, type: 'start' })); // a deployment
    assert.deepEqual(s.getAction('A11')?.ticketId, null);
    assert.deepEqual(s.listActions({ ticketId: null }).map((a) => a.id), ['A11']);
    s.close();
  });

  void it('counts actions that started within a window, per target and type', () => {
    const s = Store.open(tmp());
    s.putTicket(ticket('T1'));
    s.putAction(action('A1', { startedAt: 900, state: 'completed' })); // before the window
    s.putAction(action('A2', { startedAt: 1000, state: 'failed' })); // exactly at `since`: counts
    s.putAction(action('A3', { startedAt: 1500, state: 'executing' }));
    s.putAction(action('A4', { startedAt: 1600, type: 'start', state: 'completed' }));
    s.putAction(action('A5', { startedAt: null, state: 'awaiting_approval' })); // never ran
    s.putAction(action('A6', { startedAt: 1700, target: 'cache', state: 'completed' }));
    assert.equal(s.countStartedActions('api', 'restart', acrossBoots(1000)), 2);
    assert.equal(s.countStartedActions('api', '*', acrossBoots(1000)), 3);
    assert.equal(s.countStartedActions('api', '*', acrossBoots(0)), 4);
    assert.equal(s.countStartedActions('api', 'restart', acrossBoots(1501)), 0);
    assert.equal(s.countStartedActions('cache', 'restart', acrossBoots(0)), 1);
    assert.equal(s.countStartedActions('db', '*', acrossBoots(0)), 0);
    s.putAction(action('A7', { startedAt: 1800, type: 'start', state: 'completed', ticketId: null })); // a deployment
    assert.equal(s.countStartedActions('api', '*', acrossBoots(0)), 4, 'a first start is not a repair');
    s.close();
  });

  void it('within one boot, counts by the monotonic stamp of each start: a wall step changes nothing', () => {
    const clock = new SimulatedClock(undefined, 50_000);
    const t1 = clock.now();
    const s = Store.open(tmp(), { stamp: () => ({ mono: clock.mono(), boot: 'b1' }) });
    s.putTicket(ticket('T1'));
    s.putAction(action('A1', { startedAt: t1, state: 'executing' }));
    clock.advance(1000);
    s.putAction(action('A1', { startedAt: t1, state: 'completed' })); // same start: stamp kept
    clock.stepWall(-HOUR); // the next start's wall time is an hour before the first one's
    s.putAction(action('A2', { startedAt: clock.now(), state: 'completed' }));
    const window = (ms: number): WindowStart => ({ wall: clock.now() - ms, mono: clock.mono() - ms, boot: 'b1' });
    assert.equal(s.countStartedActions('api', 'restart', window(1000)), 2, 'both started within the last second');
    assert.equal(s.countStartedActions('api', 'restart', window(999)), 1, 'A1 started 1000 ms ago, on monotonic time');
    clock.stepWall(2 * HOUR);
    assert.equal(s.countStartedActions('api', 'restart', window(1000)), 2, 'a forward step empties nothing');
    clock.advance(1001);
    assert.equal(s.countStartedActions('api', 'restart', window(1000)), 0, 'they leave the window on monotonic time');
    // Another boot: monotonic values do not compare, so the wall time of each start counts.
    assert.equal(s.countStartedActions('api', 'restart', { wall: t1, mono: 0, boot: 'b2' }), 1);
    // A person's reset (a wall time) still excludes starts before it.
    assert.equal(s.countStartedActions('api', 'restart', window(10_000), t1), 1);
    s.close();
  });
});

void describe('Store: processes, exits, service states, flags', () => {
  void it('round-trips and deletes a process record', () => {
    const s = Store.open(tmp());
    const p = { service: 'api', pid: 4242, procStart: 123456, startedAt: 1000, argv: ['node', 'api.js'] };
    s.putProcess(p);
    assert.deepEqual(s.getProcess('api'), p);
    s.putProcess({ ...p, pid: 4343 });
    assert.equal(s.getProcess('api')?.pid, 4343);
    s.deleteProcess('api');
    assert.equal(s.getProcess('api'), null);
    s.close();
  });

  void it('keeps the id of the action that started a process', () => {
    const s = Store.open(tmp());
    s.putProcess({ service: 'api', pid: 4242, procStart: 1, startedAt: 1000, argv: ['node'], actionId: 'A7' });
    assert.equal(s.getProcess('api')?.actionId, 'A7');
    s.putProcess({ service: 'api', pid: 4343, procStart: 2, startedAt: 2000, argv: ['node'], actionId: null });
    assert.equal(s.getProcess('api')?.actionId, undefined, 'a process no action started carries none');
    s.close();
  });

  void it('keeps the newest 50 exits per service, newest first', () => {
    const s = Store.open(tmp());
    for (let i = 1; i <= 60; i++) s.addExit('api', { at: i * 10, code: i % 2 ? 1 : null, signal: i % 2 ? null : 'SIGKILL', uptimeMs: i });
    s.addExit('cache', { at: 5, code: 0, signal: null, uptimeMs: null });
    const exits = s.recentExits('api');
    assert.equal(exits.length, 50);
    assert.deepEqual(exits[0], { at: 600, code: null, signal: 'SIGKILL', uptimeMs: 60 });
    assert.equal(exits[49]?.at, 110);
    assert.deepEqual(s.recentExits('api', 3).map((e) => e.at), [600, 590, 580]);
    assert.deepEqual(s.recentExits('cache'), [{ at: 5, code: 0, signal: null, uptimeMs: null }]);
    const raw = new Database(s.path, { readonly: true });
    assert.deepEqual(raw.prepare('SELECT count(*) AS n FROM exits').get(), { n: 51 });
    raw.close();
    s.close();
  });

  void it('an exit Warden caused (a stop or restart) is remembered as such, and order is arrival order', () => {
    const s = Store.open(tmp());
    s.addExit('api', { at: 2000, code: null, signal: 'SIGTERM', uptimeMs: 10, byWarden: true });
    // A wall-clock step back: the next exit is stamped earlier but happened later.
    s.addExit('api', { at: 1000, code: 1, signal: null, uptimeMs: 5 });
    assert.deepEqual(s.recentExits('api'), [
      { at: 1000, code: 1, signal: null, uptimeMs: 5 },
      { at: 2000, code: null, signal: 'SIGTERM', uptimeMs: 10, byWarden: true },
    ]);
    s.close();
  });

  void it('upserts and lists service states', () => {
    const s = Store.open(tmp());
    s.putServiceState({ name: 'cache', host: 'local', health: 'healthy', since: 1, detail: 'ok' });
    s.putServiceState({ name: 'api', host: 'local', health: 'unhealthy', since: 2, detail: 'HTTP 500' });
    s.putServiceState({ name: 'api', host: 'local', health: 'healthy', since: 3, detail: 'HTTP 200' });
    assert.deepEqual(s.listServiceStates(), [
      { name: 'api', host: 'local', health: 'healthy', since: 3, detail: 'HTTP 200' },
      { name: 'cache', host: 'local', health: 'healthy', since: 1, detail: 'ok' },
    ]);
    s.deleteServiceState('cache');
    assert.deepEqual(s.listServiceStates().map((x) => x.name), ['api']);
    s.close();
  });

  void it('sets, overwrites and deletes flags', () => {
    const s = Store.open(tmp());
    assert.equal(s.getFlag('frozen'), null);
    s.setFlag('frozen', 'by alice');
    s.setFlag('frozen', 'by bob');
    assert.equal(s.getFlag('frozen'), 'by bob');
    s.setFlag('frozen', null);
    assert.equal(s.getFlag('frozen'), null);
    s.close();
  });
});

it('the reboot log gains an entry only when boot_id changes', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-boots-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const s = Store.open(dir);
  t.after(() => s.close());
  assert.deepEqual(s.recordBoot('boot-a', 1), { newBoot: true, reboot: false });
  assert.deepEqual(s.recordBoot('boot-a', 2), { newBoot: false, reboot: false }, 'a restart of Warden in the same boot');
  assert.deepEqual(s.listReboots(), []);
  assert.deepEqual(s.recordBoot('boot-b', 3), { newBoot: true, reboot: true });
  assert.deepEqual(s.recordBoot('boot-b', 4), { newBoot: false, reboot: false });
  assert.deepEqual(s.listReboots().map((r) => [r.previousBootId, r.bootId, r.at]), [['boot-a', 'boot-b', 3]]);
});
