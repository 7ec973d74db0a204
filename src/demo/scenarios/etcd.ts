// `warden demo etcd`: a 3-member etcd cluster, each member in its own network namespace (the etcd
// lab builds the network; Warden starts and supervises the members), judged through etcd's own API
// as one subject. Needs root and etcd-server (the lab says what is missing).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdLab } from '../../subjects/etcd/lab.js';
import { killLab } from '../lab.js';
import type { Scenario, Stage } from '../demo.js';

type EtcdStage = Stage & { etcd: EtcdLab; names: string[] };

/** The member that leads now, as the members say. */
async function leaderOf(s: EtcdStage): Promise<string> {
  const ids = await s.etcd.memberIds();
  const leaderId = (await s.etcd.client(0).status()).leader;
  const i = [...ids].find(([, id]) => id === leaderId)?.[0];
  if (i === undefined) throw new Error('the cluster names no leader');
  return s.names[i]!;
}

/** The warden.yaml: the members as processes run in their namespaces, and the cluster as a subject. */
export function etcdConfig(dir: string, etcd: EtcdLab): string {
  const members = etcd.members.map((m, i) => `  - name: ${m.name}
    kind: process
    start: ${JSON.stringify(etcd.memberArgv(i))}
    stopGrace: 2s
    checks:
      - tcp: { address: "${m.ip}:2379" }
        interval: 250ms
        timeout: 200ms
`).join('');
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
      allow: [start, restart]
      approval: none
  limits:
    - { action: restart, per: service, max: 10, window: 10m }
`;
}

export const etcdScenario: Scenario<EtcdStage> = {
  name: 'etcd',
  description: 'a 3-member etcd cluster in network namespaces: the leader killed',
  faultTimeoutMs: 60_000,
  async setup() {
    const etcd = await EtcdLab.start({ processes: false });
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
        const leader = await leaderOf(s);
        process.kill(pid(leader), 'SIGKILL');
        return { service: 'cluster', cause: 'leader_lost', actions: [`restart ${leader}`], status: 'resolved' };
      },
    },
  ],
};
