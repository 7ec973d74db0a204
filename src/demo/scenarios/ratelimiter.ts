// `warden demo ratelimiter`: three nodes of the lab's rate limiter (lab/ratelimiter.mjs) sharing one
// redis-server, all Warden services, judged as one `ratelimiter` subject; the lab's load generator
// offers load where a fault needs it. Three faults: Redis killed (its root is Redis, and the nodes
// must come back by themselves), a node with a stale cache (drift: flushed), a node enforcing a
// higher limit under load (ghost allowing: the limit set back).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killLab, LAB, requireRedis } from '../lab.js';
import { callJson } from '../../subjects/ratelimiter/http.js';
import type { Scenario, Stage } from '../demo.js';

export const NODES = ['n1', 'n2', 'n3'] as const;
export const LIMIT = 5;

type LimiterStage = Stage & { ports: Record<string, number> };

/** The `services:` entries: Redis and the nodes as processes (the e2e test runs the same ones). */
export function limiterServices(redisPort: number, ports: Record<string, number>): string {
  const nodes = NODES.map((n) => `  - name: ${n}
    kind: process
    start: [node, ${join(LAB, 'ratelimiter.mjs')}]
    env: { PORT: "${ports[n]}", REDIS_PORT: "${redisPort}", NODE_ID: ${n}, LIMIT: "${LIMIT}", WINDOW_MS: "500" }
    dependsOn: [redis]
    stopGrace: 1s
    startPeriod: 5s
    checks:
      - http: { url: "http://127.0.0.1:${ports[n]}/healthz", expectStatus: 200 }
        interval: 300ms
        timeout: 300ms
        failures: 2
`).join('');
  return `  - name: redis
    kind: process
    start: [redis-server, --port, "${redisPort}", --bind, 127.0.0.1, --save, "", --appendonly, "no"]
    stopGrace: 1s
    checks:
      - tcp: { address: "127.0.0.1:${redisPort}" }
        interval: 250ms
        timeout: 200ms
${nodes}`;
}

/** The `subjects:` section: the limiter over Redis and the nodes. */
export function limiterSubject(ports: Record<string, number>): string {
  return `subjects:
  - name: limiter
    members: [redis, ${NODES.join(', ')}]
    interval: 500ms
    ratelimiter:
      nodes: { ${NODES.map((n) => `${n}: "http://127.0.0.1:${ports[n]}"`).join(', ')} }
      redis: redis
      limit: ${LIMIT}
      window: 500ms
`;
}

/** The `policy:` section: the repairs the limiter needs, and a bound on restarts. */
export const LIMITER_POLICY = `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart, ratelimiter.flush, ratelimiter.set-limit, ratelimiter.reset-counter]
      approval: none
  limits:
    - { action: restart, per: service, max: 10, window: 10m }`;

/** The warden.yaml of the demo. */
export function limiterConfig(dir: string, redisPort: number, ports: Record<string, number>): string {
  return `# Generated for warden demo ratelimiter.
version: 1
agent:
  name: limiter-warden
  mode: execute
  dataDir: ${join(dir, 'data')}
  interval: 1s
  verify: { stable: 500ms, deadline: 15s }
services:
${limiterServices(redisPort, ports)}
${limiterSubject(ports)}${LIMITER_POLICY}
`;
}

/** The load generator, in the background for `seconds`: it ends by itself. */
function offerLoad(ports: Record<string, number>, args: string[]): void {
  const nodes = NODES.map((n) => `127.0.0.1:${ports[n]}`).join(',');
  const child = spawn(process.execPath, [join(LAB, 'loadgen.mjs'), '--nodes', nodes, ...args], { stdio: 'ignore' });
  child.unref();
}

const admin = (ports: Record<string, number>, node: string, path: string): Promise<unknown> =>
  callJson('POST', `http://127.0.0.1:${ports[node]}${path}`, { timeoutMs: 2000 });

export const limiterScenario: Scenario<LimiterStage> = {
  name: 'ratelimiter',
  description: 'three rate-limiter nodes on one Redis: Redis killed, counter drift, ghost allowing',
  async setup() {
    requireRedis();
    const dir = mkdtempSync(join(tmpdir(), 'warden-demo-limiter-'));
    const redisPort = await freePort();
    const ports: Record<string, number> = {};
    for (const n of NODES) ports[n] = await freePort();
    const configPath = join(dir, 'warden.yaml');
    writeFileSync(configPath, limiterConfig(dir, redisPort, ports));
    return {
      ports, dir, configPath,
      describe: `redis-server :${redisPort} ← ${NODES.map((n) => `${n} :${ports[n]}`).join(', ')}`,
      healthy: ['redis', ...NODES, 'limiter'],
      teardown: async (store, dataDir) => { if (store) killLab(store, dataDir, ['redis', ...NODES]); },
    };
  },
  faults: [
    {
      name: 'kill -9 redis',
      inject: (_s, pid) => {
        process.kill(pid('redis'), 'SIGKILL');
        return { service: 'limiter', root: 'redis', cause: 'dependency_down', actions: ['restart redis'], status: 'resolved' };
      },
    },
    {
      name: 'stale cache on n3 (drift)',
      async inject(s) {
        await admin(s.ports, 'n3', '/admin/stale?ms=5000');
        offerLoad(s.ports, ['--rate', '12', '--keys', '3', '--duration', '6s']);
        return { service: 'limiter', cause: 'data_inconsistency', actions: ['ratelimiter.flush n3'], status: 'resolved' };
      },
    },
    {
      name: 'n1 allows 15, not 5 (ghost)',
      async inject(s) {
        await admin(s.ports, 'n1', '/admin/limit?value=15');
        offerLoad(s.ports, ['--rate', '240', '--keys', '2', '--duration', '8s', '--limit', String(LIMIT)]);
        return { service: 'limiter', cause: 'data_inconsistency', actions: ['ratelimiter.set-limit n1'], status: 'resolved' };
      },
    },
  ],
};
