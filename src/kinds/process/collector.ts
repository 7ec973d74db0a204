// Warden's side of the log collector (logd.ts): make each service's FIFO, make sure a collector
// reads it before the service starts (a service that dies at once must not take its last words with
// it), write Warden's own notes into the stream, and keep the collector's limits in step with the
// config. The collector outlives Warden; a restarted Warden finds it through its control socket.
import { spawn } from 'node:child_process';
import { closeSync, constants, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServiceSpec } from '../../domain/types.js';
import { listPids, readCmdline } from '../../lib/proc.js';
import { collectorAddress, LIMITS_FILE, NOTE_START, PIPE_SUFFIX, type LimitsFile } from './logd.js';

const LOGD = fileURLToPath(new URL('./logd.js', import.meta.url));
/** How long a start waits for the collector to answer before starting the service anyway. */
const ANSWER_MS = 2000;
/** How long a collector just spawned may take to listen (a Node start on a loaded host). */
const SPAWN_MS = 10_000;

export class LogCollectorClient {
  private conn: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  /** Answers awaited on `conn`, in request order. */
  private readonly waiting: ((answer: string) => void)[] = [];
  private buf = '';
  /** Whether any process service is configured: with none, no collector is kept running. */
  private wanted = false;

  constructor(private readonly dir: string, private readonly onError: (err: unknown) => void) {}

  pipeOf(service: string): string {
    return join(this.dir, `${service}${PIPE_SUFFIX}`);
  }

  /**
   * The service's FIFO exists and a collector reads it. A collector that cannot be reached is
   * reported, not fatal: the service starts anyway and the pipe holds its output until one can.
   */
  async prepare(service: string): Promise<string> {
    const pipe = this.pipeOf(service);
    makeFifo(pipe);
    try {
      const answer = await this.ask(`open ${service}`);
      if (answer !== 'ok') throw new Error(`log collector: ${answer}`);
    } catch (err) {
      this.onError(err);
    }
    return pipe;
  }

  /** A line of Warden's own in the service's stream ("starting: ..."). Never blocks: when the pipe is
   *  full (no collector is reading), the note is dropped rather than stall the loop. */
  note(service: string, text: string): void {
    let fd: number | undefined;
    try {
      makeFifo(this.pipeOf(service));
      // Non-blocking and write-only: fails with ENXIO when nobody reads, EAGAIN when the pipe is full.
      fd = openSync(this.pipeOf(service), constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(fd, `${NOTE_START}[warden] ${text}\n`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENXIO' && code !== 'EAGAIN') this.onError(err);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Write the services' limits for the collector, when they changed. */
  configure(specs: readonly ServiceSpec[]): void {
    const limits: LimitsFile = { services: {} };
    for (const s of specs) limits.services[s.name] = { maxBytes: s.logMaxBytes, keep: s.logKeep };
    const text = JSON.stringify(limits);
    this.wanted = specs.length > 0;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const file = join(this.dir, LIMITS_FILE);
      if (readText(file) === text) return;
      writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.onError(err);
    }
  }

  /** A collector is running: spawned again when its control connection is gone. */
  tend(): void {
    if (this.wanted && this.conn === null) this.connection().catch(this.onError);
  }

  dispose(): void {
    this.conn?.destroy();
    this.conn = null;
  }

  /** One answer within ANSWER_MS, connecting (or spawning a collector) included; a late
   *  connection still goes on in the background for the next request. */
  private ask(request: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`log collector did not answer within ${ANSWER_MS} ms`)), ANSWER_MS);
      this.connection().then((conn) => {
        this.waiting.push((answer) => { clearTimeout(timer); resolve(answer); });
        conn.write(`${request}\n`);
      }, (err: unknown) => { clearTimeout(timer); reject(err instanceof Error ? err : new Error(String(err))); });
    });
  }

  /** The open control connection; a collector is spawned when none listens. */
  private connection(): Promise<Socket> {
    if (this.conn !== null) return Promise.resolve(this.conn);
    this.connecting ??= this.connectOrSpawn().finally(() => { this.connecting = null; });
    return this.connecting;
  }

  private async connectOrSpawn(): Promise<Socket> {
    const deadline = Date.now() + SPAWN_MS;
    let spawned = false;
    for (;;) {
      try {
        const conn = await dial(collectorAddress(this.dir));
        this.adopt(conn);
        return conn;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        if (!spawned) {
          this.spawnCollector();
          spawned = true;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  private adopt(conn: Socket): void {
    conn.setEncoding('utf8');
    conn.unref();
    conn.on('data', (chunk: string) => {
      this.buf += chunk;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const answer = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiting.shift()?.(answer);
      }
    });
    const lost = (): void => {
      if (this.conn !== conn) return;
      this.conn = null;
      this.buf = '';
      for (const w of this.waiting.splice(0)) w('error the collector went away');
    };
    conn.on('error', lost);
    conn.on('close', lost);
    this.conn = conn;
  }

  private spawnCollector(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const err = openSync(join(this.dir, '.logd.err'), 'a', 0o600);
    try {
      // Detached like the services, so it outlives Warden; only PATH from Warden's environment.
      const child = spawn(process.execPath, [LOGD, this.dir], {
        detached: true, stdio: ['ignore', 'ignore', err], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      });
      child.on('error', this.onError);
      child.unref();
    } finally {
      closeSync(err);
    }
  }
}

/** The collector processes of a logs directory (normally one), found by their command line. */
export function collectorPids(logsDir: string): number[] {
  return listPids().filter((pid) => {
    const argv = readCmdline(pid);
    return argv !== null && argv[1] === LOGD && argv[2] === logsDir;
  });
}

/** Stop a logs directory's collector (a lab torn down); the pipes keep what services still write. */
export function stopCollector(logsDir: string): void {
  for (const pid of collectorPids(logsDir)) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  }
}

function dial(address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(address);
    s.once('connect', () => { s.removeListener('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

/** A FIFO at `path` (a stray regular file there, from an older Warden, is replaced). */
function makeFifo(path: string): void {
  try {
    if (lstatSync(path).isFIFO()) return;
    rmSync(path, { force: true });
  } catch {
    // Not there yet.
  }
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  // Node has no mkfifo(3); coreutils' mkfifo is on every system Warden runs on.
  execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
