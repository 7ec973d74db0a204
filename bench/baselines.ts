// Drives baseline-supervisor.js: kill -9 its web service, time the supervisor's notice of the
// death and the service's first HTTP 200 after it, exactly as the Warden trials do.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Janitor, now, pollHealthy, randomBetween, sleep } from './lib.js';

export interface BaselineTrial {
  killAt: number;
  /** Supervisor noticed the death: the 'exit' event (on-exit) or the poll that found it gone. */
  detectMs: number;
  /** Supervisor started the replacement. */
  respawnMs: number;
  /** First HTTP 200 from the replacement, seen by the bench. */
  servingMs: number;
}

interface Event { ev: 'spawn' | 'exit' | 'dead'; pid: number; at: number }

const SUPERVISOR = fileURLToPath(new URL('./baseline-supervisor.js', import.meta.url));

export class Baseline {
  private readonly events: Event[] = [];
  private child: ChildProcess | null = null;

  constructor(
    private readonly janitor: Janitor,
    private readonly mode: 'on-exit' | 'poll',
    private readonly webScript: string,
    private readonly port: number,
    private readonly redisPort: number,
    private readonly pollMs = 1000,
  ) {}

  get currentPid(): number | null {
    return this.events.filter((e) => e.ev === 'spawn').at(-1)?.pid ?? null;
  }

  async start(): Promise<void> {
    const args = [SUPERVISOR, this.mode, this.webScript, String(this.port), String(this.redisPort), String(this.pollMs)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    this.janitor.track(child.pid, false);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const e = JSON.parse(line) as Event;
      this.events.push(e);
      if (e.ev === 'spawn') this.janitor.track(e.pid, true);
    });
    await pollHealthy(this.port, { deadlineMs: 10_000, gapMs: 20 });
  }

  /** One kill -9 of the service; resolves once it serves again and the death was noticed. */
  async trial(maxDelayMs: number): Promise<BaselineTrial> {
    // A random pause: kills land at random phases of a poller's cycle, as real crashes do.
    await sleep(randomBetween(0, maxDelayMs));
    const pid = this.currentPid;
    if (pid === null) throw new Error(`${this.mode} baseline: no service running`);
    const killAt = now();
    process.kill(pid, 'SIGKILL');
    const servingAt = await pollHealthy(this.port, { deadlineMs: 10_000, accept: () => this.currentPid !== pid });
    const noticeKind = this.mode === 'on-exit' ? 'exit' : 'dead';
    const deadline = now() + 5_000;
    let notice: Event | undefined;
    while (!(notice = this.events.find((e) => e.ev === noticeKind && e.pid === pid))) {
      if (now() > deadline) throw new Error(`${this.mode} baseline: no '${noticeKind}' event for pid ${pid}`);
      await sleep(5);
    }
    const respawn = this.events.find((e) => e.ev === 'spawn' && e.at >= notice.at);
    this.janitor.untrack(pid);
    return { killAt, detectMs: notice.at - killAt, respawnMs: (respawn?.at ?? NaN) - killAt, servingMs: servingAt - killAt };
  }

  /** Kill the supervisor first (so it cannot restart anything), then its service. */
  stop(): void {
    if (this.child?.pid) {
      try { process.kill(this.child.pid, 'SIGKILL'); } catch { /* gone */ }
      this.janitor.untrack(this.child.pid);
    }
    for (const e of this.events) {
      if (e.ev !== 'spawn') continue;
      try { process.kill(-e.pid, 'SIGKILL'); } catch { /* gone */ }
      this.janitor.untrack(e.pid);
    }
  }
}

/**
 * The kernel floor for a trivial process: kill -9 → 'exit' event for `sleep`, whose teardown is
 * near-free. Shows how much of the web service's exit time is its own (a V8 heap to unmap).
 */
export async function trivialExitFloor(janitor: Janitor, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    janitor.track(child.pid, false);
    await sleep(randomBetween(20, 40));
    const exited = new Promise<number>((r) => child.once('exit', () => r(now())));
    const killAt = now();
    child.kill('SIGKILL');
    out.push((await exited) - killAt);
    janitor.untrack(child.pid!);
  }
  return out;
}
