// warden chaos KIND TARGET [--for D], chaos list, chaos revert ID: faults injected on purpose into
// a service or subject of the config (src/chaos/faults.ts), each reversible, each recorded and
// audited as the person's (app/chaos.ts, through the command path every person's command takes).
// `--for` hands the revert to a detached reverter: a `warden chaos revert ID --after D` process of
// its own, so the fault outlives this command and is reverted whether or not a daemon runs.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { activeFaults, type ChaosRecord } from '../app/chaos.js';
import { CHAOS_KINDS, inject, revert, type ChaosDeps, type ChaosKind } from '../chaos/faults.js';
import type { ResolvedConfig, ServiceSpec } from '../domain/types.js';
import { ProcessSupervisor } from '../kinds/process/supervisor.js';
import { systemClock } from '../lib/clock.js';
import { formatDuration } from '../lib/duration.js';
import { readProcStat } from '../lib/proc.js';
import { sleep } from '../lib/wait.js';
import { instanceIdOf } from '../loop/shared.js';
import { Store } from '../store/store.js';
import { run } from '../subjects/etcd/labnet.js';
import { CliError, config, personIdentity, printJson, printTable, readConfig, storeCreated, withStore, type GlobalOpts } from './common.js';
import { durationOption } from './control.js';
import { readOnly } from './status.js';
import { submit } from './submit.js';

const KIND_HELP: Record<ChaosKind, string> = {
  kill: 'SIGKILL the service\'s main process; reverted by starting it if it is still down (as "warden start" would)',
  hang: 'SIGSTOP the service: alive, holding its sockets, answering nothing; reverted by SIGCONT',
  partition: 'take the links of the service\'s network namespace down (its process runs, nobody reaches it); reverted by link up',
  latency: 'delay every packet leaving the service\'s network namespace (tc netem, --delay); reverted by removing the qdisc',
  'fill-disk': 'fill the small filesystem under the service\'s data (--path, its filesystem check, or its cwd) with one file until ENOSPC; reverted by removing the file',
  'kill-leader': 'TARGET is an etcd subject: ask its members for their leader and SIGKILL that member; reverted as kill',
  'corrupt-counters': 'make a rate-limiter node\'s local cache stale (POST /admin/stale), so the nodes\' counts drift; reverted by POST /admin/flush',
};

/** How long a reverter waits for the injecting command to record its fault (it records after spawning it). */
const RECORD_WAIT_MS = 15_000;

/** A service's main process as Warden sees it, without a daemon's help: /proc for `process`, systemd's MainPID for `systemd`. */
async function pidOf(cfg: ResolvedConfig, spec: ServiceSpec): Promise<number | null> {
  if (spec.kind === 'systemd') {
    const r = await run(['systemctl', 'show', '--property=MainPID', '--value', spec.unit]);
    const n = Number(r.stdout.trim());
    return r.code === 0 && n > 0 ? n : null;
  }
  const store = storeCreated(cfg.agent.dataDir) ? Store.open(cfg.agent.dataDir, { readonly: true }) : null;
  const sup = new ProcessSupervisor({ dataDir: cfg.agent.dataDir, instanceId: instanceIdOf(cfg), registry: readOnly(store), clock: systemClock, onExit: () => undefined });
  try {
    sup.adopt([spec]);
    const s = sup.state(spec.name);
    return s.running ? s.pid : null;
  } finally {
    sup.dispose();
    store?.close();
  }
}

function depsFor(cfg: ResolvedConfig, by: string): ChaosDeps {
  return {
    pidOf: (spec) => pidOf(cfg, spec),
    start: (service) => submit(cfg, { kind: 'service', op: 'start', service, reason: `reverting a chaos kill by ${by}` }),
  };
}

/** Starts the detached reverter of fault `id`, due in `ms`; its output goes to dataDir/chaos/ID.log. */
function spawnReverter(cfg: ResolvedConfig, id: string, ms: number): { pid: number; startTime: number } {
  const dir = join(cfg.agent.dataDir, 'chaos');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = openSync(join(dir, `${id}.log`), 'a', 0o600);
  try {
    const entry = process.argv[1];
    if (entry === undefined) throw new CliError('cannot start the reverter: this process has no entry script to run again');
    const child = spawn(process.execPath, [entry, '--config', cfg.file, 'chaos', 'revert', id, '--after', `${ms}ms`, '--automatic'], {
      detached: true, stdio: ['ignore', out, out], env: process.env,
    });
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new CliError('cannot start the reverter process');
    return { pid, startTime: readProcStat(pid)?.startTime ?? 0 };
  } finally {
    closeSync(out);
  }
}

const alive = (r: ChaosRecord['reverter']): boolean => r !== null && readProcStat(r.pid)?.startTime === r.startTime;

function readFaults(cfg: ResolvedConfig): ChaosRecord[] {
  return storeCreated(cfg.agent.dataDir) ? withStore(cfg, 'read', (s) => activeFaults(s)) : [];
}

/** When a fault is reverted, in words. */
function due(f: ChaosRecord, now: number): string {
  if (f.until === null) return `by hand: warden chaos revert ${f.id}`;
  const left = Date.parse(f.until) - now;
  if (alive(f.reverter)) return left > 0 ? `in ${formatDuration(Math.ceil(left / 1000) * 1000)}` : 'now';
  return `overdue: its reverter (pid ${f.reverter?.pid ?? '?'}) is gone; warden chaos revert ${f.id}`;
}

interface InjectOpts { for?: number; delay: number; path?: string; iKnow?: boolean; json?: boolean }

async function injectCommand(globals: GlobalOpts, kind: ChaosKind, target: string, o: InjectOpts): Promise<void> {
  const cfg = config(globals);
  if (!cfg.agent.lab && o.iKnow !== true) {
    throw new CliError(`refused: ${cfg.file} is not a lab (agent.lab is not true), and ${kind} breaks ${target} on purpose. In a lab, set "agent: { lab: true }"; to inject it here anyway, pass --i-know (it is audited)`);
  }
  const by = personIdentity(cfg).by;
  const deps = depsFor(cfg, by);
  const id = `C${randomBytes(3).toString('hex')}`;
  const done = await inject(cfg, kind, target, { id, delayMs: o.delay, ...(o.path !== undefined ? { path: o.path } : {}) }, deps);
  const now = Date.now();
  let reverter: ChaosRecord['reverter'] = null;
  const fault: ChaosRecord = {
    id, kind, target, service: done.service, detail: done.detail, revert: done.revert, at: new Date(now).toISOString(),
    until: o.for === undefined ? null : new Date(now + o.for).toISOString(), by, iKnow: !cfg.agent.lab, reverter,
  };
  try {
    if (o.for !== undefined) fault.reverter = reverter = spawnReverter(cfg, id, o.for);
    await submit(cfg, { kind: 'chaos', op: 'injected', fault });
  } catch (e) {
    // Unrecorded, a fault would be invisible to "chaos list": put it right now, and say so.
    if (reverter) try { process.kill(reverter.pid, 'SIGTERM'); } catch { /* gone */ }
    const undone = await revert(done.revert, deps, cfg).catch((u: unknown) => `and reverting it failed too: ${u instanceof Error ? u.message : String(u)}`);
    throw new CliError(`${kind} ${target} was injected but could not be recorded (${e instanceof Error ? e.message : String(e)}), so it was reverted: ${undone}`);
  }
  if (o.json === true) return printJson(fault);
  process.stdout.write(`fault ${id}: ${kind} ${target}: ${done.detail}\n${fault.until ? `reverted in ${formatDuration(o.for ?? 0)} (at ${fault.until}) by pid ${reverter?.pid ?? '?'}; sooner: ` : 'revert with: '}warden chaos revert ${id}\n`);
}

interface RevertOpts { after?: number; automatic?: boolean; json?: boolean }

async function revertCommand(globals: GlobalOpts, id: string, o: RevertOpts): Promise<void> {
  if (o.after !== undefined) await sleep(o.after);
  const cfg = readConfig(globals);
  const automatic = o.automatic === true;
  const deadline = Date.now() + (automatic ? RECORD_WAIT_MS : 0);
  let fault = readFaults(cfg).find((f) => f.id === id);
  // A reverter due very soon may look before the command that started it has recorded the fault.
  while (!fault && Date.now() < deadline) {
    await sleep(100);
    fault = readFaults(cfg).find((f) => f.id === id);
  }
  if (!fault) {
    if (automatic) {
      process.stdout.write(`fault ${id} is not in force (reverted already): nothing to do\n`);
      return;
    }
    throw new CliError(`no fault ${id} in force; see "warden chaos list"`);
  }
  const by = personIdentity(cfg).by;
  const detail = await revert(fault.revert, depsFor(cfg, by), cfg);
  const message = await submit(cfg, { kind: 'chaos', op: 'reverted', id, detail, automatic });
  if (o.json === true) return printJson({ id, kind: fault.kind, target: fault.target, detail, automatic });
  process.stdout.write(`${message}: ${fault.kind} ${fault.target}: ${detail}\n`);
}

export function registerChaos(program: Command, globals: () => GlobalOpts): void {
  const chaos = program.command('chaos')
    .description('inject a reversible fault into a service or subject (a lab\'s, unless --i-know), list faults in force, revert them')
    .addHelpText('after', `
Every fault is recorded and audited as yours, and reversible. With --for it is reverted by a
detached process after that long, whether or not this command or the daemon still runs.
Refused unless the config says it is a lab (agent.lab: true; the demo's and the tests' do) or
you pass --i-know. See docs/chaos.md.

Examples:
  warden chaos kill web --for 30s        Warden should restart it; if not, it is started at 30s
  warden chaos hang cache --for 10s      SIGSTOP, then SIGCONT
  warden chaos kill-leader etcd          the etcd subject's leader member
  warden chaos list                      faults in force, and when each is reverted
  warden chaos revert C3fa9c1            put one right now`);
  for (const kind of CHAOS_KINDS) {
    const c = chaos.command(`${kind} <target>`)
      .description(KIND_HELP[kind])
      .option('--for <duration>', 'revert it after this long (30s, 10m), by a detached reverter', durationOption);
    // Each kind shows only its own options; --delay keeps a default for the others' sake.
    c.addOption(new Option('--delay <duration>', 'the delay added to each packet').argParser(durationOption).default(100, '100ms').hideHelp(kind !== 'latency'));
    if (kind === 'fill-disk') c.option('--path <dir>', 'a directory on the filesystem to fill (default: the service\'s filesystem check\'s path, else its cwd)');
    c.option('--i-know', 'inject it although the config is not a lab (agent.lab is not true)')
      .option('--json', 'print the fault\'s record as JSON')
      .action((target: string, o: InjectOpts) => injectCommand(globals(), kind, target, o));
  }
  chaos.command('list')
    .description('faults in force: what was done to which target, by whom, and when it is reverted')
    .option('--json', 'print the records as JSON')
    .action((o: { json?: boolean }) => {
      const faults = readFaults(readConfig(globals()));
      const now = Date.now();
      if (o.json === true) return printJson(faults.map((f) => ({ ...f, reverterAlive: alive(f.reverter) })));
      printTable(faults.map((f) => ({ id: f.id, kind: f.kind, target: f.target, by: f.by, reverted: due(f, now), detail: f.detail })), 'no fault in force');
    });
  chaos.command('revert <id>')
    .description('put right fault ID now (see "warden chaos list")')
    .option('--after <duration>', 'wait this long first (what the reverter that --for starts does)', durationOption)
    .addOption(new Option('--automatic', 'audit it as the --for running out (the reverter)').hideHelp())
    .option('--json', 'print what was done as JSON')
    .action((id: string, o: RevertOpts) => revertCommand(globals(), id, o));
}
