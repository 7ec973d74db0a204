// Containers on a host reached over SSH: every podman command of that host's services goes
// through its transport, argv untouched; Warden's own host keeps running podman itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Duplex } from 'node:stream';
import type { ServiceSpec } from '../../domain/types.js';
import { fakeWall } from '../../testing/clock.js';
import type { RunOptions, RunResult, Transport } from '../../transport/transport.js';
import { HostedPodmanDriver } from './hosts.js';

/** A host whose podman knows no container yet, and records every argv it is sent. */
class Recording implements Transport {
  argv: string[][] = [];
  env: (Readonly<Record<string, string>> | undefined)[] = [];
  constructor(readonly host: string, readonly kind: 'local' | 'ssh') {}
  run(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
    this.argv.push([...argv]);
    this.env.push(opts.env);
    if (argv[1] === 'container' && argv[2] === 'inspect') return Promise.resolve({ code: 125, stdout: '', stderr: 'Error: no such container' });
    return Promise.resolve({ code: 0, stdout: '', stderr: '' });
  }
  connect(): Promise<Duplex> { return Promise.reject(new Error('not used')); }
  close(): Promise<void> { return Promise.resolve(); }
}

const web: ServiceSpec = {
  name: 'web', host: 'b', kind: 'container', unit: null, start: [], cwd: '/', env: {}, stopSignal: 'SIGTERM', stopGraceMs: 2000,
  dependsOn: [], checks: [], runbooks: [], logMaxBytes: 1, logKeep: 1,
  container: { name: 'web', image: 'localhost/app:1', command: [], env: {}, ports: [], memoryBytes: null, healthcheck: null, network: null, runtime: 'runc', ulimits: {} },
} as ServiceSpec;

test("a container on an SSH host: inspect and run go through that host's transport", async () => {
  const b = new Recording('b', 'ssh');
  const d = new HostedPodmanDriver({ clock: fakeWall(() => 0), onChange: () => undefined, onExit: () => undefined, transport: () => b });
  d.setServices([web]);
  await d.refresh();
  assert.deepEqual(b.argv, [['podman', 'container', 'inspect', 'web']]);
  assert.deepEqual(b.env[0], { LC_ALL: 'C', TZ: 'UTC' });
  assert.equal(d.state(web).running, false);
  assert.equal(d.state(web).facts?.Status, 'missing');
  await d.start(web, { actionId: 'A9' });
  const run = b.argv.find((a) => a.includes('run'));
  assert.ok(run, b.argv.map((a) => a.join(' ')).join('\n'));
  assert.deepEqual(run.slice(0, 4), ['podman', '--runtime', 'runc', 'run']);
  assert.ok(run.includes('warden.action=A9'));
  assert.deepEqual(run.slice(-2), ['--', 'localhost/app:1']);
  d.dispose();
});

test('each host has its own driver: a service on another host never reaches this one', async () => {
  const hosts = { b: new Recording('b', 'ssh'), c: new Recording('c', 'ssh') };
  const d = new HostedPodmanDriver({ clock: fakeWall(() => 0), onChange: () => undefined, onExit: () => undefined, transport: (h) => hosts[h as 'b' | 'c'] });
  d.setServices([web, { ...web, name: 'api', host: 'c', container: { ...(web as Extract<ServiceSpec, { kind: 'container' }>).container, name: 'api' } } as ServiceSpec]);
  await d.refresh();
  assert.deepEqual(hosts.b.argv, [['podman', 'container', 'inspect', 'web']]);
  assert.deepEqual(hosts.c.argv, [['podman', 'container', 'inspect', 'api']]);
  d.dispose();
});
