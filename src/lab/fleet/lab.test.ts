// What keeps the fleet lab from running is said at once, with the fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fleetProblems } from './lab.js';

describe('fleetProblems', () => {
  it('says nothing on a ready machine', () => {
    assert.deepEqual(fleetProblems(0, () => true), []);
  });

  it('names root and every missing tool with the package that brings it', () => {
    const p = fleetProblems(1000, (bin) => bin !== 'systemd-nspawn' && bin !== 'ssh' && bin !== 'ssh-keygen');
    assert.equal(p.length, 2);
    assert.match(p[0] ?? '', /not running as root.*sudo/);
    assert.match(p[1] ?? '', /missing systemd-nspawn, ssh, ssh-keygen: apt-get install systemd-container openssh-client/);
  });
});
