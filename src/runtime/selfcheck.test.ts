import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../config/load.js';
import { selfChecks } from './selfcheck.js';

test('doctor fails a token file or a config holding secrets that others can read, as warden run does', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-selfcheck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, `version: 1
agent: { name: otto, dataDir: ./data, api: { listen: "127.0.0.1:7070", tokenFile: ./token } }
services:
  - { name: db, start: [postgres], env: { DB_PASSWORD: x } }
`);
  writeFileSync(join(dir, 'token'), 't\n');
  chmodSync(file, 0o644);
  chmodSync(join(dir, 'token'), 0o640);
  const check = (): { status: string; detail: string } => selfChecks(loadConfig(file)).find((c) => c.check === 'secret files')!;
  const open = check();
  assert.equal(open.status, 'fail');
  assert.match(open.detail, /token is mode 0640: other users can read the API token; chmod 600 /);
  assert.match(open.detail, /holds secrets \(service db env DB_PASSWORD\) and is mode 0644/);
  chmodSync(file, 0o600);
  chmodSync(join(dir, 'token'), 0o600);
  assert.equal(check().status, 'ok');
});

test('doctor says which cgroup hierarchy holds the process services, or why none does', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cg-doctor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, `version: 1\nagent: { name: otto, dataDir: ${join(dir, 'data')} }\nservices:\n  - { name: web, kind: process, start: [sleep, "100"] }\n`);
  const check = selfChecks(loadConfig(file)).find((c) => c.check === 'service cgroups');
  assert.ok(check);
  // As root on the development VM a hierarchy is writable; elsewhere the reason is the detail.
  assert.match(check.detail, /^(cgroup v2|cgroup v1 (pids|freezer)): each service in a group of its own under \/sys\/fs\/cgroup\/.*\/warden-[0-9a-f]{12}; |^no cgroup hierarchy Warden can write \(.*\); services are stopped by process group only/);
  assert.equal(check.status, /^no cgroup/.test(check.detail) ? 'warn' : 'ok');
});
