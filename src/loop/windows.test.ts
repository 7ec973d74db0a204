import { test } from 'node:test';
import assert from 'node:assert/strict';
import { windowState } from './windows.js';
import type { MaintenanceWindow } from '../domain/types.js';

const w = (cron: string, durationMs: number): MaintenanceWindow => ({ name: 'w', cron, durationMs, effect: 'deny', scope: { service: '*', host: '*', group: '*', labels: {} }, timezone: 'UTC' });
const at = (iso: string): number => Date.parse(iso);

test('a window is open from each cron run for its duration, and says when it ends and next opens', () => {
  const nightly = w('0 2 * * *', 2 * 3_600_000);
  const rows: [string, boolean, string | null, string][] = [
    ['2025-01-01T01:59:59Z', false, null, '2025-01-01T02:00:00.000Z'],
    ['2025-01-01T02:00:00Z', true, '2025-01-01T04:00:00.000Z', '2025-01-02T02:00:00.000Z'],
    ['2025-01-01T03:59:59Z', true, '2025-01-01T04:00:00.000Z', '2025-01-02T02:00:00.000Z'],
    ['2025-01-01T04:00:00Z', false, null, '2025-01-02T02:00:00.000Z'],
  ];
  for (const [now, open, ends, next] of rows) {
    const s = windowState(nightly, 0, at(now));
    assert.equal(s.open, open, now);
    assert.equal(s.endsAt === null ? null : new Date(s.endsAt).toISOString(), ends, now);
    assert.equal(s.nextAt === null ? null : new Date(s.nextAt).toISOString(), next, now);
  }
});

test('overlapping runs: the window ends with the latest run', () => {
  const s = windowState(w('*/10 * * * *', 30 * 60_000), 0, at('2025-01-01T00:25:00Z'));
  assert.equal(s.open, true);
  assert.equal(new Date(s.endsAt!).toISOString(), '2025-01-01T00:50:00.000Z');
});
