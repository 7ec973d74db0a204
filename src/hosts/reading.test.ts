import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { clockOffset, parseReading, readingArgv } from './reading.js';

describe('host reading', () => {
  it('parses what the script prints on this machine', () => {
    const [file, ...args] = readingArgv(['/', '/proc']);
    const r = spawnSync(file!, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = parseReading(r.stdout, ['/', '/proc']);
    assert.ok(got !== null, r.stdout);
    assert.match(got.bootId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(got.load?.length, 3);
    assert.ok((got.memory?.totalKb ?? 0) > 0);
    assert.equal(got.disks?.[0]?.mount, '/');
    assert.ok((got.disks?.[0]?.usedPct ?? -1) >= 0);
  });

  it('parses a captured reading, mount points with spaces included', () => {
    const out = [
      '@boot', '0b1c2d3e-0000-4000-8000-000000000001', '@load', '0.50 0.25 0.10 1/100 42',
      '@mem', 'MemTotal:       2048000 kB', 'MemAvailable:   1024000 kB', '@clock', '1700000000123456789',
      '@df', '/dev/vda 1000 910 90 91% /', '/dev/vdb 1000 10 990 1% /srv/my data',
      '@dfi', '/dev/vda 100 50 50 50% /', '/dev/vdb - - - - /srv/my data', '',
    ].join('\n');
    const got = parseReading(out, ['/', '/srv/my data']);
    assert.deepEqual(got, {
      bootId: '0b1c2d3e-0000-4000-8000-000000000001', clockNs: 1700000000123456789n, load: [0.5, 0.25, 0.1],
      memory: { totalKb: 2048000, availableKb: 1024000 },
      disks: [{ mount: '/', usedPct: 91, inodesUsedPct: 50 }, { mount: '/srv/my data', usedPct: 1, inodesUsedPct: null }],
    });
  });

  it('refuses output without a boot id or clock (a half-read reading is no reading)', () => {
    assert.equal(parseReading('@boot\n@clock\n123\n', ['/']), null);
  });

  it('estimates the clock offset at the middle of the round trip', () => {
    assert.equal(clockOffset(1_000_500n * 1_000_000n, 1_000_000, 1_000_010), 495);
  });
});
