import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { PolicySource } from './policysource.js';

const GOOD = 'version: 1\nagent: { name: otto, mode: execute }\npolicy:\n  rules:\n    - allow: [restart]\n';

test('the policy is re-read when the file changes; one that does not validate blocks, saying where and why', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-policy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, GOOD);
  const base = loadConfig(file);
  const src = new PolicySource();
  assert.deepEqual(src.read(base).error, null);
  assert.deepEqual(src.read(base).config.policy.rules[0]!.allow, ['restart']);

  writeFileSync(file, GOOD.replace('[restart]', '[restart, start]'));
  assert.deepEqual(src.read(base).config.policy.rules[0]!.allow, ['restart', 'start'], 'an edit counts without a reload');

  writeFileSync(file, GOOD.replace('[restart]', '[reboot]'));
  const broken = src.read(base);
  assert.match(broken.error ?? '', /warden\.yaml:5:15: policy\.rules\[0\]\.allow\[0\]: expected one of start/);
  assert.equal(broken.config, base, 'never the edited policy, never a fall-back to allow');
});

test('out of descriptors, the policy last read stands: a shortage says nothing of the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-policy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, GOOD.replace('[restart]', '[restart, start]'));
  const base = loadConfig(file);
  let emfile = false;
  const src = new PolicySource((f) => {
    if (emfile) throw Object.assign(new Error(`EMFILE: too many open files, open '${f}'`), { code: 'EMFILE' });
    return readFileSync(f);
  });
  emfile = true;
  assert.deepEqual(src.read(base), { config: base, error: null }, 'before any read: the policy the config was loaded with');
  emfile = false;
  writeFileSync(file, GOOD);
  assert.deepEqual(src.read(base).config.policy.rules[0]!.allow, ['restart']);
  emfile = true;
  const short = src.read(base);
  assert.equal(short.error, null);
  assert.deepEqual(short.config.policy.rules[0]!.allow, ['restart'], 'the last read, not the config loaded at start');
  emfile = false;
  rmSync(file);
  assert.match(src.read(base).error ?? '', /cannot read .*ENOENT/, 'a file gone is no shortage: nothing acts');
});
