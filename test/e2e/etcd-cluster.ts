// An etcd cluster for the e2e tests: three etcd 3.4 members in network namespaces (the etcd lab
// builds the network; Warden starts and supervises the members as `kind: process` services, the
// demo's own service definitions) judged as one `cluster` subject by a real daemon.
import type { TestContext } from 'node:test';
import { etcdMemberServices } from '../../src/demo/scenarios/etcd.js';
import { EtcdLab } from '../../src/subjects/etcd/lab.js';
import { startLab, statusJson, waitFor, type LabRun } from './harness.js';

/** A lab cluster run by a real daemon, healthy; cleaned up after the test. */
export async function cluster(t: TestContext, opts: { quotaBackendBytes?: number; allow?: string[] } = {}): Promise<{ lab: EtcdLab; run: LabRun; names: string[] }> {
  const lab = await EtcdLab.start({ processes: false, ...(opts.quotaBackendBytes ? { quotaBackendBytes: opts.quotaBackendBytes } : {}) });
  let run: LabRun | null = null;
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
    policy: `policy:
  rules:
    - match: { service: "*" }
      allow: [${['start', 'restart', ...(opts.allow ?? [])].join(', ')}]
      approval: none
  limits:
    - { action: restart, per: service, max: 10, window: 10m }`,
  });
  await run.daemon.start();
  type Status = { subjects: { name: string; health: string }[] };
  const r = run;
  await waitFor(async () => (await statusJson<Status>(r.lab.configPath)).status.subjects.find((s) => s.name === 'cluster' && s.health === 'healthy'), 30_000, 'the cluster healthy');
  return { lab, run, names };
}

/** Every member answers and names the same leader. */
export async function whole(lab: EtcdLab): Promise<void> {
  await waitFor(async () => {
    const views = await Promise.all(lab.members.map((_, i) => lab.client(i, { timeoutMs: 1000 }).status().catch(() => null)));
    return views.every((v) => v !== null && v.leader !== null && v.leader === views[0]!.leader);
  }, 20_000, 'the cluster whole');
}
