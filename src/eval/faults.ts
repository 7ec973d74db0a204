// The fault injectors of the catalog, one per `fault.type`, as one typed table: each breaks the
// lab the way the real thing breaks a machine (a signal, a full tmpfs, a lowered rlimit, a changed
// config deployed by a person, a link that delays or drops), never by asking Warden to pretend.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fillUntilFull } from '../lib/fill.js';
import { connect } from 'node:net';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { loadConfig } from '../config/load.js';
import type { FaultRun } from '../demo/demo.js';
import { parseDuration } from '../lib/duration.js';
import { waitFor } from '../lib/wait.js';
import type { Fault, FaultType } from './catalog.js';
import { LabError, type EvalStage } from './stage.js';
import { capFds } from './fds.js';

/** How long a capped process is watched for a descriptor it held for a moment (fds.ts). */
const FD_WATCH_MS = 500;

type Pid = (svc: string) => number;
type Injector<T extends FaultType> = (f: Extract<Fault, { type: T }>, stage: EvalStage, pid: Pid, run: FaultRun) => Promise<void> | void;

/** Who requests a deploy in the audit log. */
export const EVAL_PERSON = 'person:eval';

function signal(pid: number, sig: NodeJS.Signals): void {
  process.kill(pid, sig);
}

function volume(stage: EvalStage, name: string): string {
  const path = stage.volumes.get(name);
  if (!path) throw new LabError(`the lab has no volume "${name}"`);
  return path;
}

function control(stage: EvalStage, link: string, mode: object): void {
  const file = stage.controls.get(link);
  if (!file) throw new LabError(`the lab has no helper "${link}"`);
  writeFileSync(`${file}.tmp`, JSON.stringify(mode));
  renameSync(`${file}.tmp`, file);
}

/** A person deploys: the service restarted by hand through the command queue, as `warden restart` does. */
function deploy(run: FaultRun, service: string): void {
  run.store.enqueueCommand(JSON.stringify({ kind: 'service', op: 'restart', service, by: EVAL_PERSON, reason: 'deploy' }), Date.now());
  run.daemon.kick();
}

/** Edits the service's entry in the lab's warden.yaml, reloads the daemon (SIGHUP's path), and deploys. */
function changeService(stage: EvalStage, run: FaultRun, service: string, edit: (entry: Record<string, unknown>) => void): void {
  const doc = parseDocument(readFileSync(stage.configPath, 'utf8'));
  const services = doc.get('services');
  if (!isSeq(services)) throw new LabError('the lab config has no services list');
  const entry = services.items.find((it) => isMap(it) && it.get('name') === service);
  if (!isMap(entry)) throw new LabError(`the lab has no service "${service}"`);
  const plain = entry.toJSON() as Record<string, unknown>;
  edit(plain);
  services.items[services.items.indexOf(entry)] = doc.createNode(plain);
  writeFileSync(stage.configPath, doc.toString({ lineWidth: 0 }));
  if (!run.daemon.reload(() => loadConfig(stage.configPath))) throw new LabError(`the changed config of ${service} did not load`);
  deploy(run, service);
}

/** The service `depth` levels down `of`'s first dependencies. */
function dependencyAt(stage: EvalStage, of: string, depth: number): string {
  const cfg = loadConfig(stage.configPath);
  let cur = of;
  for (let i = 0; i < depth; i++) {
    const dep = cfg.services.find((s) => s.name === cur)?.dependsOn[0];
    if (!dep) throw new LabError(`${cur} has no dependency (${of}, ${depth} levels down)`);
    cur = dep;
  }
  return cur;
}

function redisCommand(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let reply = '';
    s.setTimeout(2000, () => { s.destroy(); reject(new Error(`redis on ${port} did not answer`)); });
    s.on('error', reject);
    s.on('connect', () => s.write(lines.map((l) => `${l}\r\n`).join('')));
    s.on('data', (d) => {
      reply += d.toString();
      if (reply.split('\r\n').length > lines.length) { s.destroy(); resolve(reply); }
    });
  });
}

/** Sends GETs at a steady rate for a while: load on a control run. */
function offerLoad(url: string, rps: number, ms: number): void {
  const timer = setInterval(() => { void fetch(url).then((r) => r.arrayBuffer()).catch(() => undefined); }, Math.max(1, Math.round(1000 / rps)));
  setTimeout(() => clearInterval(timer), ms).unref();
}

const injectors: { [T in FaultType]: Injector<T> } = {
  none: (f) => { if (f.load) offerLoad(f.load.url, f.load.rps, parseDuration(f.observe)); },
  kill: (f, _s, pid) => signal(pid(f.target), f.signal as NodeJS.Signals),
  // The lab's services exit 0 on SIGTERM, as most daemons do when told to stop.
  exit0: (f, _s, pid) => signal(pid(f.target), 'SIGTERM'),
  'crash-loop': (f, _s, pid) => { writeFileSync(f.file, 'garbage'); signal(pid(f.target), 'SIGKILL'); },
  sigstop: (f, _s, pid) => signal(pid(f.target), 'SIGSTOP'),
  'stop-dependency': (f, s, pid) => signal(pid(dependencyAt(s, f.of, f.depth)), 'SIGKILL'),
  'change-start': (f, s, _p, run) => changeService(s, run, f.target, (e) => { e.start = f.start; }),
  'change-env': (f, s, _p, run) => changeService(s, run, f.target, (e) => { e.env = { ...(e.env as Record<string, string> | undefined), ...f.env }; }),
  'remove-binary': (f, s, pid) => {
    const cfg = loadConfig(s.configPath).services.find((x) => x.name === f.target);
    const exe = cfg?.kind === 'process' ? cfg.start[0] : undefined;
    if (!exe?.startsWith(join(s.dir, 'bin'))) throw new LabError(`${f.target} must start from \${dir}/bin/ for remove-binary`);
    renameSync(exe, `${exe}.removed`);
    signal(pid(f.target), 'SIGKILL');
  },
  'occupy-port': async (f, s, pid) => {
    // A foreign listener that takes the port the moment the service lets go of it.
    const code = `const net=require('net');const go=()=>{const s=net.createServer();s.once('error',()=>setTimeout(go,1));s.listen(${Number(f.port)},'127.0.0.1',()=>console.log('holding'))};go()`;
    const p = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    s.own.push(p);
    await new Promise((r) => setTimeout(r, 200));
    signal(pid(f.target), 'SIGKILL');
    let held = false;
    p.stdout.on('data', () => { held = true; });
    await waitFor(() => held, 5000, `a foreign process to take port ${f.port}`, { everyMs: 5 });
  },
  'fill-disk': (f, s) => fillUntilFull(join(volume(s, f.volume), 'filler')),
  'exhaust-inodes': (f, s) => {
    const dir = volume(s, f.volume);
    for (let i = 0; ; i++) {
      try {
        closeSync(openSync(join(dir, `inode-${i}`), 'w'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return;
        throw e;
      }
    }
  },
  'exhaust-fds': (f, _s, pid) => capFds(pid(f.target), FD_WATCH_MS),
  // The service runs under an address-space limit (prlimit --as in its start command); the trigger
  // makes it allocate past it.
  'memory-limit': (f) => writeFileSync(f.trigger, 'leak'),
  'slow-start': (f, _s, pid) => { writeFileSync(f.file, String(parseDuration(f.delay))); signal(pid(f.target), 'SIGKILL'); },
  latency: (f, s) => control(s, f.link, { delayMs: parseDuration(f.delay) }),
  'network-loss': (f, s) => control(s, f.link, { drop: true }),
  'revoke-credentials': async (f) => {
    const reply = await redisCommand(Number(f.port), [`AUTH ${f.password}`, `CONFIG SET requirepass ${f.newPassword}`]);
    if (!/\+OK\r\n\+OK/.test(reply)) throw new LabError(`redis did not take the new password: ${reply.trim()}`);
  },
  flapping: async (f, _s, pid, run) => {
    // Killed again each time Warden has repaired it and resolved the ticket.
    for (let i = 0; i < f.times; i++) {
      const resolvedBefore = run.store.listTickets({ limit: 1000 }).filter((t) => t.service === f.target && t.status === 'resolved').map((t) => `${t.id}:${t.occurrences}`);
      const seen = run.store.listTickets({ limit: 1000 }).filter((t) => t.service === f.target).map((t) => `${t.id}:${t.occurrences}`);
      signal(pid(f.target), 'SIGKILL');
      if (i === f.times - 1) {
        // Done once the last kill is a ticket's new occurrence (until then the last one reads resolved).
        await waitFor(() => run.store.listTickets({ limit: 1000 }).some((t) => t.service === f.target && !seen.includes(`${t.id}:${t.occurrences}`)), 30_000, `${f.target}'s last kill seen`, { everyMs: 10 });
        return;
      }
      await waitFor(() => run.store.listTickets({ limit: 1000 }).some((t) => t.service === f.target && t.status === 'resolved' && !resolvedBefore.includes(`${t.id}:${t.occurrences}`)), 30_000, `${f.target} repaired`, { everyMs: 20 });
    }
  },
  deploy: (f, _s, _p, run) => deploy(run, f.target),
};

export async function injectFault(stage: EvalStage, pid: Pid, run: FaultRun): Promise<void> {
  const f = stage.fault;
  await (injectors[f.type] as Injector<typeof f.type>)(f as never, stage, pid, run);
}
