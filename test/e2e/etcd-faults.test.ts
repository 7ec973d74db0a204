// The etcd subject's faults through the real daemon, each on a real three-member etcd 3.4 cluster in
// network namespaces (Warden starts and supervises the members, as in etcd-subject.test.ts):
// two members killed (quorum_lost, restarted one at a time), one member cut off by the network
// (network_partition, waited for, never restarted), and NOSPACE under a small quota
// (resource_exhausted: compact, defragment each member, disarm). WARDEN_SKIP_ETCD=1 skips it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fillQuota, partition } from '../../src/subjects/etcd/chaos.js';
import { cluster, whole } from './etcd-cluster.js';
import { gone, morePasses, waitFor, type ActionJson, type LabRun } from './harness.js';

const skip = process.env.WARDEN_SKIP_ETCD === '1' ? 'WARDEN_SKIP_ETCD=1 is set' : false;
const QUOTA = 4 * 1024 * 1024;

type Action = ActionJson & { params: Record<string, string>; startedAt: string | null; finishedAt: string | null };

const newActions = async (run: LabRun, before: Set<string>): Promise<Action[]> =>
  ((await run.actions()) as Action[]).filter((a) => !before.has(a.id)).reverse();

test('two of three members killed: quorum_lost, restarted one at a time, one ticket, the running member untouched', { skip }, async (t) => {
  const { lab, run, names } = await cluster(t);
  const before = new Set((await run.actions()).map((a) => a.id));
  const [a, b, c] = names as [string, string, string];
  const survivorPid = run.pid(c);
  process.kill(run.pid(a), 'SIGKILL');
  process.kill(run.pid(b), 'SIGKILL');

  const ticket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'cluster' && x.status === 'resolved'), 60_000, 'the cluster ticket resolved');
  assert.equal(ticket.cause, 'quorum_lost');
  const actions = await newActions(run, before);
  assert.deepEqual(actions.map((x) => `${x.type} ${x.target} ${x.state}`), [`restart ${a} completed`, `restart ${b} completed`], 'each dead member once, in turn');
  // One at a time: the second began only after the first had ended.
  assert.ok(Date.parse(actions[1]!.startedAt!) >= Date.parse(actions[0]!.finishedAt!), `${actions[1]!.startedAt} before ${actions[0]!.finishedAt}`);
  assert.equal(run.pid(c), survivorPid, 'the member that ran was never restarted');
  assert.equal((await run.tickets()).filter((x) => x.service === 'cluster').length, 1, 'one ticket for the cluster');
  await whole(lab);
});

test('one member cut off by the network: network_partition, no restart while it runs, verified once the link returns', { skip }, async (t) => {
  const { lab, run, names } = await cluster(t);
  // A follower, so the cluster keeps its leader and only the partition is the problem.
  const ids = await lab.memberIds();
  const leader = (await lab.client(0).status()).leader;
  const victim = [...ids].find(([, id]) => id !== leader)![0];
  const name = names[victim]!;
  const pid = run.pid(name);
  const before = new Set((await run.actions()).map((a) => a.id));
  const cut = await partition(lab, victim);
  t.after(() => cut.undo());

  const ticket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'cluster' && x.cause === 'network_partition'), 20_000, 'a network_partition ticket').catch(async (e: unknown) => { console.log(JSON.stringify((await run.tickets()).map((x) => [x.id, x.status, x.cause, x.reason, x.findings]), null, 1)); throw e; });
  assert.notEqual(ticket.cause, 'process_exited');
  // Passes go by while it stays cut off: no restart of it, and the ticket waits.
  await morePasses(run.lab.configPath, 5);
  assert.equal(gone(pid), false, `${name} still runs`);
  assert.equal(run.pid(name), pid, 'the same process');
  assert.deepEqual((await newActions(run, before)).map((x) => `${x.type} ${x.target}`), [], 'no action while it is cut off');
  const waiting = (await run.tickets()).find((x) => x.id === ticket.id)!;
  assert.equal(waiting.status, 'open');
  assert.match(waiting.reason ?? '', new RegExp(`^${name} runs but cannot be reached: waiting for the network to return`));

  await cut.undo();
  const done = await waitFor(async () => (await run.tickets()).find((x) => x.id === ticket.id && x.status === 'resolved'), 30_000, 'the ticket resolved');
  assert.match(done.reason ?? '', /^recovered without action; healthy for \d+ ms/, 'verified, not merely recovered');
  assert.deepEqual((await newActions(run, before)).map((x) => `${x.type} ${x.target}`), []);
  assert.equal(run.pid(name), pid);
  await whole(lab);
});

test('NOSPACE under a small quota: resource_exhausted; compact, defragment each member, disarm; verified', { skip }, async (t) => {
  const { lab, run, names } = await cluster(t, { quotaBackendBytes: QUOTA, allow: ['etcd.defragment', 'etcd.disarm'] });
  const before = new Set((await run.actions()).map((a) => a.id));
  await fillQuota(lab, 0);

  const ticket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'cluster' && x.status === 'resolved'), 60_000, 'the cluster ticket resolved');
  assert.equal(ticket.cause, 'resource_exhausted');
  assert.match(ticket.reason ?? '', /^healthy for \d+ ms/);
  const actions = await newActions(run, before);
  const [m0, m1, m2] = names as [string, string, string];
  assert.deepEqual(actions.map((x) => `${x.type} ${x.target} ${JSON.stringify(x.params)} ${x.state}`), [
    `etcd.defragment ${m0} {"compact":"true"} completed`,
    `etcd.defragment ${m1} {"compact":"false"} completed`,
    `etcd.defragment ${m2} {"compact":"false"} completed`,
    `etcd.disarm ${m0} {"alarm":"NOSPACE"} completed`,
  ]);
  for (let i = 1; i < actions.length; i++) assert.ok(Date.parse(actions[i]!.startedAt!) >= Date.parse(actions[i - 1]!.finishedAt!), 'one step at a time');
  assert.deepEqual(await lab.client(1).alarms(), []);
  await lab.client(1).put('/after-nospace', 'writes work again');
  await whole(lab);
});
