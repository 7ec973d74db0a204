import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLastLines, rotateFile, tailLines } from './logs.js';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-logs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('readLastLines reads the end of small and large files', (t) => {
  const dir = tmp(t);
  const f = join(dir, 'a.log');
  assert.deepEqual(readLastLines(f, 5), []);
  writeFileSync(f, 'one\ntwo\nthree\n');
  assert.deepEqual(readLastLines(f, 2), ['two', 'three']);
  assert.deepEqual(readLastLines(f, 10), ['one', 'two', 'three']);
  writeFileSync(f, 'one\ntwo\npartial');
  assert.deepEqual(readLastLines(f, 2), ['two', 'partial']);
  // Many blocks: only the end is needed.
  const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}`);
  writeFileSync(f, lines.join('\n') + '\n');
  assert.deepEqual(readLastLines(f, 3), lines.slice(-3));
  assert.deepEqual(readLastLines(f, 3000), lines.slice(-3000));
});

test('tailLines continues into the rotated file when the live one is short', (t) => {
  const dir = tmp(t);
  const f = join(dir, 'svc.log');
  writeFileSync(`${f}.1`, 'a\nb\nc\n');
  writeFileSync(f, 'd\n');
  assert.deepEqual(tailLines(f, 3, 2), ['b', 'c', 'd']);
  assert.deepEqual(tailLines(f, 1, 2), ['d']);
});

test('rotateFile shifts, copies, truncates and keeps at most `keep` files', (t) => {
  const dir = tmp(t);
  const f = join(dir, 'svc.log');
  for (let round = 1; round <= 4; round++) {
    writeFileSync(f, `round ${round}\n`.repeat(100));
    assert.equal(rotateFile(f, 50, 2), true);
    assert.equal(statSync(f).size, 0);
  }
  assert.match(readFileSync(`${f}.1`, 'utf8'), /^round 4/);
  assert.match(readFileSync(`${f}.2`, 'utf8'), /^round 3/);
  assert.equal(existsSync(`${f}.3`), false);
  assert.equal(rotateFile(f, 50, 2), false, 'small file stays');
  assert.equal(rotateFile(join(dir, 'missing.log'), 50, 2), false);
});
