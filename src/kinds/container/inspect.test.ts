import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exitBetween, parseInspect, signalOf } from './inspect.js';
import { oomLines } from './oom.js';
import { podState } from './pod.js';

// Trimmed from `podman container inspect` (Podman 4.3.1, runc, cgroup v1) of a container the
// kernel OOM-killed: exit 137, OOMKilled false (podman#13102).
const ID = 'd27eeb404f62041b3c4702ba584be94a6424a215f47811866eb2469c3aaf2c1f';
const doc = (state: object) => JSON.stringify([{
  Id: ID, Name: 'hog', ImageName: 'localhost/warden-test:x', RestartCount: 0,
  State: { Status: 'running', Running: true, OOMKilled: false, Pid: 4242, ExitCode: 0, StartedAt: '2026-11-30T05:38:09.767906789Z', FinishedAt: '0001-01-01T00:00:00Z', Health: { Status: '', FailingStreak: 0, Log: null }, ...state },
  HostConfig: { Memory: 33554432 }, Config: { Labels: { 'warden.action': 'A7' } },
}]);

void describe('podman inspect', () => {
  it('reads state, exit code, health, memory limit and the creating action', () => {
    const v = parseInspect(doc({}))!.get('hog')!;
    assert.deepEqual({ running: v.running, pid: v.pid, health: v.health, memoryLimit: v.memoryLimit, createdBy: v.createdBy, finishedAt: v.finishedAt },
      { running: true, pid: 4242, health: null, memoryLimit: 33554432, createdBy: 'A7', finishedAt: null });
    assert.equal(parseInspect('Error: no such container'), null);
  });

  it('a run that ended between two looks is one exit, its signal read from 128+N', () => {
    const before = parseInspect(doc({}))!.get('hog');
    const after = parseInspect(doc({ Status: 'exited', Running: false, Pid: 0, ExitCode: 137, FinishedAt: '2026-11-30T05:38:10.767906789Z' }))!.get('hog');
    assert.deepEqual(exitBetween(before, after, 0), { at: Date.parse('2026-11-30T05:38:10.767Z'), code: 137, signal: 'SIGKILL', uptimeMs: 1000 });
    assert.equal(exitBetween(after, after, 0), null);
    assert.equal(signalOf(1), null);
    assert.equal(signalOf(143), 'SIGTERM');
  });

  it('a restart between two looks (new StartedAt and FinishedAt) is an exit too', () => {
    const before = parseInspect(doc({}))!.get('hog');
    const after = parseInspect(doc({ ExitCode: 1, StartedAt: '2026-11-30T05:39:00Z', FinishedAt: '2026-11-30T05:38:59Z' }))!.get('hog');
    assert.equal(exitBetween(before, after, 0)?.code, 1);
  });

  it('a container created and already exited by the next look is an exit; no container is none', () => {
    const exited = parseInspect(doc({ Status: 'exited', Running: false, Pid: 0, ExitCode: 3, FinishedAt: '2026-11-30T05:38:09.867906789Z' }))!.get('hog');
    assert.deepEqual(exitBetween(undefined, exited, 0), { at: Date.parse('2026-11-30T05:38:09.867Z'), code: 3, signal: null, uptimeMs: 100 });
    assert.equal(exitBetween(exited, undefined, 0), null);
  });
});

void describe('kernel OOM log', () => {
  it('finds the oom-kill line of this container by its id, not another one', () => {
    const log = [
      `[19767.55] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=libpod-${ID},mems_allowed=0,oom_memcg=/libpod_parent/libpod-${ID},task_memcg=/libpod_parent/libpod-${ID},task=sh,pid=5479,uid=0`,
      '[19767.56] Memory cgroup out of memory: Killed process 5479 (sh) total-vm:59952kB',
    ].join('\n');
    assert.equal(oomLines(log, ID).length, 1);
    assert.equal(oomLines(log, 'f'.repeat(64)).length, 0);
  });
});

void describe('pod state', () => {
  const m = (state: string, running: boolean) => ({ name: state, state, running, exitCode: null, health: null, oomKilled: false, restarts: 0, startedAt: null });
  it('is Running, Degraded, Exited, Created or Missing from its containers', () => {
    assert.equal(podState([m('running', true), m('running', true)]), 'Running');
    assert.equal(podState([m('running', true), m('exited', false)]), 'Degraded');
    assert.equal(podState([m('exited', false)]), 'Exited');
    assert.equal(podState([m('created', false)]), 'Created');
    assert.equal(podState([m('missing', false)]), 'Missing');
  });
});
