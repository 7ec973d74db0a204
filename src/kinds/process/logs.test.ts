import { mkdtempSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { followFile, readLastLines, tailLines } from './logs.js';

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

test('followFile reads the rest of a rotated file, then the new one', async (t) => {
  const dir = tmp(t);
  const f = join(dir, 'svc.log');
  writeFileSync(f, 'old\n');
  const ac = new AbortController();
  const seen: string[] = [];
  const reading = (async () => {
    for await (const line of followFile(f, { signal: ac.signal, pollMs: 5 })) {
      seen.push(line);
      if (line.endsWith('c')) ac.abort();
    }
  })();
  appendFileSync(f, 'a\n');
  // Rotation by renaming, as the collector does: the new file soon grows past the old offset.
  while (!seen.includes('a')) await new Promise((r) => setTimeout(r, 5));
  appendFileSync(f, 'b\n');
  renameSync(f, `${f}.1`);
  writeFileSync(f, 'c\n'.padStart(100, '#'));
  await reading;
  assert.deepEqual(seen, ['a', 'b', '#'.repeat(98) + 'c']);
});
