// The etcd subject through the real daemon: three etcd 3.4 members in network namespaces (the etcd
// lab builds the network; Warden starts and supervises the members as `kind: process` services,
// `ip netns exec NS etcd …`), judged through etcd's own API. The leader is killed: one ticket for
// the cluster, leader_lost, and only the dead member is started again. WARDEN_SKIP_ETCD=1 skips it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { etcdMemberServices } from '../../src/demo/scenarios/etcd.js';
import { EtcdLab } from '../../src/subjects/etcd/lab.js';
import { startLab, statusJson, waitFor } from './harness.js';

const skip = process.env.WARDEN_SKIP_ETCD === '1' ? 'WARDEN_SKIP_ETCD=1 is set' : false;

test('the etcd leader killed: one cluster ticket, leader_lost, only the dead member started again', { skip }, async (t) => {
  const lab = await EtcdLab.start({ processes: false });
  // Warden first (it would restart members the lab takes away), then the lab's network.
  let run: Awaited<ReturnType<typeof startLab>> | null = null;
  t.after(async () => {
    await run?.cleanup();
    await lab.destroy();
  });
  const names = lab.members.map((m) => m.name);
  const services = etcdMemberServices(lab);
  const endpoints = lab.members.map((m) => `${m.name}: "${m.clientUrl}"`).join(', ');
  run = await startLab({
    noWorker: true,
    extraServices: services,
    subjects: `subjects:\n  - name: cluster\n    members: [${names.join(', ')}]\n    interval: 250ms\n    etcd: { endpoints: { ${endpoints} } }\n`,
    restartLimit: 10,
  });
  await run.daemon.start();
  type Status = { subjects: { name: string; health: string }[] };
  await waitFor(async () => (await statusJson<Status>(run.lab.configPath)).status.subjects.find((s) => s.name === 'cluster' && s.health === 'healthy'), 30_000, 'the cluster healthy');

  // Which member leads, as the members say.
  const ids = await lab.memberIds();
  const leaderId = (await lab.client(0).status()).leader;
  const leader = [...ids].find(([, id]) => id === leaderId)?.[0];
  assert.notEqual(leader, undefined);
  const leaderName = names[leader!]!;
  const before = new Set((await run.actions()).map((a) => a.id));
  process.kill(run.pid(leaderName), 'SIGKILL');

  const ticket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'cluster' && x.status === 'resolved'), 60_000, 'the cluster ticket resolved');
  assert.equal(ticket.cause, 'leader_lost');
  const actions = (await run.actions()).filter((a) => !before.has(a.id));
  assert.deepEqual([...new Set(actions.map((a) => `${a.type} ${a.target}`))], [`restart ${leaderName}`], 'only the dead member');
  const clusterTickets = (await run.tickets()).filter((x) => x.service === 'cluster');
  assert.equal(clusterTickets.length, 1, 'one ticket for the cluster');
  // Whole again: every member answers and names the same leader.
  await waitFor(async () => {
    const views = await Promise.all(lab.members.map((_, i) => lab.client(i, { timeoutMs: 1000 }).status().catch(() => null)));
    return views.every((v) => v !== null && v.leader !== null && v.leader === views[0]!.leader);
  }, 20_000, 'the cluster whole');
});
