import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
