// The etcd lab for real: three etcd 3.4 members, each in its own network namespace on a bridge the
// lab makes, observed through etcd's own HTTP API (client.ts) and broken with the lab's chaos
// (chaos.ts). Needs root, iproute2 and etcd-server (`npm run setup` installs them); nftables for
// the firewall fault. WARDEN_SKIP_ETCD=1 skips it; otherwise a machine that cannot run it fails it
// with what is missing, so a green run never hides a lab that did not run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdError, isNoSpace, type EtcdClient } from '../../src/subjects/etcd/client.js';
import { drop, fillQuota, hang, kill, latency, partition, type Fault } from '../../src/subjects/etcd/chaos.js';
import { EtcdLab, labProblems } from '../../src/subjects/etcd/lab.js';
import { cleanupStale, LabError, traces } from '../../src/subjects/etcd/labnet.js';
import { waitFor } from '../../src/lib/wait.js';
import { isAlive, readProcStat } from '../../src/lib/proc.js';

const SKIP_ENV = 'WARDEN_SKIP_ETCD';
const skip = process.env[SKIP_ENV] === '1' ? `${SKIP_ENV}=1 is set` : false;
if (skip !== false) console.log(`etcd lab: SKIPPED (${skip})`);
const LAB_JS = join(fileURLToPath(new URL('.', import.meta.url)), '../../src/subjects/etcd/lab.js');
/** A small quota, so a few writes raise NOSPACE. */
const QUOTA = 4 * 1024 * 1024;

const netnsOf = (pid: number): string => readlinkSync(`/proc/${pid}/ns/net`);

/**
 * The member every member in `among` names as leader, once they agree (on one other than `notId`,
 * in a term after `afterTerm`: the status's term is that of the last applied entry, so it follows
 * the new leader a moment later).
 */
async function agreedLeader(lab: EtcdLab, among: number[], notId?: string, afterTerm = 0): Promise<{ index: number; id: string; term: number }> {
  return waitFor(async () => {
    const ids = await lab.memberIds();
    const views = await Promise.all(among.map((i) => lab.client(i, { timeoutMs: 1000 }).status()));
    const leader = views[0]?.leader ?? null;
    if (leader === null || leader === notId || !views.every((v) => v.leader === leader && v.raftTerm > afterTerm)) return null;
    const index = [...ids].find(([, id]) => id === leader)?.[0];
    return index === undefined ? null : { index, id: leader, term: Math.max(...views.map((v) => v.raftTerm)) };
  }, 15_000, `members ${among.join(', ')} to agree on one leader${notId === undefined ? '' : ` other than ${notId}`}`, { retryErrors: true });
}

/** True once every member in `observers` reports its raft link to `id` inactive (or active). */
async function peersSee(lab: EtcdLab, observers: number[], id: string, active: boolean): Promise<void> {
  await waitFor(async () => {
    const views = await Promise.all(observers.map((i) => lab.client(i).peers()));
    return views.every((links) => links.some((l) => l.remote === id && l.active === active));
  }, 20_000, `members ${observers.join(', ')} to see ${id} ${active ? 'active' : 'inactive'}`, { retryErrors: true });
}

/**
 * etcd refuses to change membership until every voter has been connected for 5 s ("unhealthy
 * cluster", a retryable EtcdError): a member an earlier test stopped may have just come back.
 */
function retrying<T>(call: () => Promise<T>, what: string): Promise<T> {
  return waitFor(() => call().catch((e: unknown) => {
    if (e instanceof EtcdError && e.retryable) return null;
    throw e;
  }), 15_000, what);
}

describe('etcd lab: 3 members in network namespaces', { skip }, () => {
  let lab: EtcdLab | undefined;
  const L = (): EtcdLab => lab ?? assert.fail('the lab did not start');
  const others = (i: number): number[] => [0, 1, 2].filter((x) => x !== i);

  before(async () => {
    const problems = await labProblems();
    if (problems.length > 0) {
      throw new LabError('LAB_UNSUPPORTED', `etcd lab tests cannot run here: ${problems.join('; ')}. Run \`npm run setup\` as root, or set ${SKIP_ENV}=1 to skip them.`);
    }
    await cleanupStale();
    const t = Date.now();
    lab = await EtcdLab.start({ quotaBackendBytes: QUOTA });
    console.log(`etcd lab ${lab.id}: ${lab.subnet.cidr}, 3 members ready in ${Date.now() - t} ms`);
  });

  after(async () => { await lab?.destroy(); });

  it('runs each member in its own namespace and all agree on one leader', async () => {
    const lab = L();
    const pids = [0, 1, 2].map((i) => lab.pid(i) ?? assert.fail(`m${i} does not run`));
    const spaces = pids.map(netnsOf);
    assert.equal(new Set([...spaces, netnsOf(process.pid)]).size, 4, 'three namespaces, none the host\'s');
    for (const [i, pid] of pids.entries()) {
      // The process runs in the namespace the lab named for it.
      assert.equal(spaces[i], `net:[${statSync(`/run/netns/${lab.member(i).netns}`).ino}]`);
      assert.match(readlinkSync(`/proc/${pid}/exe`), /etcd$/);
    }
    const ids = await lab.memberIds();
    for (const i of [0, 1, 2]) {
      const list = await lab.client(i).memberList();
      assert.deepEqual(list.map((m) => m.name).sort(), ['m0', 'm1', 'm2']);
      assert.deepEqual(list.map((m) => m.clientUrls[0]).sort(), lab.members.map((m) => m.clientUrl).sort());
      assert.equal((await lab.client(i).health()).healthy, true);
    }
    const leader = await agreedLeader(lab, [0, 1, 2]);
    assert.equal(ids.get(leader.index), leader.id);
    const statuses = await Promise.all([0, 1, 2].map((i) => lab.client(i).status()));
    assert.deepEqual(statuses.map((s) => s.memberId), [0, 1, 2].map((i) => ids.get(i)));
    assert.ok(statuses.every((s) => s.version.startsWith('3.4.') && s.raftIndex > 0 && s.dbSize > 0 && s.errors.length === 0));

    const rev = await lab.client(0).put('/lab/hello', 'world');
    const kv = await lab.client(2).get('/lab/hello');
    assert.equal(kv?.value.toString(), 'world');
    assert.equal(kv?.modRevision, rev);
    assert.equal(await lab.client(1).get('/lab/absent'), null);
  });

  it('kills the leader and the other two elect a new one', async (t) => {
    const lab = L();
    const old = await agreedLeader(lab, [0, 1, 2]);
    const t0 = Date.now();
    const f = await kill(lab, old.index);
    t.after(() => f.undo()); // undo is idempotent: a failed assertion must not break the next test
    assert.equal(lab.isRunning(old.index), false);
    const next = await agreedLeader(lab, others(old.index), old.id, old.term);
    assert.notEqual(next.index, old.index);
    console.log(`etcd lab: leader m${old.index} killed, m${next.index} leads in term ${next.term} ${Date.now() - t0} ms later`);
    await f.undo();
    await lab.waitReady();
    assert.equal(lab.isRunning(old.index), true);
  });

  it('moves the leader where it is told', async () => {
    const lab = L();
    const old = await agreedLeader(lab, [0, 1, 2]);
    const target = others(old.index)[0] ?? assert.fail();
    const targetId = (await lab.memberIds()).get(target) ?? assert.fail();
    await lab.client(old.index).moveLeader(targetId);
    assert.equal((await agreedLeader(lab, [0, 1, 2], old.id)).index, target);
  });

  for (const [kind, cut] of [['partition (link down)', partition], ['firewall drop (nft)', drop]] as const) {
    it(`${kind}: the others report the member unreachable while its process runs`, async (t) => {
      const lab = L();
      const leader = await agreedLeader(lab, [0, 1, 2]);
      const victim = others(leader.index)[1] ?? assert.fail();
      const victimId = (await lab.memberIds()).get(victim) ?? assert.fail();
      await peersSee(lab, others(victim), victimId, true);
      const t0 = Date.now();
      const f = await cut(lab, victim);
      t.after(() => f.undo()); // undo is idempotent: a failed assertion must not break the next test
      await peersSee(lab, others(victim), victimId, false);
      const cutMs = Date.now() - t0;
      assert.equal(lab.isRunning(victim), true, 'the partitioned member still runs');
      await assert.rejects(lab.client(victim, { timeoutMs: 500 }).status(), (e: unknown) => e instanceof EtcdError && e.code === 'ETCD_UNREACHABLE' && e.retryable);
      // The two that still see each other keep a quorum and accept writes.
      await lab.client(leader.index).put('/lab/during-partition', kind);
      const t1 = Date.now();
      await f.undo();
      await peersSee(lab, others(victim), victimId, true);
      await lab.waitReady();
      console.log(`etcd lab: ${kind}: the others saw m${victim} inactive after ${cutMs} ms; whole again ${Date.now() - t1} ms after undo`);
      assert.equal((await lab.client(victim).get('/lab/during-partition'))?.value.toString(), kind);
    });
  }

  it('hangs a member with SIGSTOP and resumes it', async (t) => {
    const lab = L();
    const pid = lab.pid(2) ?? assert.fail();
    const f = await hang(lab, 2);
    t.after(() => f.undo()); // undo is idempotent: a failed assertion must not break the next test
    await waitFor(() => readProcStat(pid)?.state === 'T', 2000, `m2 (pid ${pid}) to stop`);
    await assert.rejects(lab.client(2, { timeoutMs: 300 }).health(), /no answer within 300 ms/);
    await f.undo();
    await lab.waitReady();
  });

  it('adds latency with netem, where the kernel has it', async (t) => {
    const lab = L();
    let f: Fault | undefined;
    try {
      f = await latency(lab, 1, 200);
      t.after(() => f?.undo());
    } catch (e) {
      if (e instanceof LabError && e.code === 'LAB_UNSUPPORTED') {
        console.log(`etcd lab: latency SKIPPED: ${e.message}`);
        t.skip(e.message);
        return;
      }
      throw e;
    }
    const start = performance.now();
    await lab.client(1).health();
    assert.ok(performance.now() - start >= 200, 'an answer crosses the delayed link');
    await f.undo();
  });

  it('removes a member whose data is gone and adds it back', async () => {
    const lab = L();
    const leader = await agreedLeader(lab, [0, 1, 2]);
    const victim = others(leader.index)[0] ?? assert.fail();
    const oldId = (await lab.memberIds()).get(victim) ?? assert.fail();
    await lab.killMember(victim);
    lab.wipeMember(victim);
    assert.equal(lab.hasData(victim), false);
    const c = lab.client(leader.index, { timeoutMs: 5000 });
    const left = await retrying(() => c.memberRemove(oldId), 'etcd to remove the member');
    assert.deepEqual(left.map((m) => m.id).includes(oldId), false);
    const { member } = await retrying(() => c.memberAdd([lab.member(victim).peerUrl]), 'etcd to add the member');
    assert.equal(member.name, '', 'an added member has no name until it starts');
    await lab.joinMember(victim);
    await lab.waitReady();
    const ids = await lab.memberIds();
    assert.equal(ids.get(victim), member.id);
    assert.notEqual(member.id, oldId);
    assert.equal((await lab.client(victim).get('/lab/hello'))?.value.toString(), 'world');
  });

  // After the member re-add: a member that joins replays the raft log, the fill's writes included,
  // and raises NOSPACE again in its own backend.
  it('fills a small quota: NOSPACE alarm, writes refused; compact + defrag + disarm restores it', async (t) => {
    const lab = L();
    const f = await fillQuota(lab, 0);
    console.log(`etcd lab: ${f.detail}`);
    t.after(() => f.undo()); // undo is idempotent: a failed assertion must not break the next test
    const c: EtcdClient = lab.client(1);
    const alarms = await c.alarms();
    assert.ok(alarms.length > 0 && alarms.every((a) => a.alarm === 'NOSPACE'), JSON.stringify(alarms));
    assert.equal((await c.health()).healthy, false);
    await assert.rejects(c.put('/lab/more', 'x'), (e: unknown) => isNoSpace(e));
    // The member that raised the alarm is the one whose backend reached the quota.
    const full = [...(await lab.memberIds())].find(([, id]) => id === alarms[0]?.memberId)?.[0] ?? assert.fail('no member raised the alarm');
    const before = (await lab.client(full).status()).dbSize;
    assert.ok(before > QUOTA / 2, `db ${before} near quota ${QUOTA}`);
    await f.undo();
    assert.deepEqual(await c.alarms(), []);
    assert.ok((await lab.client(full).status()).dbSize < before / 4);
    await c.put('/lab/more', 'x');
    await lab.waitReady();
  });

  it('cleanupStale removes what a crashed owner left and leaves a live lab alone', async () => {
    const lab = L();
    // A lab whose owner dies by SIGKILL, as a crashed test would.
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      const { EtcdLab } = await import(${JSON.stringify(LAB_JS)});
      const lab = await EtcdLab.start({ members: 1 });
      process.stdout.write(lab.id + '\\n');
      setInterval(() => {}, 1000);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    const orphan = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => resolve(d.toString().trim()));
      child.on('exit', (code) => reject(new Error(`the child exited ${code} before its lab was up`)));
    });
    // What the lab is while its owner lives: nobody else may remove it then.
    const left = await traces(orphan);
    assert.equal(left.netns.length, 1);
    assert.equal(left.pids.length, 1);
    assert.ok(left.record);
    const etcd = left.pids[0] ?? assert.fail();
    const etcdStart = readProcStat(etcd)?.startTime ?? assert.fail();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(isAlive(etcd, etcdStart), 'its etcd outlived its owner');

    const removed = await cleanupStale();
    // A stale lab is anyone's to remove: another run of this test may have removed it first.
    if (!removed.includes(orphan)) console.log(`etcd lab: ${orphan} was removed by another run's cleanupStale`);
    assert.deepEqual(await traces(orphan), { links: [], netns: [], pids: [], record: false });
    assert.equal(isAlive(etcd, etcdStart), false);
    assert.equal(existsSync(join(lab.dir, '..', `wde-${orphan}-lab`)), false);
    // Ours is untouched.
    await lab.waitReady();
    assert.ok((await traces(lab.id)).netns.length === 3);
  });

  it('destroy leaves nothing behind: no process, namespace, link, directory or record', async () => {
    const lab = L();
    const pids = [0, 1, 2].map((i) => ({ pid: lab.pid(i) ?? assert.fail(), start: readProcStat(lab.pid(i) ?? 0)?.startTime ?? 0 }));
    await lab.destroy();
    assert.deepEqual(await traces(lab.id), { links: [], netns: [], pids: [], record: false });
    assert.ok(pids.every((p) => !isAlive(p.pid, p.start)));
    assert.equal(existsSync(lab.dir), false);
    await lab.destroy(); // idempotent
  });
});
