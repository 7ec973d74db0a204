import assert from 'node:assert/strict';
import { test } from 'node:test';
import { T0 } from '../testing/domain.js';
import { WardenError } from '../lib/errors.js';
import { apiStatus, progressVerdict } from '../runtime/diagnostics.js';
import { WardenMetrics } from '../runtime/metrics.js';
import { makeFixture } from '../runtime/testing.js';
import { SimulatedClock } from '../testing/clock.js';
import { damaged } from '../store/integrity.js';
import { describeFailure, SelfHealth, type SelfEvent } from './self.js';

/** What better-sqlite3 throws when the disk is full. */
function sqliteFull(): Error {
  return Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
}

function tracker(): { self: SelfHealth; clock: SimulatedClock; events: SelfEvent[]; lines: string[]; metrics: WardenMetrics } {
  const clock = new SimulatedClock(T0);
  const events: SelfEvent[] = [];
  const lines: string[] = [];
  const metrics = new WardenMetrics({ defaultMetrics: false });
  const self = new SelfHealth({ clock, onChange: (e) => events.push(e), onFailure: () => metrics.passFailed(), log: (l) => lines.push(l) });
  return { self, clock, events, lines, metrics };
}

test('one degraded event per incident, one recovered event when passes succeed again', async () => {
  const { self, clock, events, lines, metrics } = tracker();
  self.passSucceeded();
  assert.equal(self.problem, null);
  assert.equal(events.length, 0, 'success while healthy says nothing');

  for (let i = 1; i <= 5; i++) { self.passFailed(i, sqliteFull()); clock.advance(1000); }
  assert.deepEqual(events.map((e) => e.kind), ['agent.degraded'], 'five failed passes, one notification');
  assert.equal(events[0]!.data.code, 'SQLITE_FULL');
  assert.match(events[0]!.data.reason, /database or disk is full.*filesystem is full: free space there/);
  assert.deepEqual({ ...self.problem!, reason: '' }, { since: T0, failures: 5, code: 'SQLITE_FULL', reason: '' });
  assert.equal(lines.length, 1, 'the same reason is logged once');
  self.passFailed(6, new Error('boom'));
  assert.equal(self.problem!.code, 'INTERNAL');
  assert.equal(lines.length, 2, 'a new reason is logged');
  assert.match(await metrics.text(), /^warden_pass_failures_total 6$/m);

  clock.stepWall(-3_600_000);
  self.passSucceeded();
  self.passSucceeded();
  assert.equal(self.problem, null);
  assert.deepEqual(events.map((e) => e.kind), ['agent.degraded', 'agent.recovered']);
  const rec = events[1]!;
  assert.ok(rec.kind === 'agent.recovered');
  assert.equal(rec.data.failures, 6);
  assert.equal(rec.data.failingMs, 5000, 'measured on the monotonic clock: the wall-clock step does not count');

  self.passFailed(7, sqliteFull());
  assert.deepEqual(events.map((e) => e.kind), ['agent.degraded', 'agent.recovered', 'agent.degraded'], 'a new incident is told again');
  assert.equal(self.problem!.failures, 1);
});

test('failure text: a stable code, what to do, and no stack unless WARDEN_DEBUG', () => {
  const saved = process.env.WARDEN_DEBUG;
  delete process.env.WARDEN_DEBUG;
  try {
    assert.deepEqual(describeFailure(new WardenError('LOCK_HELD', 'held by 42')), { code: 'LOCK_HELD', reason: 'LOCK_HELD: held by 42' });
    const io = describeFailure(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }), 'start');
    assert.match(io.reason, /^SQLITE_IOERR_WRITE: disk I\/O error \(the store's disk fails: check the kernel log; then start Warden again\)$/);
    assert.doesNotMatch(describeFailure(new TypeError('x is undefined')).reason, /\n/, 'one line');
    process.env.WARDEN_DEBUG = '1';
    assert.match(describeFailure(new TypeError('x is undefined')).reason, /\n\s+at /);
  } finally {
    if (saved === undefined) delete process.env.WARDEN_DEBUG; else process.env.WARDEN_DEBUG = saved;
  }
});

test('healthz verdict and status say so while passes fail, although the last pass is recent', (t) => {
  const failing = { since: T0, failures: 3, reason: 'SQLITE_FULL: database or disk is full' };
  assert.equal(progressVerdict(true, T0 + 900, T0 + 1000, 1000).ok, true);
  assert.deepEqual(progressVerdict(true, T0 + 900, T0 + 1000, 1000, failing), {
    ok: false, reason: 'reconcile passes fail since 2025-01-01T00:00:00.000Z (3 in a row): SQLITE_FULL: database or disk is full',
  });

  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const live = apiStatus({ config: fx.config, store: fx.store, now: T0 + 1000, live: { pid: process.pid, lastPassAt: T0 + 900, summary: 'nominal', failing } });
  assert.deepEqual(live.daemon.stale, { since: '2025-01-01T00:00:00.000Z', reason: progressVerdict(true, 0, 0, 1, failing).reason });
  const ok = apiStatus({ config: fx.config, store: fx.store, now: T0 + 1000, live: { pid: process.pid, lastPassAt: T0 + 900, summary: 'nominal', failing: null } });
  assert.equal('stale' in ok.daemon, false);

  // Without the API: the lock's holder is alive but its heartbeat is old, so its passes fail.
  fx.store.setFlag('daemon', JSON.stringify({ pid: 4242, lastPassAt: T0, summary: 'nominal', mode: 'execute' }));
  const held = apiStatus({ config: fx.config, store: fx.store, now: T0 + 60_000, holder: { pid: 4242 } });
  assert.equal(held.daemon.running, true);
  assert.equal(held.daemon.pid, 4242);
  assert.match(held.daemon.stale?.reason ?? '', /pid 4242.*no completed pass for 60 s/);
  const fresh = apiStatus({ config: fx.config, store: fx.store, now: T0 + 500, holder: { pid: 4242 } });
  assert.deepEqual(fresh.daemon, { running: true, pid: 4242, lastPassAt: '2025-01-01T00:00:00.000Z' });
  const down = apiStatus({ config: fx.config, store: fx.store, now: T0 + 500, holder: null });
  assert.equal(down.daemon.running, false, 'no holder: down, whatever the flag says');
});

/** What better-sqlite3 throws when a page it reads is garbage. */
function sqliteCorrupt(): Error {
  return Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });
}

test('store damage latches: one sentence, one notification, acting stopped, no recovery until a restart', () => {
  const clock = new SimulatedClock(T0);
  const events: SelfEvent[] = [];
  const lines: string[] = [];
  const latched: string[] = [];
  const metrics = new WardenMetrics({ defaultMetrics: false });
  const self = new SelfHealth({
    clock, onChange: (e) => events.push(e), onFailure: () => metrics.passFailed(), log: (l) => lines.push(l),
    storeFile: '/var/lib/warden/warden.db', onLatched: (_d, text) => { latched.push(text); metrics.setStoreDamaged(true); },
  });
  self.passFailed(1, sqliteFull());
  clock.advance(1000);
  self.passFailed(2, sqliteCorrupt());
  const sentence = 'store damaged: /var/lib/warden/warden.db: is corrupt (SQLITE_CORRUPT: database disk image is malformed); acting stopped; restore a backup or run warden store recover';
  assert.equal(self.damage?.text, sentence);
  assert.equal(self.damage?.since, T0 + 1000);
  assert.deepEqual(events.map((e) => [e.kind, e.data.code]), [['agent.degraded', 'SQLITE_FULL'], ['agent.degraded', 'STORE_DAMAGED']]);
  assert.equal(events[1]!.summary, sentence);
  assert.equal(events[1]!.data.reason, sentence);
  assert.equal(self.problem, null, 'the failing-passes incident under way ends in the latch');

  // Nothing unlatches it: passes that succeed (observing), more damage, time.
  self.passFailed(3, sqliteCorrupt());
  self.passSucceeded();
  self.storeDamaged({ file: '/var/lib/warden/warden.db-wal', what: 'does not belong' });
  clock.advance(3_600_000);
  self.passSucceeded();
  assert.equal(self.damage?.text, sentence, 'the first damage found is the one told');
  assert.equal(events.length, 2, 'no second notification, no agent.recovered');
  assert.deepEqual(latched, [sentence]);
  assert.equal(lines.filter((l) => l.includes(sentence)).length, 1, 'the log says it once');

  // A pass failing for another reason while latched is logged once per reason, not notified.
  self.passFailed(4, new Error('boom'));
  self.passFailed(5, new Error('boom'));
  assert.equal(lines.filter((l) => l.includes('boom')).length, 1);
  assert.equal(events.length, 2);
  assert.equal(self.problem, null);
  return metrics.text().then((text) => {
    assert.match(text, /^warden_store_damaged 1$/m);
    assert.match(text, /^warden_pass_failures_total 5$/m);
  });
});

test('the store\'s own damaged-store error latches with the file it names; other errors do not latch', () => {
  const clock = new SimulatedClock(T0);
  const events: SelfEvent[] = [];
  const self = new SelfHealth({ clock, onChange: (e) => events.push(e), log: () => undefined, storeFile: '/d/warden.db' });
  self.passFailed(1, new WardenError('INTERNAL', 'a bug'));
  self.passFailed(2, sqliteFull());
  const latched = (): string | null => self.damage?.text ?? null;
  assert.equal(latched(), null);
  self.passFailed(3, damaged('/d/warden.db-wal', 'does not belong to /d/warden.db'));
  assert.equal(latched(), 'store damaged: /d/warden.db-wal: does not belong to /d/warden.db; acting stopped; restore a backup or run warden store recover');
  assert.equal(events.at(-1)!.data.code, 'STORE_DAMAGED');
});

test('healthz, status and debug say the sentence while the watchdog keeps pinging', (t) => {
  const reason = 'store damaged: /d/warden.db: is corrupt (SQLITE_CORRUPT: x); acting stopped; restore a backup or run warden store recover';
  assert.deepEqual(progressVerdict(true, T0 + 900, T0 + 1000, 1000, null, reason), { ok: false, reason });
  assert.equal(progressVerdict(true, T0 + 900, T0 + 1000, 1000).ok, true, 'the watchdog\'s verdict leaves damage out: observing goes on');

  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const damagedJson = { since: '2025-01-01T00:00:01.000Z', reason };
  const live = apiStatus({ config: fx.config, store: fx.store, now: T0 + 1000, live: { pid: process.pid, lastPassAt: T0 + 900, summary: 'degraded', failing: null }, damaged: damagedJson });
  assert.deepEqual(live.daemon.storeDamaged, damagedJson);
  assert.equal(live.daemon.running, true);
  assert.equal('stale' in live.daemon, false, 'health is current: not stale');
  // Without the API: the lock's holder wrote the note, and its heartbeat stopped with the damage.
  const held = apiStatus({ config: fx.config, store: null, now: T0 + 60_000, holder: { pid: 4242 }, damaged: damagedJson });
  assert.deepEqual(held.daemon, { running: true, pid: 4242, lastPassAt: null, storeDamaged: damagedJson });
});
