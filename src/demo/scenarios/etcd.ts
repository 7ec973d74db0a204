// `warden demo etcd`: a 3-member etcd cluster, each member in its own network namespace (the etcd
// lab builds the network; Warden starts and supervises the members), judged through etcd's own API
// as one subject. Four faults: the leader killed, two of three killed (quorum lost: restarted one at
// a time), a follower cut off by the network (waited for, never restarted), NOSPACE under a small
// quota (compact, defragment, disarm). Needs root and etcd-server (the lab says what is missing).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillQuota, partition } from '../../subjects/etcd/chaos.js';
import { EtcdLab } from '../../subjects/etcd/lab.js';
import { killLab } from '../lab.js';
import { sleep } from '../../lib/wait.js';
import type { Scenario, Stage } from '../demo.js';

type EtcdStage = Stage & { etcd: EtcdLab; names: string[] };

/** A quota small enough to fill in a second or two, large enough for the cluster's own needs. */
const QUOTA_BYTES = 4 * 1024 * 1024;

/**
 * The index of the member that leads now, as every member says: one member's word alone may be a
 * stale view while an election (a loaded machine misses heartbeats) moves the leadership, and a
 * "leader" killed on that word is only a follower.
 */
async function leaderIndex(s: EtcdStage): Promise<number> {
  const ids = await s.etcd.memberIds();
  for (let tries = 0; tries < 50; tries++) {
    const views = await Promise.all(s.etcd.members.map((_, i) => s.etcd.client(i, { timeoutMs: 1000 }).status().catch(() => null)));
    const leaderId = views[0]?.leader ?? null;
    if (leaderId !== null && views.every((v) => v !== null && v.leader === leaderId)) {
      const i = [...ids].find(([, id]) => id === leaderId)?.[0];
      if (i !== undefined) return i;
    }
    await sleep(100);
  }
  throw new Error('the members do not agree on a leader');
}

/** The lab's members as `kind: process` services run in their namespaces (YAML under `services:`). */
export function etcdMemberServices(etcd: EtcdLab): string {
  return etcd.members.map((m, i) => `  - name: ${m.name}
    kind: process
    start: ${JSON.stringify(etcd.memberArgv(i))}
    stopGrace: 2s
    checks:
      - tcp: { address: "${m.ip}:2379" }
        interval: 250ms
        timeout: 200ms
`).join('');
}

/** The warden.yaml: the members as processes run in their namespaces, and the cluster as a subject. */
export function etcdConfig(dir: string, etcd: EtcdLab): string {
  const members = etcdMemberServices(etcd);
  const endpoints = etcd.members.map((m) => `${m.name}: "${m.clientUrl}"`).join(', ');
  return `# Generated for warden demo etcd.
version: 1
agent:
  name: etcd-warden
  mode: execute
  dataDir: ${join(dir, 'data')}
  interval: 1s
  verify: { stable: 500ms, deadline: 20s }
services:
${members}
subjects:
  - name: cluster
    members: [${etcd.members.map((m) => m.name).join(', ')}]
    interval: 250ms
    etcd: { endpoints: { ${endpoints} } }
policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart, etcd.defragment, etcd.disarm]
      approval: none
  limits:
    - { action: restart, per: service, max: 10, window: 10m }
`;
}

export const etcdScenario: Scenario<EtcdStage> = {
  name: 'etcd',
  description: 'a 3-member etcd cluster in network namespaces: leader killed, quorum lost, a partition, NOSPACE',
  faultTimeoutMs: 60_000,
  async setup() {
    const etcd = await EtcdLab.start({ processes: false, quotaBackendBytes: QUOTA_BYTES });
    const dir = mkdtempSync(join(tmpdir(), 'warden-demo-etcd-'));
    const configPath = join(dir, 'warden.yaml');
    writeFileSync(configPath, etcdConfig(dir, etcd));
    const names = etcd.members.map((m) => m.name);
    return {
      etcd, names, dir, configPath,
      describe: `etcd ${names.map((n, i) => `${n} (${etcd.members[i]!.ip})`).join(', ')} in namespaces of lab ${etcd.id}`,
      healthy: [...names, 'cluster'],
      // Every member answers and names the same leader: a fault on a cluster still forming proves nothing.
      ready: async () => {
        const views = await Promise.all(etcd.members.map((_, i) => etcd.client(i, { timeoutMs: 1000 }).status().catch(() => null)));
        return views.every((v) => v !== null && v.leader !== null && v.leader === views[0]!.leader);
      },
      teardown: async (store, dataDir) => {
        if (store) killLab(store, dataDir, names);
        await etcd.destroy();
      },
    };
  },
  faults: [
    {
      name: 'kill -9 the leader',
      async inject(s, pid) {
        const leader = s.names[await leaderIndex(s)]!;
        process.kill(pid(leader), 'SIGKILL');
        return { service: 'cluster', cause: 'leader_lost', actions: [`restart ${leader}`], status: 'resolved' };
      },
    },
    {
      name: 'kill -9 two of three',
      async inject(s, pid) {
        const lead = await leaderIndex(s);
        const [a, b] = s.names.filter((_, i) => i !== lead) as [string, string];
        process.kill(pid(a), 'SIGKILL');
        process.kill(pid(b), 'SIGKILL');
        return { service: 'cluster', cause: 'quorum_lost', actions: [`restart ${a}`, `restart ${b}`], status: 'resolved' };
      },
    },
    {
      name: 'partition a follower',
      async inject(s) {
        const lead = await leaderIndex(s);
        const victim = s.etcd.members.findIndex((_, i) => i !== lead);
        const cut = await partition(s.etcd, victim);
        // Waited for, never restarted; the link comes back once Warden has shown it leaves it be.
        return { service: 'cluster', cause: 'network_partition', actions: [], status: 'resolved', heal: () => cut.undo() };
      },
    },
    {
      name: 'NOSPACE (4 MiB quota)',
      async inject(s) {
        await fillQuota(s.etcd, 0);
        const [m0, m1, m2] = s.names as [string, string, string];
        return { service: 'cluster', cause: 'resource_exhausted', actions: [`etcd.defragment ${m0}`, `etcd.defragment ${m1}`, `etcd.defragment ${m2}`, `etcd.disarm ${m0}`], status: 'resolved' };
      },
    },
  ],
};
