// Repairs wait their turn: restart backoff per service (first restart immediate, then doubling to a
// cap, reset after a period of health) and the start period (a slow start is not a failure, but a
// service that has passed its checks is never hidden by it). Simulated monotonic time throughout.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff.js';
import { Driver, checkState, dead, exitAt, makeConfig, running, type ConfigOptions } from '../testing/domain.js';
import type { CheckState, RestartBackoff } from './types.js';

const BACKOFF: RestartBackoff = { initialMs: 1_000, maxMs: 4_000, resetAfterMs: 60_000 };
const MANY = [{ action: 'restart' as const, per: 'service' as const, max: 100, windowMs: 600_000 }];

function driver(o: ConfigOptions = {}): Driver {
  return new Driver(makeConfig({ limits: MANY, override: { cache: { restartBackoff: BACKOFF } }, ...o }));
}

/** The restarted cache runs a moment (verifying), then dies again: the repair did not hold. */
function crashAgain(d: Driver): void {
  d.advance(10).pass({ cache: running({ startedAt: d.now, startedMono: d.mono }) });
  d.advance(10).pass({ cache: dead([exitAt(d.now, { code: 1 })]) });
}

/** Passes every 100 ms while cache stays dead until a restart is due; runs it. Returns its monotonic start. */
function runWhenDue(d: Driver): number {
  while (d.lastPass().execute.length === 0) d.advance(100).pass({ cache: dead([exitAt(d.now, { code: 1 })]) });
  d.executeAll();
  return d.mono;
}

void describe('restart backoff', () => {
  it('delays double from the second restart on, up to the cap', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(BACKOFF, n)), [0, 1_000, 2_000, 4_000, 4_000, 4_000]);
  });

  it('a crash loop: the first restart is immediate, the next ones are spaced by the backoff and its cap', () => {
    const d = driver();
    const first = d.pass({ cache: dead() });
    assert.deepEqual(first.execute, ['A1'], 'the first restart of an incident waits for nothing');
    d.executeAll();
    const starts = [d.mono];
    for (let i = 0; i < 4; i++) {
      crashAgain(d);
      starts.push(runWhenDue(d));
    }
    // Each restart is proposed 20 ms after the previous one started and runs at the first 100 ms
    // pass after its delay: the spacing is the delay plus those 20 ms, never less than the delay.
    const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
    assert.deepEqual(gaps, [1_020, 2_020, 4_020, 4_020]);
    assert.equal(d.onlyTicket().failedRepairs, 4);
  });

  it('the wait is on the ticket and in the report, and persisted on the action', () => {
    const d = driver();
    d.pass({ cache: dead() });
    d.executeAll();
    crashAgain(d);
    runWhenDue(d);
    crashAgain(d);
    const t = d.onlyTicket();
    assert.equal(t.status, 'remediating');
    assert.equal(t.reason, 'waiting 2 s before restart 3 (backoff)');
    const a = d.action(t.actionIds.at(-1)!);
    assert.equal(a.state, 'validated');
    assert.equal(a.notBeforeMono?.mono, d.mono - 20 + 2_000, 'due 2 s after the previous restart started');
    const rec = d.lastPass().report.recommendations.find((r) => r.target === 'cache');
    assert.match(rec?.reason ?? '', /waiting 2 s before restart 3 \(backoff\)$/);
    // Still waiting on the next pass: still said.
    const again = d.advance(100).pass({ cache: dead([exitAt(d.now, { code: 1 })]) });
    assert.deepEqual(again.execute, []);
    assert.match(again.report.recommendations.find((r) => r.target === 'cache')?.reason ?? '', /\(backoff\)$/);
    // Once due, the reason says what runs.
    runWhenDue(d);
    assert.equal(d.onlyTicket().reason, 'restart cache');
  });

  it('a failure long after the last restart is repaired at once', () => {
    const soon = driver();
    soon.pass({ cache: dead() });
    soon.executeAll();
    soon.advance(10).pass();
    soon.advance(10).pass();
    soon.advance(500).pass();
    assert.equal(soon.onlyTicket().status, 'resolved');
    const back = soon.advance(10).pass({ cache: dead([exitAt(soon.now, { code: 1 })]) });
    assert.deepEqual(back.execute, [], 'half a second after the last restart: the second one waits its 1 s');
    assert.equal(soon.onlyTicket().reason, 'waiting 1 s before restart 2 (backoff)');

    const late = driver();
    late.pass({ cache: dead() });
    late.executeAll();
    late.advance(10).pass();
    late.advance(10).pass();
    late.advance(500).pass();
    const reopened = late.advance(BACKOFF.resetAfterMs).pass({ cache: dead([exitAt(late.now, { code: 1 })]) });
    assert.equal(late.onlyTicket().occurrences, 2, 'the same ticket, reopened');
    assert.equal(reopened.execute.length, 1, 'a new streak: immediate');
  });

  it('a period of health ends the streak; time without health does not', () => {
    /** A streak of `n` restarts, each one failing again at once (four reach the cap). */
    function streak(n: number): Driver {
      const d = driver();
      d.pass({ cache: dead() });
      d.executeAll();
      for (let i = 1; i < n; i++) {
        crashAgain(d);
        runWhenDue(d);
      }
      return d;
    }
    /** cache dies again; the restart runs; it dies once more: what does the next restart wait? */
    function nextWait(d: Driver): string | null {
      d.advance(10).pass({ cache: dead([exitAt(d.now, { code: 1 })]) });
      runWhenDue(d);
      crashAgain(d);
      return d.onlyTicket().reason;
    }

    // Healthy for resetAfter, seen by passes on the way (the daemon passes at least every resync).
    const healthy = streak(4);
    const up = { startedAt: healthy.now, startedMono: healthy.mono };
    const passing = [checkState('tcp#0', 'healthy', up.startedAt + 50)];
    for (let t = 0; t <= BACKOFF.resetAfterMs; t += 10_000) healthy.advance(10_000).pass({ cache: { process: running(up), checks: passing } });
    assert.equal(healthy.onlyTicket().status, 'resolved');
    assert.equal(nextWait(healthy), 'waiting 1 s before restart 2 (backoff)', 'a new streak');

    // As long, but never healthy (dead, the kill switch on): the streak goes on where it was.
    const never = streak(2);
    never.frozen = true;
    for (let t = 0; t <= BACKOFF.resetAfterMs; t += 10_000) never.advance(10_000).pass({ cache: dead([exitAt(never.now, { code: 1 })]) });
    never.frozen = false;
    runWhenDue(never);
    crashAgain(never);
    assert.equal(never.onlyTicket().reason, 'waiting 4 s before restart 4 (backoff)');
  });

  it('recovering while the restart waits cancels it; the service is verified, not restarted', () => {
    const d = driver();
    d.pass({ cache: dead() });
    d.executeAll();
    crashAgain(d);
    const waiting = d.action(d.onlyTicket().actionIds.at(-1)!);
    assert.equal(waiting.state, 'validated');
    d.advance(100).pass({ cache: running({ startedAt: d.now, startedMono: d.mono }) });
    assert.equal(d.action(waiting.id).state, 'cancelled');
    assert.equal(d.onlyTicket().status, 'verifying', 'back by itself: verified like a repair');
    d.advance(10).pass();
    d.advance(500).pass();
    assert.equal(d.onlyTicket().status, 'resolved');
  });

  it('services without a backoff restart at once, as before', () => {
    const d = new Driver(makeConfig({ limits: MANY }));
    d.pass({ cache: dead() });
    d.executeAll();
    crashAgain(d);
    assert.equal(d.lastPass().execute.length, 1);
  });
});

void describe('start period', () => {
  const PERIOD = 5_000;

  /** cache started at `startMono`; its tcp check last ran at `lastMono` (failing unless `ok`), passed last at `okMono`. */
  function view(d: Driver, startMono: number, lastMono: number, o: { ok?: boolean; okMono?: number } = {}) {
    const c: CheckState = checkState('tcp#0', o.ok ? 'healthy' : 'failing', d.now, 'tcp', lastMono);
    if (o.okMono !== undefined) c.okMono = o.okMono;
    return { cache: { process: running({ startedAt: d.now - (d.mono - startMono), startedMono: startMono }), checks: [c] } };
  }

  function driverWith(periodMs: number): Driver {
    return new Driver(makeConfig({ override: { cache: { startPeriodMs: periodMs } } }));
  }

  it('failures inside it do not count: no ticket, the service is starting', () => {
    const d = driverWith(PERIOD);
    const start = d.mono;
    d.advance(3_000);
    const out = d.pass(view(d, start, d.mono));
    assert.equal(d.tickets.size, 0);
    assert.equal(out.detection.health.cache?.health, 'unknown');
    assert.match(out.detection.health.cache?.reason ?? '', /^starting: check tcp#0 not passing yet within the start period/);
  });

  it('without one, the same failure is a problem', () => {
    const d = driverWith(0);
    const start = d.mono;
    d.advance(3_000);
    d.pass(view(d, start, d.mono));
    assert.equal(d.onlyTicket().service, 'cache');
  });

  it('healthy as soon as the checks pass, inside the period', () => {
    const d = driverWith(PERIOD);
    const start = d.mono;
    d.advance(3_000);
    const out = d.pass(view(d, start, d.mono, { ok: true, okMono: d.mono }));
    assert.equal(out.detection.health.cache?.health, 'healthy');
  });

  it('a failure after the first success counts, even inside the period', () => {
    const d = driverWith(PERIOD);
    const start = d.mono;
    d.advance(4_000);
    const out = d.pass(view(d, start, d.mono, { okMono: start + 3_000 }));
    assert.equal(out.detection.health.cache?.health, 'unhealthy');
    assert.equal(d.onlyTicket().service, 'cache');
  });

  it('a check still failing when the period ends counts', () => {
    const d = driverWith(PERIOD);
    const start = d.mono;
    d.advance(PERIOD);
    d.pass(view(d, start, d.mono));
    assert.equal(d.onlyTicket().service, 'cache');
  });
});
