// Limits on Warden itself: a SIGSTOP of a few seconds, and its own file descriptors running out
// under a real `prlimit --nofile`. In each case Warden must say so, recover by itself, keep every
// committed record, and never act twice nor on a service that did nothing wrong.
// docs/reliability.md ("Warden under pressure") quotes what these tests observe.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { freePort, LAB } from '../../src/demo/lab.js';
import { readProcStat } from '../../src/lib/proc.js';
import { Store } from '../../src/store/store.js';
import { cli, cliJson, sleep, startLab, startsOf, waitFor, WARDEN, type ActionJson, type TicketJson } from './harness.js';

interface AuditJson { seq: number; hash: string; kind: string; subject: string | null; data: Record<string, unknown> }

const audit = (config: string): Promise<AuditJson[]> => cliJson<AuditJson[]>(['audit', 'list', '--limit', '100000'], config);

test('SIGSTOP of Warden for 5 s while a service dies: after SIGCONT it is repaired once, nothing committed is lost', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  const cfg = run.lab.configPath;
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  const before = await audit(cfg);
  const actionsBefore = await run.actions();
  const web = run.pid('web');
  const startsBefore = startsOf(join(run.lab.dir, 'data'), 'web');

  const warden = run.daemon.proc!;
  warden.kill('SIGSTOP');
  t.after(() => { warden.kill('SIGCONT'); });
  await waitFor(async () => readProcStat(warden.pid!)?.state === 'T', 5000, 'Warden stopped');
  process.kill(web, 'SIGKILL');
  // The fault itself lasts 5 s (half of the unit's WatchdogSec at this interval): a stop, not a wait.
  await sleep(5000);
  assert.equal(readProcStat(warden.pid!)?.state, 'T', 'still stopped: nothing was repaired meanwhile');
  assert.equal(startsOf(join(run.lab.dir, 'data'), 'web'), startsBefore);
  warden.kill('SIGCONT');

  const ticket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && (x.status === 'resolved' || x.status === 'escalated')), 30_000, 'web repaired');
  assert.equal(ticket.status, 'resolved', ticket.reason ?? '');
  assert.equal(ticket.cause, 'process_exited');
  await run.waitSettled(['cache', 'web']);
  const actions = await run.actions();
  const fresh = actions.filter((a) => !actionsBefore.some((b) => b.id === a.id));
  assert.deepEqual(fresh.map((a) => [a.type, a.target, a.state, a.attempts]), [['restart', 'web', 'completed', 1]], 'one restart, one attempt');
  assert.equal(startsOf(join(run.lab.dir, 'data'), 'web'), startsBefore + 1, 'web started exactly once more');
  const after = await audit(cfg);
  assert.deepEqual(after.slice(0, before.length), before, 'every record committed before is still there, unchanged');
  assert.equal(after.filter((r) => r.kind === 'action.executing' && r.subject === fresh[0]!.id).length, 1);
  const verify = await cli(['audit', 'verify'], { config: cfg });
  assert.equal(verify.code, 0, verify.stdout);
  // What the daemon said about the gap, for docs/reliability.md.
  t.diagnostic(run.daemon.output.split('\n').filter((l) => /watchdog|pass .*failed|observe web/.test(l)).join(' | '));
});

interface Fd { dir: string; config: string; noApi: string; port: number; daemon: ChildProcess; output: () => string; sleeperArgv: string[] }

/**
 * A daemon under `prlimit --nofile=N` with a worker that has an HTTP check, a sleeper with no check
 * (a unique argv, so its copies can be counted), and the API with a cap far above N.
 */
async function fdWorld(t: TestContext, nofile: number): Promise<Fd> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-fd-'));
  const port = await freePort();
  const workerPort = await freePort();
  const config = join(dir, 'warden.yaml');
  const sleeperArgv = ['sleep', String(600_000 + workerPort)];
  writeFileSync(join(dir, 'token'), 'fd-token\n', { mode: 0o600 });
  const text = (api: boolean): string => `version: 1
agent:
  name: keeper
  mode: execute
  dataDir: ${join(dir, 'data')}
  interval: 200ms
  verify: { stable: 300ms, deadline: 60s }
${api ? `  api: { listen: "127.0.0.1:${port}", tokenFile: ./token, maxConnections: 1000 }\n` : ''}services:
  - name: worker
    start: [node, ${join(LAB, 'worker.mjs')}]
    env: { PORT: "${workerPort}" }
    stopGrace: 1s
    checks:
      - http: { url: "http://127.0.0.1:${workerPort}/", expectStatus: 200 }
        interval: 200ms
        timeout: 150ms
        failures: 2
  - name: sleeper
    start: ${JSON.stringify(sleeperArgv)}
    stopGrace: 1s
policy:
  limits:
    - { action: "*", per: service, max: 20, window: 10m }
`;
  writeFileSync(config, text(true), { mode: 0o600 });
  // The same data directory without the API: status then reads the store, as it must while the
  // daemon cannot accept a connection.
  const noApi = join(dir, 'no-api.yaml');
  writeFileSync(noApi, text(false), { mode: 0o600 });
  const w: Fd = { dir, config, noApi, port, daemon: null as unknown as ChildProcess, output: () => '', sleeperArgv };
  t.after(() => {
    w.daemon.kill('SIGKILL');
    const s = Store.open(join(dir, 'data'), { readonly: true });
    const pids = ['worker', 'sleeper'].map((n) => s.getProcess(n)?.pid);
    s.close();
    for (const pid of [...pids, ...copies(sleeperArgv)]) if (pid) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  });
  await startFdDaemon(w, nofile);
  return w;
}

async function startFdDaemon(w: Fd, nofile: number): Promise<void> {
  w.daemon = spawn('prlimit', [`--nofile=${nofile}:${nofile}`, WARDEN, '--config', w.config, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  w.daemon.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  w.daemon.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  w.output = () => output;
  const d = w.daemon;
  await waitFor(async () => output.includes('api listening') || (d.exitCode !== null ? Promise.reject(new Error(output)) : false), 15_000, 'the API');
}

/** Live processes running exactly `argv`. */
function copies(argv: string[]): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
    try {
      const st = readProcStat(pid);
      return st !== null && st.state !== 'Z' && readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `${argv.join('\0')}\0`;
    } catch {
      return false;
    }
  });
}

function idle(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', () => resolve(null));
  });
}

test('descriptors run out under a daemon that adopted its services: it says so, acts on nothing, and recovers', async (t) => {
  const nofile = 128;
  const w = await fdWorld(t, nofile);
  const tickets = (): Promise<TicketJson[]> => cliJson<TicketJson[]>(['tickets', 'list', '--all'], w.noApi);
  const healthy = async (): Promise<boolean> => {
    const { services } = JSON.parse((await cli(['status', '--json'], { config: w.noApi })).stdout) as { services: { health: string }[] };
    return services.length === 2 && services.every((s) => s.health === 'healthy');
  };
  await waitFor(healthy, 20_000, 'both services healthy');
  // A restarted Warden adopts what runs: the sleeper is then watched by polling /proc.
  w.daemon.kill('SIGTERM');
  await new Promise((r) => w.daemon.once('exit', r));
  await startFdDaemon(w, nofile);
  await waitFor(async () => /adopted 2 running/.test(w.output()) && healthy(), 20_000, 'both adopted and healthy');
  const pids = (): Record<string, number | undefined> => {
    const s = Store.open(join(w.dir, 'data'), { readonly: true });
    try {
      return { worker: s.getProcess('worker')?.pid, sleeper: s.getProcess('sleeper')?.pid };
    } finally {
      s.close();
    }
  };
  // (A loaded machine may have had a ticket at the start already: a worker slow to listen. Only
  // tickets opened from here on count.)
  const before = { pids: pids(), audit: await audit(w.noApi), actions: await cliJson<ActionJson[]>(['actions', 'list', '--limit', '1000'], w.noApi), tickets: (await tickets()).map((x) => x.id) };
  const newTickets = async (): Promise<TicketJson[]> => (await tickets()).filter((x) => !before.tickets.includes(x.id));
  assert.deepEqual(copies(w.sleeperArgv), [before.pids.sleeper]);

  const pid = w.daemon.pid!;
  const fds = (): number => readdirSync(`/proc/${pid}/fd`).length;
  t.diagnostic(`daemon descriptors at rest: ${fds()} of ${nofile}`);
  const sockets: (Socket | null)[] = [];
  t.after(() => { for (const s of sockets) s?.destroy(); });
  // Idle connections take every descriptor the daemon has (the API's cap is far above). The API
  // closes idle connections after a few seconds (slowloris), which would end the shortage before a
  // loaded machine has seen it: they are topped up until the test has seen what it waits for.
  let topping = true;
  t.after(() => { topping = false; });
  const topUp = (async () => {
    while (topping) {
      for (let i = 0; i < nofile && fds() < nofile; i++) sockets.push(await idle(w.port));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await waitFor(async () => fds() >= nofile - 1, 5000, 'descriptors exhausted');
  // Until its own health says so — or, the bug, until it acts on a service that did nothing wrong.
  const seen = await waitFor(async () => {
    if ((await newTickets()).length > 0) return 'a ticket';
    const r = await cli(['status', '--json'], { config: w.noApi });
    return r.code === 3 && /has recorded no completed pass/.test(r.stdout) ? 'stale' : null;
  }, 60_000, 'status to say the daemon is stuck'); // a loaded CI machine takes its time to run dry
  assert.deepEqual(await newTickets(), [], `no ticket while Warden itself is short of descriptors (saw ${seen})`);
  assert.match(w.output(), /EMFILE.*file descriptors/, 'the log says what is short');
  topping = false;
  await topUp;
  for (const s of sockets) s?.destroy();

  // Healthy again once descriptors are free: its own health says so, and its log said it recovered.
  await waitFor(async () => (await fetch(`http://127.0.0.1:${w.port}/healthz`)).status === 200, 20_000, '/healthz 200 again');
  assert.match(w.output(), /reconcile passes succeed again/);
  await waitFor(healthy, 20_000, 'both services healthy');
  assert.deepEqual(await newTickets(), [], 'no ticket after the shortage either');
  assert.deepEqual(pids(), before.pids, 'the same processes: nothing restarted');
  assert.deepEqual(copies(w.sleeperArgv), [before.pids.sleeper], 'one sleeper, not two');
  const actions = await cliJson<ActionJson[]>(['actions', 'list', '--limit', '1000'], w.noApi);
  assert.deepEqual(actions, before.actions, 'no action taken');
  const after = await audit(w.noApi);
  assert.deepEqual(after.slice(0, before.audit.length), before.audit, 'every record committed before is still there');
  assert.ok(after.some((r) => r.kind === 'agent.recovered' && /EMFILE/.test(String(r.data.code))), 'the incident is audited once the store takes writes');
  const verify = await cli(['audit', 'verify'], { config: w.noApi });
  assert.equal(verify.code, 0, verify.stdout);
  t.diagnostic(w.output().split('\n').filter((l) => /failed|succeed again|supervisor|cannot/.test(l)).map((l) => l.slice(25, 260)).join(' | '));
});
