import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatDuration, parseBytes, parseDuration } from './duration.js';

test('parseDuration reads each unit and compound forms', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('2s'), 2_000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('1d12h'), 129_600_000);
  assert.equal(parseDuration('1.5s'), 1_500);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1h2m3s4ms'), 3_723_004);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('0.5ms'), 1); // rounded to whole milliseconds
});

test('parseDuration rejects what is not a duration with a unit', () => {
  for (const bad of ['', '5', '500', 'ms', '1.s', '.5s', '-1s', '1 s', ' 1s', '1sec', '1S', '1m 30s', '1e3ms', '1w']) {
    assert.throws(() => parseDuration(bad), /invalid duration .*expected a number with a unit \(ms, s, m, h, d\)/, bad);
  }
  assert.throws(() => parseDuration(5 as unknown as string), /invalid duration 5/);
});

test('formatDuration writes what people write', () => {
  assert.equal(formatDuration(0), '0ms');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(999), '999ms');
  assert.equal(formatDuration(1_000), '1s');
  assert.equal(formatDuration(2_000), '2s');
  assert.equal(formatDuration(1_500), '1.5s');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(600_000), '10m');
  assert.equal(formatDuration(3_600_000), '1h');
  assert.equal(formatDuration(3_601_000), '1h1s');
  assert.equal(formatDuration(-250), '-250ms');
  assert.equal(formatDuration(12.4), '12ms');
});

test('formatDuration output parses back to the same milliseconds', () => {
  for (const ms of [0, 1, 250, 999, 1_000, 1_001, 1_500, 59_999, 60_000, 90_500, 3_599_999, 3_600_000, 86_400_000 + 1]) {
    assert.equal(parseDuration(formatDuration(ms)), ms, `${ms} → ${formatDuration(ms)}`);
  }
});

test('parseBytes reads plain numbers, decimal and binary units', () => {
  assert.equal(parseBytes(1_048_576), 1_048_576);
  assert.equal(parseBytes('1048576'), 1_048_576);
  assert.equal(parseBytes('10MiB'), 10 * 1024 * 1024);
  assert.equal(parseBytes('512KB'), 512_000);
  assert.equal(parseBytes('1KiB'), 1024);
  assert.equal(parseBytes('1 GiB'), 2 ** 30);
  assert.equal(parseBytes('1.5KiB'), 1536);
  assert.equal(parseBytes('100B'), 100);
  assert.equal(parseBytes(0), 0);
});

test('parseBytes rejects what is not a size', () => {
  for (const bad of ['', 'MiB', '10 M', '10mib', '-1', '1e6', 'ten']) {
    assert.throws(() => parseBytes(bad), /invalid size .*expected bytes or a number with a unit/, bad);
  }
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => parseBytes(bad), /invalid size .*whole, non-negative number of bytes/, String(bad));
  }
  assert.throws(() => parseBytes('99999999TiB'), /too large/);
});

test('formatBytes writes binary units to one decimal', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(10 * 2 ** 20), '10 MiB');
  assert.equal(formatBytes(3.25 * 2 ** 40), '3.3 TiB');
});
