// Exactly-once trials, shared by the end-to-end test and the soak (bench/crash-soak.ts): a lab of
// one real worker process under the real `bin/warden run`, a restart provoked by hanging the worker
// (SIGSTOP), and Warden killed with SIGKILL at a named step of that restart (WARDEN_FAULT, see
// src/lib/fault.ts). Every start of the worker appends its pid to a file: that file is the count.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, LAB } from '../../src/demo/lab.js';
import type { FaultPoint } from '../../src/lib/fault.js';
import { readProcStat } from '../../src/lib/proc.js';
import { waitFor } from '../../src/lib/wait.js';
import { Store } from '../../src/store/store.js';
import { WARDEN } from './harness.js';

export interface OnceLab {
  dir: string;
  configPath: string;
  dataDir: string;
  startsFile: string;
  /** Pids of every worker start, in order. */
  starts(): number[];
  /** Worker processes alive now (zombies count as gone). */
  alive(): number[];
  cleanup(): void;
}

export async function makeOnceLab(opts: { workerEnv?: Record<string, string>; stopGrace?: string } = {}): Promise<OnceLab> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-once-'));
  const dataDir = join(dir, 'data');
  const startsFile = join(dir, 'worker.starts');
  const port = await freePort();
  const env = { STARTS_FILE: startsFile, PORT: String(port), ...opts.workerEnv };
  const configPath = join(dir, 'warden.yaml');
  writeFileSync(configPath, `version: 1
agent:
  name: once-warden
  mode: execute
  dataDir: ${dataDir}
  interval: 1s
  verify: { stable: 300ms, deadline: 15s }
  # Each trial hangs the worker once more: one problem at a time, never flapping.
  flapThreshold: 100000
services:
  - name: worker
    kind: process
    start: [node, ${join(LAB, 'worker.mjs')}]
    env: ${JSON.stringify(env)}
    stopGrace: ${opts.stopGrace ?? '2s'}
    checks:
      - http: { url: "http://127.0.0.1:${port}/", expectStatus: 200 }
        interval: 200ms
        timeout: 150ms
        failures: 2
policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart]
      approval: none
  limits:
    - { action: restart, per: service, max: 100000, window: 10m }
`);
  const starts = (): number[] => {
    try {
      return readFileSync(startsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1]));
    } catch {
      return [];
    }
  };
  const alive = (): number[] => starts().filter((pid) => {
    const st = readProcStat(pid);
    return st !== null && st.state !== 'Z' && st.state !== 'X';
  });
  return {
    dir, configPath, dataDir, startsFile, starts, alive,
    cleanup() {
      for (const pid of starts()) {
        try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A `warden run` with extra environment (WARDEN_FAULT, WARDEN_ACTION_TIMEOUT_MS). */
export class Warden {
  readonly proc: ChildProcess;
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(configPath: string, env: Record<string, string> = {}) {
    this.proc = spawn(WARDEN, ['--config', configPath, 'run'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.proc.stdout!.on('data', (d: Buffer) => { this.output += d.toString(); });
    this.proc.stderr!.on('data', (d: Buffer) => { this.output += d.toString(); });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  async online(): Promise<void> {
    await waitFor(() => this.output.includes('online:') || (this.proc.exitCode !== null || this.proc.signalCode !== null
      ? Promise.reject(new Error(`warden exited: ${this.output}`)) : false), 20_000, 'warden to come online');
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    await this.exited;
  }

  kill(): void {
    try { this.proc.kill('SIGKILL'); } catch { /* gone */ }
  }
}

/** Reads the store without holding it open (the daemon writes it meanwhile). */
export function readStore<T>(dataDir: string, fn: (s: Store) => T): T {
  const s = Store.open(dataDir, { readonly: true });
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

/** Brings the worker up healthy under a Warden, then stops that Warden: the start of every trial. */
export async function deploy(lab: OnceLab): Promise<void> {
  const w = new Warden(lab.configPath);
  try {
    await w.online();
    await settled(lab);
  } finally {
    await w.stop();
  }
}

/** The worker runs, exactly one of it, and no ticket or action is still being worked on. */
async function settled(lab: OnceLab, timeoutMs = 30_000): Promise<void> {
  await waitFor(() => readStore(lab.dataDir, (s) => {
    const busy = s.listActions({ states: ['proposed', 'validated', 'awaiting_approval', 'executing'] }).length > 0;
    const open = s.listTickets({ openOnly: true }).length > 0;
    const st = s.listServiceStates().find((x) => x.name === 'worker');
    return !busy && !open && st?.health === 'healthy' && lab.alive().length === 1;
  }), timeoutMs, 'worker healthy, nothing in progress', { retryErrors: true });
}

export interface TrialResult {
  point: FaultPoint;
  /** Worker starts this trial caused: exactly-once means 1. */
  newStarts: number;
  aliveAfter: number;
  actionState: string;
  attempts: number;
  /** action.executing records of the restart: 1 means its effect was begun once. */
  executions: number;
  /** How the faulted Warden ended: SIGKILL means the fault point was reached. */
  faultedBy: string | null;
}

/**
 * One trial: Warden with WARDEN_FAULT=point, the worker hung, Warden dies at the point; a fresh
 * Warden resumes; the restart must end completed with exactly one new worker process.
 */
export async function crashTrial(lab: OnceLab, point: FaultPoint): Promise<TrialResult> {
  const before = lab.starts().length;
  const faulted = new Warden(lab.configPath, { WARDEN_FAULT: point });
  let next: Warden | null = null;
  try {
    await faulted.online();
    const worker = readStore(lab.dataDir, (s) => s.getProcess('worker'))!.pid;
    const known = new Set(readStore(lab.dataDir, (s) => s.listActions({}).map((a) => a.id)));
    process.kill(worker, 'SIGSTOP');
    const end = await waitFor(() => faulted.proc.exitCode !== null || faulted.proc.signalCode !== null ? { signal: faulted.proc.signalCode } : false, 30_000, `warden to die at ${point}`);
    next = new Warden(lab.configPath);
    await next.online();
    const restart = await waitFor(() => readStore(lab.dataDir, (s) => s.listActions({})
      .find((a) => !known.has(a.id) && a.type === 'restart' && (a.state === 'completed' || a.state === 'failed'))), 30_000, 'the restart to end');
    await settled(lab);
    const executions = readStore(lab.dataDir, (s) => s.listAudit({ subject: restart.id, limit: 1000 })).filter((r) => r.kind === 'action.executing').length;
    return {
      point, newStarts: lab.starts().length - before, aliveAfter: lab.alive().length,
      actionState: restart.state, attempts: restart.attempts, executions, faultedBy: end.signal,
    };
  } finally {
    faulted.kill();
    await next?.stop();
  }
}
