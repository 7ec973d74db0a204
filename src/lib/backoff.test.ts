import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs } from './backoff.js';

const BASE = 200;
const CAP = 10_000;
const low = (): number => 0;
const high = (): number => 1 - Number.EPSILON;

void describe('backoffMs', () => {
  it('grows exponentially with the attempt: the ceiling doubles each time', () => {
    const ceilings = [1, 2, 3, 4, 5].map((n) => backoffMs(n, high));
    assert.deepEqual(ceilings, [200, 400, 800, 1600, 3200]);
    const floors = [1, 2, 3, 4, 5].map((n) => backoffMs(n, low));
    assert.deepEqual(floors, [100, 200, 400, 800, 1600]);
  });

  it('is capped, however many attempts (no overflow to Infinity or NaN)', () => {
    for (const n of [7, 8, 10, 50, 1024, 5000]) {
      assert.equal(backoffMs(n, high), CAP, `attempt ${n}`);
      assert.equal(backoffMs(n, low), CAP / 2, `attempt ${n}`);
    }
  });

  it('treats attempt 0 or less like the first attempt', () => {
    assert.equal(backoffMs(0, high), BASE);
    assert.equal(backoffMs(-3, low), BASE / 2);
  });

  it('has jitter within [ceiling/2, ceiling] for any random value', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const ceiling = Math.min(CAP, BASE * 2 ** (attempt - 1));
      for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.999]) {
        const d = backoffMs(attempt, () => r);
        assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${attempt}, random ${r}: ${d} not in [${ceiling / 2}, ${ceiling}]`);
        assert.ok(Number.isInteger(d));
      }
    }
  });

  it('actually varies with Math.random, and stays within bounds', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = backoffMs(6);
      assert.ok(d >= 3200 && d <= 6400, String(d));
      seen.add(d);
    }
    assert.ok(seen.size > 10, `jitter spreads retries (${seen.size} distinct delays)`);
  });

  it('is monotone in the attempt for a fixed random value', () => {
    let prev = 0;
    for (let n = 1; n <= 12; n++) {
      const d = backoffMs(n, () => 0.5);
      assert.ok(d >= prev);
      prev = d;
    }
  });
});
