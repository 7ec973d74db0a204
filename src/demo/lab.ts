// The lab: a small world of real processes — a web service that depends on a cache (a real
// redis-server) and a worker — written as a warden.yaml into a fresh directory. Shared by the
// demo, the end-to-end tests and the benchmarks, so all three exercise the same thing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mode } from '../domain/types.js';
import { stopCollector } from '../kinds/process/collector.js';

/** The checkout's root (dist/src/demo → three levels up). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const LAB = join(ROOT, 'lab');

export interface LabOptions {
  mode?: Mode;
  approval?: 'none' | 'required';
  /** Max restarts per service in 10 minutes. */
  restartLimit?: number;
  /** Extra YAML appended under `services:` (already indented by two spaces). */
  extraServices?: string;
  /** Omit the worker service. */
  noWorker?: boolean;
  workerEnv?: Record<string, string>;
  checkInterval?: string;
  stopGrace?: string;
  /** Give the worker an HTTP port and a check on it (it answers 200 while not stopped). */
  workerHttp?: boolean;
  /** YAML appended to the worker's service entry (indented by four spaces), e.g. runbooks. */
  workerExtra?: string;
  /** Replaces the whole `policy:` section (YAML, starting with "policy:"). */
  policy?: string;
  /** A top-level `subjects:` section (YAML, starting with "subjects:"). */
  subjects?: string;
  /** Send every event to this webhook URL. */
  notifyUrl?: string;
  /** A whole `notify:` section (YAML, starting with "notify:"), instead of notifyUrl's. */
  notify?: string;
  /** Serve the HTTP API on 127.0.0.1:port with this token file, and more `agent.api` keys (flow YAML, e.g. "publicUrl: ..."). */
  api?: { port: number; tokenFile: string; extra?: string };
  /** agent.prometheus: the Prometheus that subjects' PromQL invariants ask. */
  prometheus?: string;
}

export interface Lab {
  dir: string;
  configPath: string;
  ports: { web: number; cache: number; worker: number };
  poisonFile: string;
  startsFile: string;
}

/** Ports this process has handed out: each is free when asked for, but nothing holds it, and the
 *  kernel may give the same one twice in a row (a lab's web on its cache's port, an API on a check's). */
const handedOut = new Set<number>();

/** A free TCP port on loopback, never one this process has handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((res, rej) => {
      const srv = createServer();
      srv.once('error', rej);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => res(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export function requireRedis(): void {
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('redis-server is not installed: run "npm run demo" or "npm test" (they install it), or apt-get install redis-server');
  }
}

export async function makeLab(opts: LabOptions = {}): Promise<Lab> {
  requireRedis();
  const dir = mkdtempSync(join(tmpdir(), 'warden-lab-'));
  const ports = { web: await freePort(), cache: await freePort(), worker: await freePort() };
  const configPath = join(dir, 'warden.yaml');
  writeFileSync(configPath, labConfig(dir, ports, opts));
  return { dir, configPath, ports, poisonFile: join(dir, 'worker.poison'), startsFile: join(dir, 'worker.starts') };
}

/** The lab's warden.yaml for a lab in `dir` on these ports: pure, so tests can use it as a sample. */
export function labConfig(dir: string, { web, cache, worker }: Lab['ports'], opts: LabOptions = {}): string {
  const poisonFile = join(dir, 'worker.poison');
  const startsFile = join(dir, 'worker.starts');
  const every = opts.checkInterval ?? '250ms';
  const workerEnv = { POISON_FILE: poisonFile, STARTS_FILE: startsFile, ...(opts.workerHttp ? { PORT: String(worker) } : {}), ...opts.workerEnv };
  const workerChecks = opts.workerHttp ? `    checks:
      - http: { url: "http://127.0.0.1:${worker}/", expectStatus: 200 }
        interval: ${every}
        timeout: 200ms
        failures: 2
` : '';
  return `# Generated lab for Warden's demo and tests.
version: 1
agent:
  name: lab-warden
  lab: true
  mode: ${opts.mode ?? 'execute'}
${opts.prometheus ? `  prometheus: "${opts.prometheus}"\n` : ''}  dataDir: ${join(dir, 'data')}
  interval: 1s
  verify: { stable: 500ms, deadline: 15s }
  crashLoop: { exits: 3, window: 60s }
${opts.api ? `  api: { listen: "127.0.0.1:${opts.api.port}", tokenFile: ${opts.api.tokenFile}${opts.api.extra ? `, ${opts.api.extra}` : ''} }\n` : ''}${opts.notify ? `${opts.notify}\n` : opts.notifyUrl ? `notify:\n  - name: hook\n    webhook: { url: "${opts.notifyUrl}" }\n    retries: 2\n` : ''}services:
  - name: cache
    kind: process
    start: [redis-server, --port, "${cache}", --bind, 127.0.0.1, --save, "", --appendonly, "no"]
    stopGrace: ${opts.stopGrace ?? '2s'}
    checks:
      - tcp: { address: "127.0.0.1:${cache}" }
        interval: ${every}
        timeout: 200ms
        failures: 2
  - name: web
    kind: process
    start: [node, ${join(LAB, 'web.mjs')}]
    env: { PORT: "${web}", REDIS_PORT: "${cache}" }
    dependsOn: [cache]
    stopGrace: ${opts.stopGrace ?? '2s'}
    startPeriod: 5s
    checks:
      - name: healthz
        http: { url: "http://127.0.0.1:${web}/healthz", expectStatus: 200 }
        interval: ${every}
        timeout: 200ms
        failures: 2
${opts.noWorker ? '' : `  - name: worker
    kind: process
    start: [node, ${join(LAB, 'worker.mjs')}]
    env: ${JSON.stringify(workerEnv)}
    stopGrace: ${opts.stopGrace ?? '2s'}
${opts.workerHttp ? '    startPeriod: 5s\n' : ''}${workerChecks}${opts.workerExtra ?? ''}`}${opts.extraServices ?? ''}
${opts.subjects ?? ''}
${opts.policy ?? `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart]
      approval: ${opts.approval ?? 'none'}
  limits:
    - { action: restart, per: service, max: ${opts.restartLimit ?? 3}, window: 10m }`}
`;
}

/** The lab's services, in inventory order. */
export const LAB_SERVICES = ['cache', 'web', 'worker'] as const;

/**
 * Kills every lab process Warden started (their whole process groups): the demo and the tests own
 * their lab, while Warden itself deliberately leaves services running when it stops.
 */
export function killLab(registry: { getProcess(service: string): { pid: number } | null }, dataDir: string, services: readonly string[] = LAB_SERVICES): void {
  for (const svc of services) {
    const p = registry.getProcess(svc);
    if (!p) continue;
    try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
    try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  stopCollector(join(dataDir, 'logs'));
}
