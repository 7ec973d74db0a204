// The etcd subject's guard and actions against a real cluster: three etcd 3.4 members in network
// namespaces (lab.ts). The guard asks the cluster live; each action is run as the executor runs it,
// with a driver that really spawns the member's argv. Needs root, iproute2 and etcd-server;
// WARDEN_SKIP_ETCD=1 skips it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ActionContext } from '../../actions/catalog.js';
import type { Action, ActionType, ProcessServiceSpec, SubjectSpec } from '../../domain/types.js';
import type { ServiceDriver } from '../../kinds/driver.js';
import { isAlive, readProcStat } from '../../lib/proc.js';
import { waitFor } from '../../lib/wait.js';
import { service } from '../../testing/domain.js';
import { etcdActions, flagValue, joiningArgv } from './actions.js';
import { fillQuota } from './chaos.js';
import { guard } from './guard.js';
import type { MemberActionContext } from '../subject.js';
import { EtcdLab } from './lab.js';
import { killAndWait } from './labnet.js';

const skip = process.env.WARDEN_SKIP_ETCD === '1' ? 'WARDEN_SKIP_ETCD=1 is set' : false;
const QUOTA = 4 * 1024 * 1024;

/** A driver that runs a member's argv itself, as the process kind would: real processes. */
class SpawningDriver implements Pick<ServiceDriver, 'state' | 'start' | 'stop'> {
  readonly procs = new Map<string, { pid: number; start: number; actionId: string | null }>();
  state(spec: ProcessServiceSpec): ReturnType<ServiceDriver['state']> {
    const p = this.procs.get(spec.name);
    const running = p !== undefined && isAlive(p.pid, p.start);
    return { running, pid: running ? p.pid : null, startedAt: null, procState: running ? 'S' : null, spawnError: null, exits: [], startedBy: running ? p.actionId : null };
  }
  start(spec: ProcessServiceSpec, opts: { actionId?: string } = {}): Promise<{ pid: number | null }> {
    const [file, ...args] = spec.start;
    const child = spawn(file!, args, { detached: true, stdio: 'ignore' });
    child.unref();
    const pid = child.pid!;
    this.procs.set(spec.name, { pid, start: readProcStat(pid)!.startTime, actionId: opts.actionId ?? null });
    return Promise.resolve({ pid });
  }
  async stop(spec: ProcessServiceSpec): Promise<void> {
    const p = this.procs.get(spec.name);
    if (p) await killAndWait([p.pid]);
  }
}

void describe('etcd actions and guard on a real cluster', { skip }, () => {
  let lab: EtcdLab;
  let subject: SubjectSpec;
  const driver = new SpawningDriver();
  let n = 0;
  before(async () => {
    lab = await EtcdLab.start({ quotaBackendBytes: QUOTA });
    subject = {
      name: 'cluster', type: 'etcd', host: 'local', members: lab.members.map((m) => m.name), intervalMs: 250,
      params: { endpoints: Object.fromEntries(lab.members.map((m) => [m.name, m.clientUrl])), maxLag: 1000, joinMs: 5000 },
    };
  });
  after(async () => {
    await killAndWait([...driver.procs.values()].map((p) => p.pid));
    await lab?.destroy();
  });

  const ctx = (type: ActionType, target: number, params: Record<string, string> = {}): MemberActionContext => {
    const name = lab.member(target).name;
    const action: Action = {
      id: `A${++n}`, ticketId: null, type, target: name, params, state: 'executing', attempts: 1, maxAttempts: 3, idempotencyKey: `k${n}`,
      requestedBy: 'test', approvedBy: null, createdAt: 0, startedAt: 0, finishedAt: null, notBefore: null, error: null,
    };
    const spec = service(name, { start: lab.memberArgv(target), stopGraceMs: 2000 });
    return { spec, action, driver: driver as unknown as ServiceDriver, dataDir: lab.dir, subject, health: () => 'unknown' };
  };
  const run = (c: ActionContext): Promise<string> => {
    const kind = etcdActions[c.action.type.replace(/^etcd\./, '') as keyof typeof etcdActions].kind;
    return kind.run(c, AbortSignal.timeout(kind.timeoutMs(c)));
  };
  const leaderIndex = async (): Promise<number> => {
    const ids = await lab.memberIds();
    const leader = (await lab.client(0).status()).leader;
    return [...ids].find(([, id]) => id === leader)![0];
  };

  it('guard: a restart is allowed while the others make a majority, refused when they do not; a silent member may always be restarted', async () => {
    assert.equal(await guard(ctx('restart', 0), AbortSignal.timeout(5000)), null);
    assert.equal(await guard(ctx('stop', 1), AbortSignal.timeout(5000)), null);
    await lab.killMember(2);
    assert.match(await guard(ctx('restart', 0), AbortSignal.timeout(5000)) ?? '', /^m0 answers, and without it 1 of 3 members answer \(m1\), 2 needed for quorum: restart could lose the quorum/);
    assert.match(await guard(ctx('stop', 1), AbortSignal.timeout(5000)) ?? '', /^m1 answers, and without it 1 of 3 members answer \(m0\)/);
    assert.equal(await guard(ctx('restart', 2), AbortSignal.timeout(5000)), null, 'm2 does not answer: restarting it takes no voter away');
    assert.equal(await guard(ctx('etcd.defragment', 0), AbortSignal.timeout(5000)), null, 'defragmenting takes no voter away');
    lab.startMember(2);
    await lab.waitReady();
  });

  it('move-leader: the target leads afterwards; asked again, nothing to do', async () => {
    const target = ((await leaderIndex()) + 1) % 3;
    assert.match(await run(ctx('etcd.move-leader', target)), new RegExp(`^leadership moved from m\\d to m${target}$`));
    assert.equal(await leaderIndex(), target);
    assert.match(await run(ctx('etcd.move-leader', target)), /leads already: nothing to do$/);
  });

  it('NOSPACE: defragment (with compaction) gives the space back member by member; disarm clears the alarm', async () => {
    await fillQuota(lab, 0);
    assert.ok((await lab.client(0).alarms()).some((a) => a.alarm === 'NOSPACE'));
    assert.match(await run(ctx('etcd.defragment', 0)), /^compacted to revision \d+, defragmented: m0's backend \d+ → \d+ bytes of a 4194304-byte quota$/);
    assert.match(await run(ctx('etcd.defragment', 1, { compact: 'false' })), /^defragmented: m1's backend/);
    // Compacting twice is no failure: the history is gone already.
    assert.match(await run(ctx('etcd.defragment', 2)), /^history compacted already \(revision \d+\), defragmented/);
    for (const s of await lab.statuses()) assert.ok(!(s instanceof Error) && s.dbSize < QUOTA / 2, 'every backend small again');
    assert.match(await run(ctx('etcd.disarm', 1)), /^disarmed NOSPACE raised by member /);
    assert.deepEqual(await lab.client(0).alarms(), []);
    assert.match(await run(ctx('etcd.disarm', 1)), /^no NOSPACE alarm raised: nothing to disarm$/);
    await lab.client(0).put('/after', 'writes work again');
    await assert.rejects(run(ctx('etcd.defragment', 0, { compact: 'maybe' })), /bad params \{"compact":"maybe"\}: compact: /);
  });

  it('replace-member: a member whose data is gone is removed, added again, wiped and joins with --initial-cluster-state existing', async () => {
    const victim = ((await leaderIndex()) + 1) % 3;
    const name = lab.member(victim).name;
    await assert.rejects(run(ctx('etcd.replace-member', victim)), /answers, so its data is not gone; restart it instead/);
    const before = (await lab.memberIds()).get(victim);
    await lab.killMember(victim);
    lab.wipeMember(victim);
    const c = ctx('etcd.replace-member', victim);
    assert.match(await run(c), new RegExp(`^removed ${before}, added [0-9a-f]+ at ${lab.member(victim).peerUrl}, wiped .*, started it \\(pid \\d+\\) with --initial-cluster-state existing$`));
    assert.deepEqual(etcdActions['replace-member'].kind.resume(c).outcome, 'completed', 'the process this action started runs');
    await waitFor(async () => {
      const views = await lab.statuses();
      return views.every((v) => !(v instanceof Error) && v.leader !== null && v.leader === (views[0] as { leader: string }).leader);
    }, 20_000, 'the cluster whole', { retryErrors: true });
    const list = await lab.client((victim + 1) % 3).memberList();
    assert.equal(list.length, 3);
    assert.ok(list.every((m) => m.name !== ''), 'every member started');
    assert.notEqual(list.find((m) => m.name === name)?.id, before, 'a new member id');
    assert.equal((await lab.client(victim).get('/after'))?.value.toString(), 'writes work again', 'it has the data again');
  });

  it('argv helpers: the data dir and peer URL come from the start command; `existing` replaces `new`', () => {
    assert.equal(flagValue(['etcd', '--data-dir', '/d', '--name=x'], '--data-dir'), '/d');
    assert.equal(flagValue(['etcd', '--name=x'], '--name'), 'x');
    assert.deepEqual(joiningArgv(['etcd', '--initial-cluster-state', 'new', '--name', 'x']), ['etcd', '--initial-cluster-state', 'existing', '--name', 'x']);
    assert.deepEqual(joiningArgv(['etcd', '--initial-cluster-state=new']), ['etcd', '--initial-cluster-state=existing']);
    assert.deepEqual(joiningArgv(['etcd']), ['etcd', '--initial-cluster-state', 'existing']);
  });
});
