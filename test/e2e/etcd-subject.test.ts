// The etcd subject through the real daemon: three etcd 3.4 members in network namespaces (the etcd
// lab builds the network; Warden starts and supervises the members as `kind: process` services,
// `ip netns exec NS etcd …`), judged through etcd's own API. The leader is killed: one ticket for
// the cluster, leader_lost, and only the dead member is started again. WARDEN_SKIP_ETCD=1 skips it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, whole } from './etcd-cluster.js';
import { waitFor } from './harness.js';

const skip = process.env.WARDEN_SKIP_ETCD === '1' ? 'WARDEN_SKIP_ETCD=1 is set' : false;

test('the etcd leader killed: one cluster ticket, leader_lost, only the dead member started again', { skip }, async (t) => {
  const { lab, run, names } = await cluster(t);

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
  await whole(lab);
});
