// End-to-end harness: runs the real `bin/warden` (daemon and commands) as separate processes
// against a lab of real processes, and reads results through the CLI's --json, as a user would.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { killLab, LAB_SERVICES, makeLab, ROOT, type Lab, type LabOptions } from '../../src/demo/lab.js';
import { loadConfig } from '../../src/config/load.js';
import { readProcStat } from '../../src/lib/proc.js';
import { waitFor as waitForLib } from '../../src/lib/wait.js';

export { sleep } from '../../src/lib/wait.js';
import { Store } from '../../src/store/store.js';

export const WARDEN = join(ROOT, 'bin', 'warden');

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs the CLI; it is killed after `timeoutMs` (30 s: a command; a demo needs more). */
export function cli(args: string[], opts: { config?: string; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const full = opts.config ? ['--config', opts.config, ...args] : args;
  return new Promise((resolve) => {
    execFile(WARDEN, full, { cwd: opts.cwd ?? ROOT, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function cliJson<T>(args: string[], config: string): Promise<T> {
  const r = await cli([...args, '--json'], { config });
  if (r.code !== 0) throw new Error(`warden ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * `warden status --json`: its exit code says nominal (0), degraded or unstable (1), or not running
 * or stale (3), and the JSON is printed in each case; any other code is a failure.
 */
export async function statusJson<T>(config: string): Promise<{ code: number; status: T }> {
  const r = await cli(['status', '--json'], { config });
  if (![0, 1, 3].includes(r.code)) throw new Error(`warden status exited ${r.code}: ${r.stderr}`);
  return { code: r.code, status: JSON.parse(r.stdout) as T };
}

export interface TicketJson {
  id: string; status: string; service: string; cause: string | null; occurrences: number;
  rootCause: { service: string; cause: string } | null; findings: { kind: string; service: string; dependencyDown?: string }[];
  actionIds: string[]; reason: string | null;
}
export interface ActionJson { id: string; ticketId: string | null; type: string; target: string; state: string; attempts: number; idempotencyKey: string }

/** A process that exited (a zombie not yet reaped by init counts as gone). */
/**
 * Waits until the daemon has completed `n` more passes (distinct heartbeat stamps after the first
 * one seen): time for a wrong ticket or a wrong restart to appear, counted in passes, not slept.
 */
export async function morePasses(configPath: string, n: number, timeoutMs = 20_000): Promise<void> {
  const seen = new Set<string>();
  await waitFor(async () => {
    const { status } = await statusJson<{ daemon: { lastPassAt: string | null } }>(configPath);
    if (status.daemon.lastPassAt) seen.add(status.daemon.lastPassAt);
    return seen.size > n;
  }, timeoutMs, `${n} more passes`);
}

/** How many times Warden started a process service: its "starting:" notes in the service's log. */
export function startsOf(dataDir: string, service: string): number {
  return readFileSync(join(dataDir, 'logs', `${service}.log`), 'utf8').split('\n').filter((l) => /\[warden[^\]]*\] starting: /.test(l)).length;
}

export function gone(pid: number): boolean {
  const st = readProcStat(pid);
  return st === null || st.state === 'Z' || st.state === 'X';
}


/** Polls every 100 ms; a throwing check (the daemon not up yet) counts as "not yet". */
export function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  return waitForLib(fn, timeoutMs, what, { retryErrors: true });
}

/** A `warden run` daemon process. */
export class Daemon {
  proc: ChildProcess | null = null;
  output = '';

  /** `runArgs` go after `run`, e.g. ['--insecure']; `env` is added to this process's environment. */
  constructor(readonly config: string, readonly runArgs: string[] = [], readonly env: NodeJS.ProcessEnv = {}) {}

  async start(): Promise<void> {
    this.proc = spawn(WARDEN, ['--config', this.config, 'run', ...this.runArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.proc.stdout!.on('data', (d: Buffer) => { this.output += d.toString(); });
    this.proc.stderr!.on('data', (d: Buffer) => { this.output += d.toString(); });
    await waitFor(async () => this.output.includes('online:') || (this.proc?.exitCode != null ? Promise.reject(new Error(`warden exited: ${this.output}`)) : false), 15_000, 'warden to come online');
  }

  /** Waits for the daemon process to exit after a signal. */
  async signal(sig: NodeJS.Signals): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    p.kill(sig);
    return exited;
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }
}

export interface LabRun {
  lab: Lab;
  daemon: Daemon;
  tickets(): Promise<TicketJson[]>;
  actions(): Promise<ActionJson[]>;
  pid(service: string): number;
  waitHealthy(services: string[], timeoutMs?: number): Promise<void>;
  /** Healthy, and no ticket still being worked on (a slow start on a loaded machine can open one). */
  waitSettled(services: string[], timeoutMs?: number): Promise<void>;
  cleanup(): Promise<void>;
}

/** The daemon's output and audit log of a finished lab, in $TMPDIR/warden-e2e-logs/. */
function keepLogs(labDir: string, output: string, audit: unknown[]): void {
  try {
    const dir = join(tmpdir(), 'warden-e2e-logs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${basename(labDir)}.log`), `${output}\n--- audit\n${audit.map((r) => JSON.stringify(r)).join('\n')}\n`);
  } catch {
    // Diagnostics only.
  }
}

function auditOf(s: Store): unknown[] {
  try {
    return s.listAudit({});
  } catch (e) {
    return [{ unreadable: String(e) }];
  }
}

/** The lab's services as its config declares them (the default three when it cannot be read). */
function labServices(configPath: string): string[] {
  try {
    return loadConfig(configPath).services.map((s) => s.name);
  } catch {
    return [...LAB_SERVICES];
  }
}

/** Starts a lab and a real daemon on it; `cleanup` stops both and removes every trace. */
export async function startLab(opts: LabOptions = {}): Promise<LabRun> {
  const lab = await makeLab(opts);
  const daemon = new Daemon(lab.configPath);
  const dataDir = join(lab.dir, 'data');
  const run: LabRun = {
    lab,
    daemon,
    tickets: () => cliJson<TicketJson[]>(['tickets', 'list', '--all'], lab.configPath),
    actions: () => cliJson<ActionJson[]>(['actions', 'list', '--limit', '1000'], lab.configPath),
    pid(service) {
      const s = Store.open(dataDir, { readonly: true });
      try {
        const p = s.getProcess(service);
        if (!p) throw new Error(`${service} has no process`);
        return p.pid;
      } finally {
        s.close();
      }
    },
    async waitHealthy(services, timeoutMs = 20_000) {
      await waitFor(async () => {
        const { status: st } = await statusJson<{ services: { name: string; health: string }[] }>(lab.configPath);
        return services.every((n) => st.services.find((s) => s.name === n)?.health === 'healthy');
      }, timeoutMs, `${services.join(', ')} healthy`);
    },
    async waitSettled(services, timeoutMs = 30_000) {
      await run.waitHealthy(services, timeoutMs);
      const busy = ['open', 'diagnosing', 'awaiting_approval', 'remediating', 'verifying'];
      await waitFor(async () => (await run.tickets()).every((t) => !busy.includes(t.status)), timeoutMs, 'tickets settled');
    },
    async cleanup() {
      // run.daemon, not the first daemon: a test may have replaced it with a restarted one.
      await run.daemon.signal('SIGKILL').catch(() => undefined);
      if (run.daemon !== daemon) await daemon.signal('SIGKILL').catch(() => undefined);
      if (existsSync(join(dataDir, 'warden.db'))) {
        const s = Store.open(dataDir, { readonly: true });
        // Every process service of the lab, the ones a test added too: none may outlive it.
        killLab(s, dataDir, labServices(lab.configPath));
        // Kept after the lab is gone, so a failure under load (CI) can be read afterwards; a test
        // that damaged the store may have left the audit unreadable.
        keepLogs(lab.dir, run.daemon.output, auditOf(s));
        s.close();
      }
      rmSync(lab.dir, { recursive: true, force: true });
    },
  };
  return run;
}
