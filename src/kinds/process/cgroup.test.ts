import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../lib/clock.js';
import { readProcStat } from '../../lib/proc.js';
import { waitFor } from '../../lib/wait.js';
import { findHierarchy, ServiceCgroups, type CgroupKind } from './cgroup.js';

const node = process.execPath;
const dead = (pid: number): boolean => { const st = readProcStat(pid); return st === null || st.state === 'Z'; };

const MOUNTINFO = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '38 31 0:35 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '41 31 0:38 / /nonexistent/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const CGROUP = '8:pids:/\n6:freezer:/\n0::/\n';

test('findHierarchy: v2 first, and says why each hierarchy it passed over is unusable', () => {
  const found = findHierarchy('abc', { mountinfo: MOUNTINFO, cgroup: CGROUP });
  // The v2 mount in this fixture points at a directory that does not exist: pids is next.
  assert.equal(found.usable, true);
  assert.ok(found.usable);
  assert.equal(found.setup.kind, 'pids');
  assert.equal(found.setup.parent, '/sys/fs/cgroup/pids/warden-abc');
  const none = findHierarchy('abc', { mountinfo: MOUNTINFO.split('\n').slice(0, 1).join('\n'), cgroup: CGROUP });
  assert.equal(none.usable, false);
  assert.match(none.detail, /^no cgroup hierarchy Warden can write \(cgroup v2 is not mounted; cgroup v1 pids is not mounted; cgroup v1 freezer is not mounted\); services are stopped by process group only/);
  const missing = findHierarchy('abc', { mountinfo: MOUNTINFO, cgroup: '0::/\n', order: ['v2'] });
  assert.match(missing.detail, /cgroup v2: \/nonexistent\/unified is missing/);
});

test('findHierarchy: Warden\'s own group is the base, and a group outside the mount is refused', () => {
  const info = '41 31 0:38 /system.slice /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw';
  const found = findHierarchy('abc', { mountinfo: info, cgroup: '0::/user.slice/x\n', order: ['v2'] });
  assert.match(found.detail, /Warden's group \/user.slice\/x is outside the mount/);
});

/** The hierarchies this host lets us write (all of them when run as root on the development VM). */
function usable(): CgroupKind[] {
  return (['v2', 'pids', 'freezer'] as const).filter((k) => findHierarchy('probe', { order: [k] }).usable);
}

for (const kind of ['v2', 'pids', 'freezer'] as const) {
  test(`${kind}: a child that calls setsid() stays in the service's group and is killed with it`, async (t) => {
    if (!usable().includes(kind)) return t.skip(`no writable ${kind} hierarchy here`);
    const found = findHierarchy(`test-${process.pid}`, { order: [kind] });
    assert.ok(found.usable);
    const errors: unknown[] = [];
    const cg = new ServiceCgroups(found.setup, (e) => errors.push(e));
    t.after(() => { try { rmdirSync(found.setup.parent); } catch { /* not made, or in use */ } });
    const before = readFileSync('/proc/self/cgroup', 'utf8');
    // The shell starts a worker in a session of its own and prints its pid, as a daemon would.
    const child = cg.spawnInto('svc', () => spawn('sh', ['-c', `setsid ${node} -e "setInterval(()=>{},1000)" & echo $!; wait`], { stdio: ['ignore', 'pipe', 'ignore'], detached: true }));
    t.after(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } });
    assert.equal(readFileSync('/proc/self/cgroup', 'utf8'), before, 'Warden is back in its own group');
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const worker = await waitFor(() => Number(out.trim()) || null, 3000, 'the worker pid');
    t.after(() => { try { process.kill(worker, 'SIGKILL'); } catch { /* gone */ } });
    await waitFor(() => readProcStat(worker)?.pgrp === worker, 3000, 'the worker in a group of its own');
    assert.deepEqual(cg.members('svc').sort(), [child.pid!, worker].sort());
    // The process group is gone: only the cgroup still knows the worker.
    process.kill(-child.pid!, 'SIGKILL');
    await waitFor(() => dead(child.pid!), 3000, 'the shell gone');
    assert.equal(dead(worker), false);
    const killed = await cg.kill('svc', { stopSignal: 'SIGTERM', graceEnd: systemClock.mono() + 2000, clock: systemClock });
    assert.deepEqual(killed, [worker]);
    assert.equal(dead(worker), true);
    assert.equal(existsSync(`${found.setup.parent}/svc-svc`), false, 'the empty group removed');
    assert.deepEqual(errors, []);
    cg.remove('svc');
  });
}

test('a refused write leaves the service running in Warden\'s own group, said once', (t) => {
  const errors: unknown[] = [];
  const cg = new ServiceCgroups({ kind: 'pids', own: '/nonexistent', parent: '/proc/warden-nope' }, (e) => errors.push(e));
  const a = cg.spawnInto('a', () => spawn('true'));
  const b = cg.spawnInto('b', () => spawn('true'));
  t.after(() => { a.kill(); b.kill(); });
  assert.ok(a.pid !== undefined && b.pid !== undefined);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /cannot put a in its cgroup .*; no longer using cgroups: services are stopped by process group only/);
  assert.notEqual(cg.failure, null);
});
