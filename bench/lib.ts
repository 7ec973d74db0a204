// Shared bench helpers: one clock for every process, statistics, an HTTP poller, and a janitor
// that kills every process the bench started, whatever way the run ends.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import { sleep, waitFor } from '../src/lib/wait.js';

/**
 * Wall-clock milliseconds with sub-millisecond resolution. Every bench process uses this same
 * formula, so times taken in different processes compare directly (they share CLOCK_MONOTONIC and
 * each anchors it to the wall clock once at start). Warden's own records are Date.now() (1 ms).
 */
export const now = (): number => performance.timeOrigin + performance.now();

export { sleep };

export const randomBetween = (lo: number, hi: number): number => lo + Math.random() * (hi - lo);

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles: p99 of 50 samples is the largest but none, so it is never interpolated. */
export function stats(values: readonly number[]): Stats | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  const round = (v: number): number => Math.round(v * 100) / 100;
  return {
    n: s.length,
    p50: round(rank(50)),
    p99: round(rank(99)),
    min: round(s[0]!),
    max: round(s.at(-1)!),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

export interface HttpResult {
  ok: boolean;
  status: number | null;
  /** When the response (or the error) arrived. */
  at: number;
}

/** One GET on a fresh connection (no pooled socket can answer for a dead server). */
export function httpOnce(port: number, path: string, timeoutMs: number): Promise<HttpResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (status: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ok: status === 200, status, at: now() });
    };
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false });
    const timer = setTimeout(() => finish(null), timeoutMs);
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('error', () => finish(null));
    req.on('response', (res) => {
      finish(res.statusCode ?? null);
      res.resume();
    });
    req.end();
  });
}

/**
 * Polls GET /healthz until it answers 200 and `accept()` agrees the answer is from the process we
 * are waiting for. A new request starts `gapMs` after the previous one ended (2 ms + the request's
 * own time: a 2–5 ms cadence). Returns the arrival time of the accepted response.
 */
export async function pollHealthy(port: number, opts: { gapMs?: number; requestTimeoutMs?: number; deadlineMs: number; accept?: () => boolean }): Promise<number> {
  const end = now() + opts.deadlineMs;
  for (;;) {
    const r = await httpOnce(port, '/healthz', opts.requestTimeoutMs ?? 100);
    if (r.ok && (opts.accept?.() ?? true)) return r.at;
    if (now() > end) throw new Error(`port ${port}: no HTTP 200 within ${opts.deadlineMs} ms (last: ${r.status ?? 'no answer'})`);
    await sleep(opts.gapMs ?? 2);
  }
}

/** Waits for a synchronous condition, polling every `everyMs` (10 ms: the bench's cadence). */
export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string, everyMs = 10): Promise<void> {
  await waitFor(cond, timeoutMs, what, { everyMs });
}

/**
 * Every process the bench started, killed on the way out: on normal completion, on an exception,
 * on SIGINT/SIGTERM, and (synchronously, as a last resort) on process exit.
 */
export class Janitor {
  /** pid → whether it leads its own process group (then the whole group is killed). */
  private readonly pids = new Map<number, boolean>();
  private readonly hooks: (() => void)[] = [];

  constructor() {
    process.once('exit', () => this.killAll());
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        process.stderr.write(`\nbench: ${sig}: killing every process it started\n`);
        this.killAll();
        process.exit(130);
      });
    }
  }

  track(pid: number | undefined, group: boolean): void {
    if (pid !== undefined && pid > 0) this.pids.set(pid, group);
  }

  untrack(pid: number): void {
    this.pids.delete(pid);
  }

  /** Synchronous clean-up to run before the processes are killed (e.g. remove a directory). */
  onCleanup(fn: () => void): void {
    this.hooks.push(fn);
  }

  killAll(): void {
    for (const [pid, group] of this.pids) {
      // SIGCONT too: a SIGSTOPped process left behind would otherwise linger.
      for (const sig of ['SIGKILL', 'SIGCONT'] as const) {
        if (group) try { process.kill(-pid, sig); } catch { /* gone */ }
        try { process.kill(pid, sig); } catch { /* gone */ }
      }
    }
    this.pids.clear();
    for (const h of this.hooks.splice(0)) {
      try { h(); } catch { /* best effort */ }
    }
  }
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  loadavg: number[];
}

export function machine(): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch { /* not Linux: os.cpus() it is */ }
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
