// `warden lab fleet up|down|status` as a person runs them: the lab outlives the command that
// brings it up, answers over SSH with the keys in its own directory, and up and down are idempotent.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { WARDEN } from '../e2e/harness.js';
import { systemTestsSkipped } from './container.js';

const skip = systemTestsSkipped();

interface Run { code: number; stdout: string; stderr: string }

function warden(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(WARDEN, args, { timeout: 15 * 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

interface Status {
  up: boolean;
  lab: { id: string; identityFile: string; knownHostsFile: string; hosts: { name: string; ip: string }[] } | null;
  hosts: { name: string; reachable: boolean; bootId: string | null; unit: string | null; cut: boolean }[];
}

async function status(): Promise<Status> {
  const r = await warden(['lab', 'fleet', 'status', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Status;
}

describe('warden lab fleet', { skip, timeout: 20 * 60_000 }, () => {
  after(async () => { await warden(['lab', 'fleet', 'down']); });

  it('up brings three SSH hosts up that stay after the command, and is idempotent', async () => {
    const up = await warden(['lab', 'fleet', 'up', '--json']);
    assert.equal(up.code, 0, up.stderr);
    const lab = JSON.parse(up.stdout) as { id: string; identityFile: string; knownHostsFile: string };
    assert.ok(existsSync(lab.identityFile) && existsSync(lab.knownHostsFile), 'the key and known_hosts are in the lab directory');
    const s = await status();
    assert.equal(s.up, true);
    assert.deepEqual(s.hosts.map((h) => [h.name, h.reachable, h.unit, h.cut]), [['a', true, 'active', false], ['b', true, 'active', false], ['c', true, 'active', false]]);
    assert.equal(new Set(s.hosts.map((h) => h.bootId)).size, 3, 'three machines, three boot ids');
    const again = await warden(['lab', 'fleet', 'up']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already up/);
    assert.equal((await status()).lab?.id, lab.id, 'the same lab');
  });

  it('down removes it, and a second down is no error', async () => {
    const down = await warden(['lab', 'fleet', 'down']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /removed/);
    const s = await status();
    assert.deepEqual([s.up, s.lab], [false, null]);
    const again = await warden(['lab', 'fleet', 'down']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /no fleet lab is up/);
  });
});
