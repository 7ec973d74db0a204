// The rate-limiter lab for tests: a real redis-server, three real lab/ratelimiter.mjs nodes and
// the real lab/loadgen.mjs, each its own process, on free ports; all killed when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, LAB, requireRedis } from '../../src/demo/lab.js';

interface Cleanup { after(fn: () => void): void }

/** Spawns `argv` and resolves once its stdout shows `ready`; rejects if it exits first. */
function spawnReady(argv: string[], env: Record<string, string>, ready: string): Promise<ChildProcess> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes(ready)) resolve(child); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code} before "${ready}": ${out}`)));
  });
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export class Redis {
  proc: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async start(t: Cleanup): Promise<Redis> {
    requireRedis();
    const r = new Redis(await freePort());
    t.after(() => { if (r.proc) kill(r.proc); });
    await r.restart();
    return r;
  }

  /** Starts redis-server on its port again (after `kill`): the nodes find it at the same address. */
  async restart(): Promise<void> {
    this.proc = await spawnReady(['redis-server', '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {}, 'Ready to accept');
  }

  async kill(): Promise<void> {
    const p = this.proc!;
    const exited = new Promise((r) => p.once('exit', r));
    kill(p);
    await exited;
    this.proc = null;
  }
}

export interface LimiterNode { id: string; port: number; proc: ChildProcess }

/** Three nodes (n1..n3) sharing `redis`, allowing `limit` per key per `windowMs`. */
export async function startNodes(t: Cleanup, redis: Redis, limit: number, windowMs: number): Promise<LimiterNode[]> {
  const nodes: LimiterNode[] = [];
  t.after(() => { for (const n of nodes) kill(n.proc); });
  for (const id of ['n1', 'n2', 'n3']) {
    const port = await freePort();
    const env = { PORT: String(port), REDIS_PORT: String(redis.port), NODE_ID: id, LIMIT: String(limit), WINDOW_MS: String(windowMs) };
    nodes.push({ id, port, proc: await spawnReady([process.execPath, join(LAB, 'ratelimiter.mjs')], env, 'listening') });
  }
  return nodes;
}

export async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, text: await r.text() };
}

export async function post<T>(port: number, path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST' });
  if (r.status !== 200) throw new Error(`POST ${path} on ${port}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Every sample of a metric in Prometheus text, as labels → value. */
export function samples(text: string, metric: string): { labels: Record<string, string>; value: number }[] {
  return text.split('\n').filter((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `)).map((l) => {
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(l)!;
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    return { labels, value: Number(m[2]) };
  });
}

export interface WindowLine {
  type: 'window'; start: string; windowMs: number; limit: number; partial: boolean; offered: number;
  allowed: number; denied: number; errors: number; excess: number;
  keys: Record<string, { allowed: number; denied: number; errors: number; excess: number }>;
}
export interface Summary {
  type: 'summary'; sent: number; offeredRate: number; limit: number; allowed: number; denied: number; errors: number;
  windows: number; ghostWindows: number; excess: number; maxExcess: number; maxAllowedPerKey: number;
}

/** Runs lab/loadgen.mjs against the nodes (started here or by Warden) to the end; its window lines and summary. */
export function loadgen(nodes: readonly { port: number }[], args: string[]): Promise<{ windows: WindowLine[]; summary: Summary }> {
  const argv = [join(LAB, 'loadgen.mjs'), '--nodes', nodes.map((n) => `127.0.0.1:${n.port}`).join(','), ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`loadgen exited ${code}: ${err}`));
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as WindowLine | Summary);
      const summary = lines.at(-1);
      if (summary?.type !== 'summary') return reject(new Error(`loadgen printed no summary: ${out}`));
      resolve({ windows: lines.filter((l): l is WindowLine => l.type === 'window'), summary });
    });
  });
}
