// A Prometheus of the lab's own: a real `prometheus` process on a free port, with its own config
// and data directory, scraping the targets it is given every second. The Debian package's system
// Prometheus (on :9090) is never touched. Used by the tests and the demo of PromQL checks.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../lib/wait.js';
import { freePort } from './lab.js';

export interface ScrapeTarget {
  job: string;
  /** host:port serving /metrics. */
  address: string;
  /** A file holding the bearer token the target wants (Warden's API). */
  tokenFile?: string;
}

export interface LabPrometheus {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  dir: string;
  /** Stops the process and removes its directory. */
  stop(): Promise<void>;
}

export function requirePrometheus(): void {
  if (spawnSync('sh', ['-c', 'command -v prometheus'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('prometheus is not installed: run "npm test" (it installs it), or apt-get install prometheus');
  }
}

/** The config file's text: YAML is JSON, so every value is quoted as JSON. */
export function prometheusConfig(targets: ScrapeTarget[], interval: string): string {
  return JSON.stringify({
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: targets.map((t) => ({
      job_name: t.job,
      static_configs: [{ targets: [t.address] }],
      ...(t.tokenFile !== undefined ? { authorization: { type: 'Bearer', credentials_file: t.tokenFile } } : {}),
    })),
  }, null, 2);
}

function stopped(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

/** Starts Prometheus scraping `targets` every `interval`; resolves once it answers /-/ready. */
export async function startPrometheus(targets: ScrapeTarget[], interval = '1s'): Promise<LabPrometheus> {
  requirePrometheus();
  const dir = mkdtempSync(join(tmpdir(), 'warden-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, prometheusConfig(targets, interval));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4096); });
  const stop = async (): Promise<void> => {
    proc.kill('SIGTERM');
    await stopped(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}: ${log}`);
      const res = await fetch(`${url}/-/ready`).catch(() => null);
      await res?.arrayBuffer().catch(() => undefined);
      return res?.status === 200;
    }, 20_000, `prometheus ready at ${url}`, { everyMs: 50 });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, dir, stop };
}
