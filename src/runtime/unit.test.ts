import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../config/load.js';
import { ROOT } from '../demo/lab.js';
import { LOAD_NOFILE } from '../lib/fdlimit.js';
import { systemdUnit, UNIT_NOFILE, watchdogSec } from './unit.js';

const cfg = parseConfig('version: 1\nagent: { name: otto, interval: 2s }\n', '/etc/warden/warden.yaml');

test('the unit restarts forever, watches the loop, and leaves watched services alone', () => {
  const u = systemdUnit(cfg, { node: process.execPath, warden: join(ROOT, 'bin', 'warden'), config: cfg.file });
  for (const line of ['Type=notify', 'Restart=always', 'StartLimitIntervalSec=0', 'KillMode=process', 'Delegate=yes', 'StateDirectory=warden', 'NoNewPrivileges=yes', 'ProtectSystem=full', 'After=network-online.target', `WatchdogSec=${watchdogSec(cfg)}s`]) {
    assert.ok(u.split('\n').includes(line), `has ${line}`);
  }
  assert.equal(watchdogSec(cfg), 20);
  assert.match(u, new RegExp(`^ExecStart=${process.execPath} .*/bin/warden --config /etc/warden/warden.yaml run$`, 'm'));
  assert.doesNotMatch(u, /^After=.*(redis|postgres|etcd)/m);
});

test('the unit keeps what Warden creates private: UMask=0077, its state directory 0700', () => {
  const lines = systemdUnit(cfg, { node: process.execPath, warden: join(ROOT, 'bin', 'warden'), config: cfg.file }).split('\n');
  assert.ok(lines.includes('UMask=0077'));
  assert.ok(lines.includes('StateDirectoryMode=0700'));
});

test('the unit\'s limits fit Warden and the services that share its cgroup', () => {
  const lines = systemdUnit(cfg, { node: process.execPath, warden: join(ROOT, 'bin', 'warden'), config: cfg.file }).split('\n');
  // Far above what Warden needs to load (LOAD_NOFILE), and what a service inheriting it may want.
  assert.ok(lines.includes(`LimitNOFILE=${UNIT_NOFILE}`));
  assert.ok(UNIT_NOFILE >= 64 * LOAD_NOFILE);
  assert.ok(lines.includes('TasksMax=infinity'), 'the services\' threads count too');
  assert.ok(lines.includes('OOMPolicy=continue'), 'an OOM-killed service does not stop Warden');
  assert.ok(!lines.some((l) => /^Memory(Max|High)=/.test(l)), 'a memory cap would be the services\' cap too');
});

test('systemd-analyze verify accepts the unit', (t) => {
  const has = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { stdio: 'ignore' }).status === 0;
  assert.ok(has, 'systemd-analyze is installed with systemd on Debian');
  const dir = mkdtempSync(join(tmpdir(), 'warden-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'warden.service');
  writeFileSync(file, systemdUnit(cfg, { node: process.execPath, warden: join(ROOT, 'bin', 'warden'), config: cfg.file }));
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');
});
