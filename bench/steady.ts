// `node dist/bench/steady.js`: what N healthy `kind: process` services cost Warden when nothing
// happens (DESIGN: 10,000 of them ≤ 50 ms CPU per second, RSS ≤ 200 MB, kill → ticket p50 ≤ 10 ms).
// For each N it writes a warden.yaml of N `sleep infinity` services with no checks (process
// liveness only), lets the real daemon (`./bin/warden run`, a separate process) deploy them as its
// own children, waits until all are running and the audit log is quiet, then:
//   steady — samples the daemon's CPU time (utime+stime) and RSS from /proc over a window, next to
//            an idle `node` holding nothing (the floor of any Node process), in the same window;
//   kill   — kill -9 of a random service, K times, each after the previous ticket resolved: kill →
//            exit recorded and kill → ticket.opened, from Warden's own durable records;
//   floor  — a bare Node parent of N `sleep` children (bench/steady-floor.ts), measured the same
//            way after Warden is gone: what holding N children costs before any supervision, and
//            its kill → 'exit' event, the floor of kill → ticket at this N.
// Every process the bench starts carries a marker in its environment (the daemon's services
// inherit it), and the bench kills every marked process on the way out, however the run ends.
// Usage: node dist/bench/steady.js [--sizes 100,1000,10000] [--window 20] [--kills 10]
//          [--interval 1s] [--quiet 2] [--no-floor] [--keep] [--out bench/results/steady.json]
//        node dist/bench/steady.js --sizes 10000 --limits-only   (checks the machine's limits, starts nothing)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT } from '../src/demo/lab.js';
import { fingerprintOf } from '../src/domain/detect.js';
import { listPids, readCmdline, readEnviron, readProcStat } from '../src/lib/proc.js';
import type { AuditRecord, Store } from '../src/store/store.js';
import { Janitor, machine, now, randomBetween, sleep, stats, waitUntil, type Stats } from './lib.js';
import { openStoreWhenReady, spawnWardenRun, stopWardenRun } from './warden.js';

const { values: argv } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,10000' },
    window: { type: 'string', default: '20' },
    kills: { type: 'string', default: '10' },
    interval: { type: 'string', default: '1s' },
    quiet: { type: 'string', default: '2' },
    'no-floor': { type: 'boolean', default: false },
    'limits-only': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const say = (s: string): boolean => process.stderr.write(s);
function positive(name: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    say(`steady: --${name} needs a positive ${integer ? 'integer' : 'number'}, got ${v}\n`);
    process.exit(2);
  }
  return n;
}
const SIZES = argv.sizes.split(',').map((s) => positive('sizes', s.trim(), true));
const WINDOW_S = positive('window', argv.window, false);
const KILLS = Number(argv.kills) === 0 ? 0 : positive('kills', argv.kills, true);
const QUIET_MS = positive('quiet', argv.quiet, false) * 1000;
const INTERVAL = argv.interval;
const INTERVAL_MS = (() => {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(INTERVAL);
  if (!m) { say(`steady: --interval takes e.g. 1s or 500ms, got ${INTERVAL}\n`); process.exit(2); }
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
})();
const WITH_FLOOR = !argv['no-floor'];
const SERVICE_ARGV = ['sleep', 'infinity'];
const FLOOR_SCRIPT = fileURLToPath(new URL('./steady-floor.js', import.meta.url));

/** Every process this run starts carries MARKER=TOKEN in its environment (services inherit it). */
const MARKER = 'WARDEN_STEADY_BENCH';
const TOKEN = `${process.pid}-${randomBytes(4).toString('hex')}`;
const MARKED_ENV = { [MARKER]: TOKEN };

// ------------------------------------------------------------------------------------- /proc

/** Clock ticks per second for utime/stime (getconf CLK_TCK; 100 on every Linux Node runs on). */
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** utime + stime of one process (its own threads; reaped children are not counted), in ticks. */
function cpuTicks(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3; utime is field 14, stime field 15.
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return null;
  }
}

function statusField(pid: number, field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? null : Number(m[1]);
  } catch {
    return null;
  }
}

const rssMb = (pid: number): number | null => { const kb = statusField(pid, 'VmRSS'); return kb === null ? null : kb / 1024; };

function fdCount(pid: number): number | null {
  try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return null; }
}

function memAvailableMb(): number | null {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m?.[1] === undefined ? null : Number(m[1]) / 1024;
}

/** Live processes (not zombies) that carry this run's marker, with their argv. */
function markedProcesses(): { pid: number; cmdline: string[] }[] {
  const out: { pid: number; cmdline: string[] }[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    if (readEnviron(pid)?.[MARKER] !== TOKEN) continue;
    const st = readProcStat(pid);
    if (st === null || st.state === 'Z' || st.state === 'X') continue;
    out.push({ pid, cmdline: readCmdline(pid) ?? [] });
  }
  return out;
}

const isService = (p: { cmdline: string[] }): boolean =>
  p.cmdline.length === SERVICE_ARGV.length && p.cmdline.slice(1).every((a, i) => a === SERVICE_ARGV[i + 1]);

/** SIGKILL every marked process (synchronous, so it also works from the janitor's exit hook). */
function sweep(): number[] {
  const pids = markedProcesses().map((p) => p.pid);
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  return pids;
}

/** Kill every marked process and wait until the kernel has released them (zombies reaped). */
async function sweepAndWait(timeoutMs = 60_000): Promise<number> {
  const killed = new Set(sweep());
  await waitUntil(() => {
    for (const pid of killed) if (readProcStat(pid) === null) killed.delete(pid);
    return killed.size === 0;
  }, timeoutMs, `${killed.size} killed processes to be reaped`, 100).catch((e: unknown) => {
    // Orphans are reaped by pid 1: a slow init is not a reason to fail the run, but say so.
    say(`steady: ${e instanceof Error ? e.message : String(e)}; carrying on\n`);
  });
  return killed.size;
}

// ------------------------------------------------------------------------------------ limits

interface Limits {
  pidMax: number;
  threadsMax: number;
  /** Scheduling entities (threads) on the machine now: /proc/loadavg. */
  threadsNow: number;
  nproc: { soft: number | null; hard: number | null; enforced: boolean };
  nofile: { soft: number | null; hard: number | null };
  cgroupPidsMax: number | null;
  memAvailableMb: number | null;
  /** Soft limits the daemon is started with, when they had to be raised. */
  raised: { nofile?: number; nproc?: number };
  notes: string[];
}

function readNum(path: string): number | null {
  try {
    const t = readFileSync(path, 'utf8').trim();
    return t === 'max' ? Number.POSITIVE_INFINITY : Number(t);
  } catch {
    return null;
  }
}

function rlimit(name: string): { soft: number | null; hard: number | null } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const parse = (v: string | undefined): number | null => (v === undefined ? null : v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  const [soft, hard] = line?.slice(name.length).trim().split(/\s+/) ?? [];
  return { soft: parse(soft), hard: parse(hard) };
}

function cgroupPidsMax(): number | null {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    const file = controllers === '' ? join('/sys/fs/cgroup', path, 'pids.max')
      : controllers?.split(',').includes('pids') ? join('/sys/fs/cgroup/pids', path, 'pids.max') : null;
    if (file !== null) {
      const v = readNum(file);
      if (v !== null) return v;
    }
  }
  return null;
}

/**
 * Whether the machine can hold `n` more processes (Warden's services; the floor's are started after
 * those are gone), and which soft limits the daemon needs raised. Fails before anything starts.
 */
function checkLimits(n: number): Limits {
  const margin = 1000;
  const need = n + margin;
  const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ');
  const threadsNow = Number(loadavg[3]?.split('/')[1] ?? 0);
  const pidMax = readNum('/proc/sys/kernel/pid_max') ?? 32768;
  const threadsMax = readNum('/proc/sys/kernel/threads-max') ?? Number.POSITIVE_INFINITY;
  const nproc = rlimit('Max processes');
  const nofile = rlimit('Max open files');
  const root = process.getuid?.() === 0;
  const cg = cgroupPidsMax();
  const l: Limits = {
    pidMax, threadsMax, threadsNow, nproc: { ...nproc, enforced: !root }, nofile, cgroupPidsMax: cg,
    memAvailableMb: memAvailableMb(), raised: {}, notes: [],
  };
  const fail: string[] = [];
  const fmt = (v: number | null): string => (v === null ? '?' : v === Number.POSITIVE_INFINITY ? 'unlimited' : String(v));
  if (threadsNow + need > pidMax) fail.push(`kernel.pid_max is ${pidMax} and ${threadsNow} threads exist: ${n} more processes (+${margin} margin) do not fit (sysctl -w kernel.pid_max=4194304)`);
  if (threadsNow + need > threadsMax) fail.push(`kernel.threads-max is ${threadsMax}, ${threadsNow} threads exist: ${n} more do not fit`);
  if (cg !== null && threadsNow + need > cg) fail.push(`this cgroup's pids.max is ${fmt(cg)}: ${n} more processes do not fit`);
  if (!root && nproc.soft !== null) {
    // RLIMIT_NPROC counts every thread of this user, not only the daemon's children.
    if (nproc.hard !== null && nproc.hard < threadsNow + need) fail.push(`ulimit -u (hard) is ${fmt(nproc.hard)}: too low for ${n} services`);
    else if (nproc.soft < threadsNow + need) l.raised.nproc = Math.min(nproc.hard ?? Number.POSITIVE_INFINITY, threadsNow + need * 2);
  }
  // Today the daemon holds no descriptor per child (no pipes: services log to files). Should it
  // ever hold one (a pidfd, a pipe), N of them must fit: raise the soft limit to the hard one.
  if (nofile.soft !== null && nofile.soft < need) {
    if (nofile.hard !== null && nofile.hard >= need) l.raised.nofile = nofile.hard === Number.POSITIVE_INFINITY ? need * 2 : nofile.hard;
    else l.notes.push(`ulimit -n is ${fmt(nofile.soft)}/${fmt(nofile.hard)}: a daemon holding one descriptor per service would run out at ${n}`);
  }
  if (l.memAvailableMb !== null && l.memAvailableMb < n * 0.5 + 1024) l.notes.push(`only ${Math.round(l.memAvailableMb)} MB available for ${n} services`);
  const raised = Object.entries(l.raised).map(([k, v]) => `soft RLIMIT_${k.toUpperCase()} → ${fmt(v)} for the daemon`);
  say(`limits for N = ${n}: pid_max ${pidMax}, threads-max ${threadsMax}, ${threadsNow} threads now, cgroup pids.max ${cg === null ? 'none' : fmt(cg)}, `
    + `ulimit -u ${fmt(nproc.soft)}/${fmt(nproc.hard)}${root ? ' (root: not enforced)' : ''}, ulimit -n ${fmt(nofile.soft)}/${fmt(nofile.hard)}, `
    + `MemAvailable ${fmt(l.memAvailableMb === null ? null : Math.round(l.memAvailableMb))} MB`
    + `${raised.length ? `; raising ${raised.join(', ')}` : ''}${l.notes.length ? `; note: ${l.notes.join('; ')}` : ''}\n`);
  if (fail.length > 0) throw new Error(`limits too low:\n  ${fail.join('\n  ')}`);
  return l;
}

// ------------------------------------------------------------------------------ measurement

interface Usage {
  /** ms of CPU (user + system) per second of wall time over the whole window. */
  cpuMsPerS: number;
  /** The busiest 1-s sample. */
  cpuMsPerSMax: number;
  rssMb: number;
  rssMbMax: number;
  windowS: number;
}

/**
 * Samples the CPU time and RSS of each process once a second for `windowS` seconds. The bench
 * itself only reads two /proc files per process per second meanwhile.
 */
async function sampleWindow(pids: Record<string, number>, windowS: number): Promise<Record<string, Usage>> {
  const names = Object.keys(pids);
  const samples = new Map<string, { t: number; ticks: number; rss: number }[]>(names.map((n) => [n, []]));
  const take = (): void => {
    const t = performance.now();
    for (const n of names) {
      const ticks = cpuTicks(pids[n]!);
      const rss = rssMb(pids[n]!);
      if (ticks === null || rss === null) throw new Error(`${n} (pid ${pids[n]}) is gone during the steady window`);
      samples.get(n)!.push({ t, ticks, rss });
    }
  };
  take();
  const t0 = performance.now();
  for (let i = 1; i <= Math.ceil(windowS); i++) {
    // Sample on a fixed grid (no drift), the last one at exactly the window's end.
    await sleep(Math.max(0, t0 + Math.min(i, windowS) * 1000 - performance.now()));
    take();
  }
  const out: Record<string, Usage> = {};
  const r2 = (v: number): number => Math.round(v * 100) / 100;
  for (const n of names) {
    const s = samples.get(n)!;
    const first = s[0]!;
    const last = s.at(-1)!;
    const ms = (a: { t: number; ticks: number }, b: { t: number; ticks: number }): number => ((b.ticks - a.ticks) * 1000) / CLK_TCK / ((b.t - a.t) / 1000);
    const perS = s.slice(1).map((x, i) => ms(s[i]!, x));
    out[n] = {
      cpuMsPerS: r2(ms(first, last)),
      cpuMsPerSMax: r2(Math.max(...perS)),
      rssMb: r2(s.reduce((a, x) => a + x.rss, 0) / s.length),
      rssMbMax: r2(Math.max(...s.map((x) => x.rss))),
      windowS: r2((last.t - first.t) / 1000),
    };
  }
  return out;
}

// --------------------------------------------------------------------------- Warden at size N

const nameOf = (i: number): string => `s${String(i).padStart(5, '0')}`;

function configYaml(dir: string, n: number): string {
  const services = Array.from({ length: n }, (_, i) => `  - { name: ${nameOf(i + 1)}, kind: process, start: [${SERVICE_ARGV.join(', ')}] }`);
  return `# bench/steady.ts: ${n} healthy kind: process services, process liveness only (no checks).
version: 1
agent:
  name: steady-bench
  mode: execute
  dataDir: ${join(dir, 'data')}
  interval: ${INTERVAL}
  # The bench kills ${KILLS} random services; none of them is a crash loop, nor flapping.
  crashLoop: { exits: 100000, window: 60s }
  flapThreshold: 100000
services:
${services.join('\n')}
policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart]
      approval: none
  limits:
    - { action: restart, per: service, max: 1000, window: 10m }
`;
}

interface KillTrial {
  service: string;
  /** Exit record `at` − the kill (Date.now() at the kill), ms. */
  exitRecordedMs: number | null;
  /** ticket.opened / ticket.reopened audit record `at` − the kill, ms. */
  ticketOpenedMs: number;
  /** Ticket resolvedAt − the kill (restarted, then verified stable), ms. */
  resolvedMs: number;
}

interface WardenResult {
  deploy: {
    /** Spawn of `warden run` → its store readable. */
    storeS: number;
    /** Spawn → all N services healthy in Warden's store. */
    runningS: number;
    /** Spawn → no new audit record for the quiet period (the quiet period not counted). */
    quietS: number;
    /** The daemon's own CPU time from its spawn to quiet, s. */
    cpuS: number;
    auditRecords: number;
    /** System memory taken by the deploy (MemAvailable before − after), MB: services included. */
    systemMb: number | null;
  };
  fds: number | null;
  threads: number | null;
  steady: Usage;
  idle: Usage;
  kills: KillTrial[];
  killToExit: Stats | null;
  killToTicket: Stats | null;
  killToResolved: Stats | null;
  stopS: number;
}

async function measureWarden(janitor: Janitor, dir: string, n: number, limits: Limits): Promise<WardenResult> {
  const configPath = join(dir, 'warden.yaml');
  const dataDir = join(dir, 'data');
  writeFileSync(configPath, configYaml(dir, n));
  const mem0 = memAvailableMb();

  // The floor of any Node process, idle beside the daemon through the same window.
  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', env: { ...process.env, ...MARKED_ENV } });
  janitor.track(idle.pid, false);

  const t0 = performance.now();
  const child = spawnWardenRun(janitor, configPath, join(dir, 'warden.out'), { env: MARKED_ENV, softLimits: limits.raised });
  const pid = child.pid!;
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const dead = (): Error => new Error(`warden exited (${child.signalCode ?? child.exitCode}); see ${join(dir, 'warden.out')}`);
  const secs = (t: number): number => Math.round((t - t0) / 10) / 100;
  let store: Store | null = null;
  try {
    store = await openStoreWhenReady(dataDir, 30_000, alive);
    const s = store;
    const storeS = secs(performance.now());

    // All N running: healthy in Warden's own store (no checks, so healthy = its process is alive).
    const deployTimeoutMs = 120_000 + n * 60;
    let lastSay = performance.now();
    let healthy = 0;
    await waitUntil(() => {
      if (!alive()) throw dead();
      healthy = s.listServiceStates().filter((x) => x.health === 'healthy').length;
      if (performance.now() - lastSay > 5000) { say(`  deploy: ${healthy}/${n} healthy, ${s.auditHead()?.seq ?? 0} audit records after ${secs(performance.now())} s\n`); lastSay = performance.now(); }
      return healthy === n;
    }, deployTimeoutMs, `all ${n} services healthy (${healthy} so far)`, 250);
    const runningS = secs(performance.now());

    // Quiet: no new audit record for QUIET_MS.
    let head = s.auditHead()?.seq ?? 0;
    let since = performance.now();
    await waitUntil(() => {
      if (!alive()) throw dead();
      const h = s.auditHead()?.seq ?? 0;
      if (h !== head) { head = h; since = performance.now(); }
      return performance.now() - since >= QUIET_MS;
    }, deployTimeoutMs, `the audit log to stay quiet for ${QUIET_MS} ms`, 100);
    const quietS = secs(since);
    const cpuS = Math.round(((cpuTicks(pid) ?? 0) / CLK_TCK) * 100) / 100;

    // They are real processes: N live `sleep infinity` carrying this run's marker.
    const services = markedProcesses().filter(isService).length;
    if (services !== n) throw new Error(`expected ${n} live service processes, found ${services}`);
    const mem1 = memAvailableMb();
    say(`  deployed ${n} in ${runningS} s (store ${storeS} s, quiet at ${quietS} s, ${head} audit records, daemon CPU ${cpuS} s); `
      + `daemon ${fdCount(pid)} fds, ${statusField(pid, 'Threads')} threads\n`);

    say(`  steady state: ${WINDOW_S} s window… `);
    const w = await sampleWindow({ warden: pid, idle: idle.pid! }, WINDOW_S);
    if (!alive()) throw dead();
    say(`warden ${w.warden!.cpuMsPerS} ms/s, RSS ${w.warden!.rssMb.toFixed(0)} MB; idle node ${w.idle!.cpuMsPerS} ms/s, RSS ${w.idle!.rssMb.toFixed(0)} MB\n`);

    const kills: KillTrial[] = [];
    if (KILLS > 0) say(`  kill -9 → ticket, ${KILLS} trials: `);
    for (let k = 0; k < KILLS; k++) {
      kills.push(await killTrial(s, n, alive, dead));
      say(`${kills.at(-1)!.ticketOpenedMs} `);
    }
    if (KILLS > 0) say('ms\n');

    const result: Omit<WardenResult, 'stopS'> = {
      deploy: { storeS, runningS, quietS, cpuS, auditRecords: head, systemMb: mem0 !== null && mem1 !== null ? Math.round(mem0 - mem1) : null },
      fds: fdCount(pid),
      threads: statusField(pid, 'Threads'),
      steady: w.warden!,
      idle: w.idle!,
      kills,
      killToExit: stats(kills.map((k) => k.exitRecordedMs).filter((v): v is number => v !== null)),
      killToTicket: stats(kills.map((k) => k.ticketOpenedMs)),
      killToResolved: stats(kills.map((k) => k.resolvedMs)),
    };
    const t1 = performance.now();
    await stopWardenRun(janitor, child, 30_000);
    return { ...result, stopS: Math.round((performance.now() - t1) / 10) / 100 };
  } finally {
    store?.close();
    if (alive()) await stopWardenRun(janitor, child, 10_000);
    try { process.kill(idle.pid!, 'SIGKILL'); } catch { /* gone */ }
    janitor.untrack(idle.pid!);
    // Warden leaves its services running when it stops: the bench owns them.
    const left = await sweepAndWait();
    if (left > 0) say(`  ${left} processes not yet reaped\n`);
  }
}

/** kill -9 of a random service; waits until Warden opened, and then resolved, its ticket. */
async function killTrial(s: Store, n: number, alive: () => boolean, dead: () => Error): Promise<KillTrial> {
  // A random pause puts the kill at a random phase of the pass timer.
  await sleep(randomBetween(0, INTERVAL_MS));
  const service = nameOf(1 + Math.floor(Math.random() * n));
  const pid = s.getProcess(service)?.pid;
  if (pid === undefined) throw new Error(`${service} has no process in Warden's registry`);
  const seq0 = s.auditHead()?.seq ?? 0;
  const fp = fingerprintOf('local', service);
  // Warden's records are Date.now() (whole ms): its figures are taken against the same clock.
  const killWall = Date.now();
  process.kill(pid, 'SIGKILL');
  let opened: AuditRecord | undefined;
  let closing: AuditRecord | undefined;
  await waitUntil(() => {
    if (!alive()) throw dead();
    const recs = s.listAudit({ afterSeq: seq0 });
    opened ??= recs.find((r) => (r.kind === 'ticket.opened' && r.data.service === service) || (r.kind === 'ticket.reopened' && r.data.fingerprint === fp));
    closing = opened && recs.find((r) => r.kind === 'ticket.status' && r.subject === opened!.subject && ['resolved', 'escalated', 'held'].includes(String(r.data.to)));
    return closing !== undefined;
  }, 60_000, `warden to open and resolve a ticket for ${service}`, 10);
  if (closing?.data.to !== 'resolved') throw new Error(`ticket ${opened?.subject} for ${service} ${String(closing?.data.to)}: ${String(closing?.data.reason)}`);
  const exit = s.recentExits(service, 5).find((e) => e.at >= killWall);
  const ticket = opened?.subject ? s.getTicket(opened.subject) : null;
  return {
    service,
    exitRecordedMs: exit ? exit.at - killWall : null,
    ticketOpenedMs: opened!.at - killWall,
    resolvedMs: (ticket?.resolvedAt ?? closing.at) - killWall,
  };
}

// ------------------------------------------------------------------------ the floor at size N

interface FloorResult {
  spawnS: number;
  steady: Usage;
  killToExit: Stats | null;
}

async function measureFloor(janitor: Janitor, n: number, limits: Limits): Promise<FloorResult> {
  const t0 = performance.now();
  const ulimits = Object.entries(limits.raised).map(([k, v]) => `ulimit -S -${k === 'nofile' ? 'n' : 'u'} ${v}`);
  const cmd = [process.execPath, FLOOR_SCRIPT, String(n)];
  const [file, ...args] = ulimits.length ? ['sh', '-c', `${ulimits.join(' && ')} && exec "$@"`, 'sh', ...cmd] : cmd;
  const child: ChildProcess = spawn(file!, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...MARKED_ENV } });
  janitor.track(child.pid, false);
  const exits = new Map<number, number>();
  let ready: ((pids: number[]) => void) | null = null;
  const readyP = new Promise<number[]>((r) => { ready = r; });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as { ev: string; pid?: number; pids?: number[]; at: number };
    if (e.ev === 'exit' && e.pid !== undefined) exits.set(e.pid, e.at);
    if (e.ev === 'ready') ready?.(e.pids ?? []);
  });
  try {
    const exited = new Promise<never>((_, rej) => child.once('exit', (code, sig) => rej(new Error(`steady-floor exited (${sig ?? code})`))));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`steady-floor: ${n} children not spawned in time`)), 120_000 + n * 60); });
    const pids = await Promise.race([readyP, exited, timeout]).finally(() => clearTimeout(timer));
    const spawnS = Math.round((performance.now() - t0) / 10) / 100;
    await sleep(QUIET_MS);
    say(`  floor (bare Node parent of ${n}): spawned in ${spawnS} s; ${WINDOW_S} s window… `);
    const w = await sampleWindow({ floor: child.pid! }, WINDOW_S);
    const lat: number[] = [];
    for (let k = 0; k < KILLS && pids.length > 0; k++) {
      await sleep(randomBetween(20, 100));
      const pid = pids.splice(Math.floor(Math.random() * pids.length), 1)[0]!;
      const killAt = now();
      process.kill(pid, 'SIGKILL');
      await waitUntil(() => exits.has(pid), 10_000, `the floor's exit event for ${pid}`, 1);
      lat.push(exits.get(pid)! - killAt);
    }
    const killToExit = stats(lat);
    say(`${w.floor!.cpuMsPerS} ms/s, RSS ${w.floor!.rssMb.toFixed(0)} MB, kill → exit event p50 ${killToExit?.p50 ?? '-'} ms\n`);
    return { spawnS, steady: w.floor!, killToExit };
  } finally {
    try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ }
    janitor.untrack(child.pid!);
    await sweepAndWait();
  }
}

// -------------------------------------------------------------------------------------- main

interface SizeResult {
  n: number;
  /** Wall time of this size, set-up and clean-up included. */
  totalS: number;
  warden: WardenResult;
  floor: FloorResult | null;
}

const fmt = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined ? '-' : v.toFixed(digits));

function table(rows: string[][]): string {
  const width = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [line(rows[0]!), width.map((x) => '─'.repeat(x)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const janitor = new Janitor();
  // However the run ends: every process carrying this run's marker goes (the daemon's services too).
  janitor.onCleanup(() => { sweep(); });
  const started = new Date();
  const box = machine();
  say(`steady: ${box.cpuModel}, ${box.nproc} CPUs, ${box.memoryGiB} GiB, ${box.kernel}, node ${box.node}; CLK_TCK ${CLK_TCK}\n`);
  say(`sizes ${SIZES.join(', ')}; window ${WINDOW_S} s; ${KILLS} kills; agent.interval ${INTERVAL}; services: ${SERVICE_ARGV.join(' ')}, no checks\n`);
  // Fail before anything starts if the largest size cannot fit.
  const limits = checkLimits(Math.max(...SIZES));
  if (argv['limits-only']) return;
  const results: SizeResult[] = [];
  try {
    for (const n of SIZES) {
      const t0 = performance.now();
      const dir = mkdtempSync(join(tmpdir(), 'warden-steady-'));
      if (!argv.keep) janitor.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
      say(`\nN = ${n} (lab ${dir})\n`);
      try {
        const warden = await measureWarden(janitor, dir, n, limits);
        const floor = WITH_FLOOR ? await measureFloor(janitor, n, limits) : null;
        results.push({ n, totalS: Math.round((performance.now() - t0) / 100) / 10, warden, floor });
        say(`  N = ${n} took ${results.at(-1)!.totalS} s\n`);
      } finally {
        if (argv.keep) say(`  lab kept in ${dir}\n`);
        else rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    janitor.killAll();
  }

  const rows = [['N', 'deploy s', 'CPU ms/s', 'max 1 s', 'µs/s per svc', 'RSS MB (max)', 'exit p50/p99', 'ticket p50/p99', 'idle node ms/s', 'idle RSS', 'floor ms/s', 'floor RSS', 'floor exit p50/p99', 'total s']];
  for (const r of results) {
    const w = r.warden;
    rows.push([
      String(r.n), fmt(w.deploy.runningS), fmt(w.steady.cpuMsPerS), fmt(w.steady.cpuMsPerSMax, 0), fmt((w.steady.cpuMsPerS * 1000) / r.n, 1), `${fmt(w.steady.rssMb, 0)} (${fmt(w.steady.rssMbMax, 0)})`,
      `${fmt(w.killToExit?.p50, 0)}/${fmt(w.killToExit?.p99, 0)}`, `${fmt(w.killToTicket?.p50, 0)}/${fmt(w.killToTicket?.p99, 0)}`,
      fmt(w.idle.cpuMsPerS), fmt(w.idle.rssMb, 0),
      fmt(r.floor?.steady.cpuMsPerS), fmt(r.floor?.steady.rssMb, 0), `${fmt(r.floor?.killToExit?.p50, 2)}/${fmt(r.floor?.killToExit?.p99, 2)}`,
      fmt(r.totalS, 0),
    ]);
  }
  const out = [table(rows), '', `CPU resolution: 1 tick = ${1000 / CLK_TCK} ms over a ${WINDOW_S} s window = ${fmt(1000 / CLK_TCK / WINDOW_S, 2)} ms/s.`,
    'exit / ticket: kill -9 → exit recorded / ticket.opened, from Warden\'s records (ms). floor: a bare Node parent of N sleeps (its kill → \'exit\' event in ms).'];
  const largest = results.at(-1);
  const targets = largest === undefined ? [] : [
    { figure: 'steady CPU', target: '≤ 50 ms/s', value: largest.warden.steady.cpuMsPerS, met: largest.warden.steady.cpuMsPerS <= 50 },
    { figure: 'steady RSS (max of the window)', target: '≤ 200 MB', value: largest.warden.steady.rssMbMax, met: largest.warden.steady.rssMbMax <= 200 },
    { figure: 'kill → ticket p50', target: '≤ 10 ms', value: largest.warden.killToTicket?.p50 ?? null, met: (largest.warden.killToTicket?.p50 ?? Infinity) <= 10 },
  ];
  if (largest) {
    out.push('', `DESIGN's targets are for N = 10,000${largest.n === 10_000 ? '' : `; shown against N = ${largest.n}, the largest measured`}:`);
    for (const t of targets) out.push(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.figure}: ${t.value ?? '-'} (target ${t.target})`);
  }
  process.stdout.write(`\n${out.join('\n')}\n`);

  const result = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `node dist/bench/steady.js${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: box,
    loadavgAtEnd: machine().loadavg,
    clkTck: CLK_TCK,
    options: { sizes: SIZES, windowS: WINDOW_S, kills: KILLS, interval: INTERVAL, quietMs: QUIET_MS, floor: WITH_FLOOR, service: SERVICE_ARGV },
    limits: { ...limits, nproc: { ...limits.nproc }, nofile: { ...limits.nofile } },
    targets: largest ? { n: largest.n, targets } : null,
    sizes: results,
  };
  const file = resolve(argv.out ?? join(ROOT, 'bench', 'results', 'steady.json'));
  mkdirSync(dirname(file), { recursive: true });
  // JSON has no Infinity: "unlimited" limits are written as null.
  writeFileSync(file, `${JSON.stringify(result, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? null : v), 2)}\n`);
  say(`wrote ${file}\n`);
}

main().then(() => { process.exitCode = 0; }, (e: unknown) => {
  process.stderr.write(`\nsteady failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
