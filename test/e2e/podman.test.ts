// Containers and pods through a real Podman (kind container, kind pod): a container killed is
// restarted and verified; one the kernel OOM-kills is diagnosed resource_exhausted with the
// evidence; a pod's diagnostics endpoint gives per-container state, exit code, health and at most
// 50 log lines, the same as `warden debug POD --json`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { cli, cliJson, Daemon, waitFor, type TicketJson } from './harness.js';
import { ensureImage, MACHINE, podman, podmanSkipped, removeAll } from './podman.js';

const TOKEN = 'podman-test-token';

interface Setup { dir: string; config: string; daemon: Daemon; port: number }

/** A data directory, a config with these services (YAML lines) and a daemon not yet started. */
async function setup(t: TestContext, services: string, opts: { policy?: string } = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-podman-'));
  const port = await freePort();
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  const config = join(dir, 'warden.yaml');
  writeFileSync(config, `version: 1
agent:
  name: podman-test
  mode: execute
  dataDir: ${join(dir, 'data')}
  interval: 250ms
  verify: { stable: 1s, deadline: 20s }
  api: { listen: "127.0.0.1:${port}", tokenFile: ${join(dir, 'token')} }
services:
${services}
${opts.policy ?? ''}`);
  const daemon = new Daemon(config);
  t.after(async () => {
    await daemon.signal('SIGKILL').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, config, daemon, port };
}

/** One container's YAML, with what this machine's Podman needs. */
function container(image: string, fields: string): string {
  return `{ image: "${image}", network: none, runtime: ${MACHINE.runtime}, ulimits: ${JSON.stringify(MACHINE.ulimits)}, ${fields} }`;
}

async function inspect(name: string): Promise<{ running: boolean; startedAt: string; health: string }> {
  const r = await podman(['container', 'inspect', '--format', '{{.State.Running}} {{.State.StartedAt}}|{{.State.Health.Status}}', name]);
  const [head = '', health = ''] = r.stdout.trim().split('|');
  const [running, ...started] = head.split(' ');
  return { running: running === 'true', startedAt: started.join(' '), health };
}

const tickets = (config: string): Promise<TicketJson[]> => cliJson<TicketJson[]>(['tickets', 'list', '--all'], config);
/** Only `start`: first deployment is allowed, a repair is recommended but not run. */
const START_ONLY = 'policy:\n  rules:\n    - { match: { service: "*" }, allow: [start] }\n';

void describe('kind container and kind pod through Podman', { skip: podmanSkipped() }, () => {
  let image = '';
  const suffix = `${process.pid}`;
  before(async () => { image = await ensureImage(); }, { timeout: 10 * 60_000 });

  it('a container killed is restarted by Warden and verified healthy', async (t) => {
    const name = `wpt-web-${suffix}`;
    t.after(() => removeAll([name]));
    const s = await setup(t, `  - name: web
    kind: container
    stopGrace: 1s
    container: ${container(image, `name: ${name}, command: [sh, -c, "echo web up; touch /tmp/ready; exec sleep 100000"], healthcheck: { command: [test, -f, /tmp/ready], interval: 300ms }`)}
`);
    await s.daemon.start();
    await waitFor(async () => (await inspect(name)).health === 'healthy', 20_000, 'web created and healthy');
    const first = await inspect(name);

    assert.equal((await podman(['kill', '--signal', 'KILL', name])).code, 0);
    const ticket = await waitFor(async () => (await tickets(s.config)).find((x) => x.service === 'web' && x.status === 'resolved'), 30_000, 'web ticket resolved');
    assert.equal(ticket.cause, 'process_exited');
    const acts = await cliJson<{ type: string; state: string; target: string }[]>(['actions', 'list'], s.config);
    assert.ok(acts.some((a) => a.type === 'restart' && a.state === 'completed' && a.target === 'web'), JSON.stringify(acts));
    const now = await inspect(name);
    assert.equal(now.running, true);
    assert.notEqual(now.startedAt, first.startedAt, 'a new run of the same container');
    assert.equal(now.health, 'healthy');
    const dbg = JSON.parse((await cli(['debug', 'web', '--json'], { config: s.config })).stdout) as { lastExit: { code: number; signal: string }; log: string[] };
    assert.deepEqual([dbg.lastExit.code, dbg.lastExit.signal], [137, 'SIGKILL']);
    assert.ok(dbg.log.some((l) => l.endsWith('web up')), JSON.stringify(dbg.log));
  });

  it('a container the kernel OOM-kills is resource_exhausted, citing OOMKilled and its memory limit', async (t) => {
    const name = `wpt-hog-${suffix}`;
    t.after(() => removeAll([name]));
    const s = await setup(t, `  - name: hog
    kind: container
    stopGrace: 1s
    container: ${container(image, `name: ${name}, memory: 32MiB, command: [sh, -c, "echo allocating; sleep 1; x=a; while :; do x=$x$x; done"]`)}
`, { policy: START_ONLY });
    await s.daemon.start();
    const ticket = await waitFor(async () => (await tickets(s.config)).find((x) => x.service === 'hog' && x.cause !== null), 30_000, 'hog diagnosed');
    assert.equal(ticket.cause, 'resource_exhausted');
    const shown = await cliJson<{ diagnosis: { evidence: { source: string; fact: string }[]; recommended: { type: string }[] } }>(['tickets', 'show', ticket.id], s.config);
    const facts = shown.diagnosis.evidence.map((e) => e.fact);
    assert.ok(facts.some((f) => f.startsWith(`OOMKilled: the kernel's OOM killer killed container ${name}`)), JSON.stringify(facts));
    assert.ok(facts.includes('memory limit 32 MiB (33554432 bytes)'), JSON.stringify(facts));
    assert.ok(facts.some((f) => f.startsWith('exited by signal SIGKILL')), JSON.stringify(facts));
    assert.deepEqual(shown.diagnosis.recommended.map((r) => r.type), ['restart']);
  });

  it('the pod diagnostics endpoint gives per-container state, exit code, health and ≤ 50 log lines, as warden debug --json does', async (t) => {
    const pod = `wpt-pod-${suffix}`;
    t.after(() => removeAll([], [pod]));
    const s = await setup(t, `  - name: shop
    kind: pod
    stopGrace: 1s
    pod:
      name: ${pod}
      containers:
        - ${container(image, 'name: app, command: [sh, -c, "for i in $(seq 1 80); do echo line $i; done; touch /tmp/ready; exec sleep 100000"], healthcheck: { command: [test, -f, /tmp/ready], interval: 300ms }')}
        - ${container(image, 'name: job, command: [sh, -c, "echo job failing >&2; exit 3"]')}
`, { policy: START_ONLY });
    await s.daemon.start();
    const url = `http://127.0.0.1:${s.port}/api/services/shop/diagnostics`;
    type Pod = { name: string; state: string; containers: { name: string; state: string; exitCode: number | null; health: string | null; log: string[] }[] };
    const get = async (): Promise<{ pod: Pod } & Record<string, unknown>> => (await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as Promise<{ pod: Pod }>;
    const settled = await waitFor(async () => {
      const b = await get();
      const [app, job] = b.pod?.containers ?? [];
      return app?.health === 'healthy' && app.log.length === 50 && job?.exitCode === 3 && job.log.length > 0 ? b : null;
    }, 30_000, 'pod up, app healthy with its log, job exited 3');
    assert.equal(settled.pod.name, pod);
    assert.equal(settled.pod.state, 'Degraded');
    const [app, job] = settled.pod.containers;
    assert.deepEqual([app!.name, app!.state, app!.exitCode, app!.health], [`${pod}-app`, 'running', null, 'healthy']);
    assert.match(app!.log.at(-1)!, / line 80$/);
    assert.match(app!.log[0]!, / line 31$/, 'the last 50 of 80 lines');
    assert.deepEqual([job!.name, job!.state, job!.exitCode, job!.health], [`${pod}-job`, 'exited', 3, null]);
    assert.match(job!.log.join('\n'), /job failing/);

    const api = await get();
    const dbg = await cli(['debug', 'shop', '--json'], { config: s.config });
    assert.equal(dbg.code, 0, dbg.stderr);
    const viaCli = JSON.parse(dbg.stdout) as Record<string, unknown>;
    // Evidence texts carry live readings of the host (load, free memory); the ids must agree.
    const stable = (b: Record<string, unknown>): unknown => ({ ...b, generatedAt: null, evidence: (b.evidence as { id: string }[]).map((p) => p.id) });
    assert.deepEqual(stable(viaCli), stable(api), 'warden debug --json and the endpoint return the same bundle');

    // Without the daemon, warden debug reads the pod from Podman itself: the same pod section.
    await s.daemon.stop();
    const offline = JSON.parse((await cli(['debug', 'shop', '--json'], { config: s.config })).stdout) as { pod: Pod };
    assert.deepEqual(offline.pod, api.pod);
  });
});
