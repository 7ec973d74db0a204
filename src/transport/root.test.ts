// asRoot's script, run by a real sh: the argv arrives word for word (as root, without sudo).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { asRoot, sudoRefused } from './root.js';

test('the argv runs word for word; as root without sudo', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  const [file, ...args] = asRoot(['sh', '-c', 'printf "%s|" "$@"; id -u', 'sh', "it's", 'a b', '$HOME']);
  const r = spawnSync(file!, args, { encoding: 'utf8' });
  assert.equal(r.stdout, "it's|a b|$HOME|0\n");
});

test("sudo's refusals are told from a command's own failure", () => {
  assert.equal(sudoRefused('sudo: a password is required\n'), true);
  assert.equal(sudoRefused('Sorry, user warden is not allowed to execute \'/usr/bin/systemctl reboot\' as root on b.\n'), true);
  assert.equal(sudoRefused('sh: 1: exec: sudo: not found\n'), true);
  assert.equal(sudoRefused('Failed to reboot system via logind: Access denied'), false);
});
