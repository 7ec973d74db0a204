// Wall-clock steps (NTP, `date -s`) during a verification, a rate-limit window and a reopen window
// change nothing measurable: each scenario runs without a step and with a step of ±1 h, and the
// outcomes and their timing on monotonic time are the same.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Driver, dead, makeConfig, running, type ConfigOptions, type ServiceView } from '../testing/domain.js';

const HOUR = 3_600_000;
const STEPS = [HOUR, -HOUR];
const pending: ServiceView = { process: running(), checks: 'pending' };

function driver(opts: ConfigOptions = {}): Driver {
  return new Driver(makeConfig(opts));
}

/** What a scenario yields: the ticket's fate and when it came, in monotonic ms from the start. */
interface Outcome {
  atMs: number;
  ticket: string;
  status: string;
  reason: string | null;
  actions: number;
}

function outcome(d: Driver, startMono: number, id: string): Outcome {
  const t = d.ticket(id);
  return { atMs: d.mono - startMono, ticket: t.id, status: t.status, reason: t.reason, actions: d.actions.size };
}

/** Passes every `everyMs` until the ticket leaves `status` (or `maxMs` of monotonic time passes). */
function passWhile(d: Driver, id: string, status: string, everyMs: number, maxMs: number, views = {}): void {
  for (let ms = 0; ms < maxMs && d.ticket(id).status === status; ms += everyMs) d.advance(everyMs).pass(views);
}

const label = (step: number): string => `${step > 0 ? '+' : '-'}1h`;

/** cache dies, is restarted and stays healthy past the stable period: ticket `id` resolves. */
function repairCache(d: Driver, id: string): void {
  d.pass({ cache: dead() });
  d.executeAll();
  d.advance(10).pass();
  d.advance(10).pass();
  d.advance(500).pass();
  assert.equal(d.ticket(id).status, 'resolved');
}

void describe('decide on monotonic time: a verification', () => {
  /** Kill, restart, healthy: the wall clock steps `step` once stability has started. */
  function stable(step: number): Outcome {
    const d = driver();
    const start = d.mono;
    d.pass({ cache: dead() });
    d.executeAll();
    d.advance(10).pass(); // remediating → verifying
    d.advance(10).pass(); // healthy: stability starts
    assert.equal(d.onlyTicket().verificationMono?.healthySince, d.mono);
    d.stepWall(step);
    passWhile(d, 'T1', 'verifying', 50, 10_000);
    return outcome(d, start, 'T1');
  }

  for (const step of STEPS) {
    it(`a wall step of ${label(step)} during the stable period neither resolves it early nor stalls it`, () => {
      const expected = stable(0);
      assert.deepEqual(expected, { atMs: 520, ticket: 'T1', status: 'resolved', reason: 'healthy for 500 ms after repair', actions: 1 });
      assert.deepEqual(stable(step), expected);
    });
  }

  /** Kill, restart, the service never turns healthy: escalated at the deadline. */
  function deadline(step: number): Outcome {
    const d = driver();
    const start = d.mono;
    d.pass({ cache: dead() });
    d.executeAll();
    d.advance(10).pass({ cache: pending }); // verifying, deadline in 30 s
    d.advance(5_000).pass({ cache: pending });
    d.stepWall(step);
    passWhile(d, 'T1', 'verifying', 1_000, 2 * HOUR, { cache: pending });
    return outcome(d, start, 'T1');
  }

  for (const step of STEPS) {
    it(`a wall step of ${label(step)} moves the verification deadline neither in nor out`, () => {
      const expected = deadline(0);
      assert.equal(expected.status, 'escalated');
      assert.equal(expected.atMs, 31_010);
      assert.match(expected.reason ?? '', /^cache not healthy within 30000 ms after repair/);
      assert.deepEqual(deadline(step), expected);
    });
  }

  it('after a reboot the verification window starts again instead of comparing across boots', () => {
    const d = driver();
    d.pass({ cache: dead() });
    d.executeAll();
    d.advance(10).pass(); // verifying
    d.advance(10).pass(); // stability starts
    d.reboot(60_000); // a new boot: monotonic time restarts (it is smaller now)
    const booted = { cache: running({ startedAt: d.now - 5_000, startedMono: d.mono - 5_000 }) };
    d.pass(booted);
    const t = d.onlyTicket();
    assert.equal(t.status, 'verifying', 'the old boot\'s stability does not count');
    assert.equal(t.verificationMono?.boot, 'boot-2');
    const since = d.mono;
    passWhile(d, 'T1', 'verifying', 50, 10_000, booted);
    assert.equal(d.onlyTicket().status, 'resolved');
    assert.equal(d.mono - since, 500, 'the stable period, counted from the first healthy pass of this boot');
  });
});

void describe('decide on monotonic time: a rate-limit window', () => {
  /** One restart allowed per 10 m; a short reopen window, so a second failure is a new ticket. */
  function secondFailure(afterMs: number, step: number): Outcome {
    const d = driver({ limits: [{ action: 'restart', per: 'service', max: 1, windowMs: 600_000 }], agent: { reopenWindowMs: 1_000 } });
    const start = d.mono;
    repairCache(d, 'T1');
    d.advance(afterMs);
    d.stepWall(step);
    d.pass({ cache: dead() });
    return outcome(d, start, 'T2');
  }

  for (const step of STEPS) {
    it(`a wall step of ${label(step)} neither empties the window (forward) nor extends it (backward)`, () => {
      const within = secondFailure(60_000, 0);
      assert.deepEqual([within.status, within.reason, within.actions],
        ['escalated', 'limit reached: restart at most 1 per 10m on cache (1 used); leaving cache alone', 1]);
      assert.deepEqual(secondFailure(60_000, step), within);

      const after = secondFailure(600_000, 0);
      assert.deepEqual([after.status, after.reason, after.actions], ['remediating', 'restart cache', 2]);
      assert.deepEqual(secondFailure(600_000, step), after);
    });
  }

  it('a person\'s reset of the count holds across a wall step back: repairs after it still count', () => {
    const d = driver({ limits: [{ action: 'restart', per: 'service', max: 1, windowMs: 600_000 }], agent: { reopenWindowMs: 1_000 } });
    repairCache(d, 'T1');
    d.advance(5_000);
    d.limitResets.cache = { wall: d.now, mono: d.mono, boot: d.boot };
    d.stepWall(-3_600_000);
    d.advance(5_000);
    repairCache(d, 'T2'); // allowed: the earlier restart was before the reset
    d.advance(5_000).pass({ cache: dead() });
    assert.equal(d.ticket('T3').status, 'escalated', 'the restart after the reset counts, whatever the wall clock says');
  });

  it('across a reboot the window counts on wall time', () => {
    const d = driver({ limits: [{ action: 'restart', per: 'service', max: 1, windowMs: 600_000 }], agent: { reopenWindowMs: 1_000 } });
    d.pass({ cache: dead() });
    d.executeAll();
    d.advance(10).pass();
    d.advance(10).pass();
    d.advance(500).pass();
    d.reboot(60_000);
    d.pass({ cache: dead() });
    assert.equal(d.ticket('T2').status, 'escalated', 'the restart a minute ago (wall time) still counts');
  });
});

void describe('decide on monotonic time: the reopen window', () => {
  /** Repaired, then the same problem again `afterMs` later (monotonic), with a wall step between. */
  function comeback(afterMs: number, step: number): Outcome {
    const d = driver();
    const start = d.mono;
    repairCache(d, 'T1');
    d.advance(afterMs);
    d.stepWall(step);
    d.pass({ cache: dead() });
    const open = [...d.tickets.values()].find((t) => t.status !== 'resolved');
    assert.ok(open);
    return { ...outcome(d, start, open.id), reason: `occurrences ${open.occurrences}` };
  }

  for (const step of STEPS) {
    it(`a wall step of ${label(step)} neither closes the window early nor keeps it open late`, () => {
      const within = comeback(60_000, 0);
      assert.deepEqual([within.ticket, within.reason], ['T1', 'occurrences 2']);
      assert.deepEqual(comeback(60_000, step), within);

      const after = comeback(600_001, 0);
      assert.deepEqual([after.ticket, after.reason], ['T2', 'occurrences 1']);
      assert.deepEqual(comeback(600_001, step), after);
    });
  }
});

void describe('decide on monotonic time: the crash-loop window', () => {
  for (const step of STEPS) {
    it(`a wall step of ${label(step)} neither hides a crash loop nor makes one`, () => {
      const verdict = (spacingMs: number): string => {
        const d = driver();
        // Three exits, `spacingMs` apart on both clocks, the last one just now.
        const exits = [0, 1, 2].map((i) => ({
          at: d.now - i * spacingMs, code: 1, signal: null, uptimeMs: 50, stamp: { mono: d.mono - i * spacingMs, boot: d.boot },
        }));
        d.stepWall(step);
        d.pass({ cache: dead(exits) });
        return d.onlyTicket().cause ?? 'none';
      };
      assert.equal(verdict(1_000), 'crash_loop', 'three exits within 60 s');
      assert.equal(verdict(40_000), 'process_exited', 'three exits over 80 s');
    });
  }
});
