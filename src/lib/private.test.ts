import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mkdirPrivate, tightenTree } from './private.js';

const modeOf = (p: string): number => statSync(p).mode & 0o777;

test('mkdirPrivate makes every directory it creates 0700, whatever the umask', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'warden-private-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const first = mkdirPrivate(join(root, 'a', 'b'));
  assert.equal(first, join(root, 'a'));
  assert.equal(modeOf(join(root, 'a', 'b')), 0o700);
  assert.equal(mkdirPrivate(join(root, 'a', 'b')), undefined, 'nothing created the second time');
});

test('tightenTree takes group and other bits off a tree, keeps the owner bits, follows no link', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'warden-private-'));
  const outside = mkdtempSync(join(tmpdir(), 'warden-outside-'));
  t.after(() => { rmSync(root, { recursive: true, force: true }); rmSync(outside, { recursive: true, force: true }); });
  mkdirSync(join(root, 'logs'), { mode: 0o755 });
  writeFileSync(join(root, 'warden.db'), '', { mode: 0o644 });
  writeFileSync(join(root, 'logs', 'web.log'), '', { mode: 0o664 });
  writeFileSync(join(root, 'run.sh'), '', { mode: 0o755 });
  writeFileSync(join(outside, 'theirs'), '', { mode: 0o644 });
  symlinkSync(join(outside, 'theirs'), join(root, 'link'));
  chmodSync(root, 0o755);
  const changed = tightenTree(root);
  assert.equal(modeOf(root), 0o700);
  assert.equal(modeOf(join(root, 'logs')), 0o700);
  assert.equal(modeOf(join(root, 'warden.db')), 0o600);
  assert.equal(modeOf(join(root, 'logs', 'web.log')), 0o600);
  assert.equal(modeOf(join(root, 'run.sh')), 0o700);
  assert.equal(modeOf(join(outside, 'theirs')), 0o644, 'a link is not followed');
  assert.ok(changed.includes(`${join(root, 'warden.db')}: 0644 → 0600`), changed.join('\n'));
  assert.deepEqual(tightenTree(root), [], 'nothing left to change');
});
