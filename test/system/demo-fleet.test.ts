// `warden demo fleet` as a person runs it: three SSH hosts in nspawn containers, a unit killed, a
// host powered off, a partition; it exits 0 only if all three were handled, and prints its table.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { WARDEN } from '../e2e/harness.js';
import { systemTestsSkipped } from './container.js';

describe('warden demo fleet', { skip: systemTestsSkipped(), timeout: 15 * 60_000 }, () => {
  it('handles the three faults and prints a row for each', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(WARDEN, ['demo', 'fleet'], { timeout: 14 * 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
    assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr}`);
    // The table follows the log (whose lines start with "  │"): its header, a rule, a row per fault.
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => /^fault +│ detect +│ root cause +│ action +│ recovered +│ outcome/.test(l));
    assert.ok(head >= 0, `no table in:\n${r.stdout.slice(-2000)}`);
    const body = lines.slice(head + 2, head + 5).map((l) => l.split(' │ ').map((c) => c.trim()));
    assert.deepEqual(body.map((c) => [c[2], c[3], c[5]]), [
      ['work-b: process_exited', 'restart work-b', 'ok: resolved'],
      ['c: node_offline', 'none', 'ok: resolved'],
      ['b: network_partition', 'none', 'ok: resolved'],
    ]);
    assert.match(r.stdout, /3\/3 faults handled as expected/);
  });
});
