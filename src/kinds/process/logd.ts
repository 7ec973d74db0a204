// The log collector: one small process per data directory that sits between the services Warden
// starts and their log files. Each service writes into its own FIFO (`logs/<service>.pipe`); the
// collector stamps every line with the time it was read and appends it to `logs/<service>.log`,
// rotating by bytes written. It is detached like the services, so it outlives Warden: a service
// keeps logging, stamped and bounded, while Warden restarts.
//
// Why a process of its own: a service's stdout must not be a pipe to Warden (Warden's death would
// break it), and a plain file cannot stamp lines nor be rotated without copying. Why a FIFO: it is a
// name on disk, so a restarted collector opens the same pipes again, and the services never notice.
import { closeSync, existsSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync, constants } from 'node:fs';
import { connect, createServer, Socket, type Server } from 'node:net';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A line longer than this is cut into pieces, each stamped: a tail reads lines, not megabytes. */
export const LINE_MAX = 16 * 1024;
/** A last line without its newline is written anyway after this long: a crash leaves one behind. */
const PARTIAL_FLUSH_MS = 500;
/** How often the collector looks for FIFOs it missed and for its directory being gone. */
const RESCAN_MS = 2000;
export const PIPE_SUFFIX = '.pipe';
export const LIMITS_FILE = '.logd.json';

export interface LogLimits { maxBytes: number; keep: number }
/** What Warden writes to LIMITS_FILE: each service's bound (ServiceSpec.logMaxBytes, logKeep). */
export interface LimitsFile { services: Record<string, LogLimits> }
const DEFAULT_LIMITS: LogLimits = { maxBytes: 1024 * 1024, keep: 3 };

/** Longest unix socket path Linux takes (sun_path is 108 bytes with its NUL). */
const SOCKET_PATH_MAX = 107;

/**
 * The collector's control socket: a file in the logs directory, which is 0700, so only Warden's
 * user can reach it. A directory whose path is too long for a socket gets an abstract name (any
 * local user could connect to that one; the docs say so).
 */
export function collectorAddress(logsDir: string): string {
  const file = join(resolve(logsDir), '.logd.sock');
  if (Buffer.byteLength(file) <= SOCKET_PATH_MAX) return file;
  return `\0warden-logd-${createHash('sha256').update(resolve(logsDir)).digest('hex').slice(0, 24)}`;
}

/** A request longer than this is not one of Warden's: the connection is dropped. */
const REQUEST_MAX = 4096;
/** Starts a note of Warden's own in a service's stream: whatever line is pending ends before it. */
export const NOTE_START = '\x1e';

/** "2026-11-30T02:45:00.123Z text": the stamp the collector puts before each line. */
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /;

/** A log line's stamp (ms since the epoch) and text; lines written before stamps have no `at`. */
export function splitStamp(line: string): { at: number | null; text: string } {
  const m = STAMP.exec(line);
  return m === null ? { at: null, text: line } : { at: Date.parse(m[1]!), text: line.slice(m[0].length) };
}

/** One service's log file, rotated by renaming when the next write would pass maxBytes. */
export class RotatingLog {
  /** null after a rotation could not open the new file: opened again at the next write. */
  private fd: number | null;
  private size: number;
  /** Bytes that could not be written (disk full, say), reported by a marker once writing works again. */
  private dropped = 0;
  private droppedWhy = '';
  /** A short write left the file in the middle of a line: the next write ends it first. */
  private cut = false;

  constructor(private readonly path: string, public limits: LogLimits, private readonly now: () => number = Date.now) {
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /** Stamp and append whole lines (without their newlines), rotating between lines as needed. */
  writeLines(lines: string[]): void {
    const stamp = new Date(this.now()).toISOString();
    // A stamped piece must fit in one file, however small maxBytes is; cut on UTF-8 boundaries.
    const room = Math.max(4, Math.min(LINE_MAX, this.limits.maxBytes - stamp.length - 2));
    const pieces: Buffer[] = [];
    // Warden's own bytes go first: the end of a line a full disk cut short, then the count of what
    // it refused. They are not the service's, so they never count as dropped.
    if (this.cut) pieces.push(NEWLINE);
    if (this.dropped > 0) pieces.push(Buffer.from(`${stamp} [warden-logd] ${this.dropped} bytes dropped: ${this.droppedWhy}\n`));
    let own = pieces.reduce((n, p) => n + p.length, 0);
    for (const line of lines) for (const part of cutBytes(Buffer.from(line), room)) pieces.push(Buffer.concat([Buffer.from(`${stamp} `), part, NEWLINE]));
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const piece of pieces) {
      if (this.size + batchBytes + piece.length > this.limits.maxBytes && this.size + batchBytes > 0) {
        own = this.flush(batch, batchBytes, own);
        batch = [];
        batchBytes = 0;
        this.rotate();
      }
      batch.push(piece);
      batchBytes += piece.length;
    }
    this.flush(batch, batchBytes, own);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Write `batch`, whose first `own` bytes are Warden's; returns how many of those are still to come. */
  private flush(batch: Buffer[], bytes: number, own: number): number {
    if (bytes === 0) return own;
    const buf = Buffer.concat(batch, bytes);
    let off = 0;
    try {
      if (this.fd === null) {
        this.fd = openSync(this.path, 'a', 0o600);
        this.size = fstatSync(this.fd).size;
      }
      while (off < buf.length) off += writeSync(this.fd, buf, off);
      this.size += bytes;
      this.dropped = 0;
      this.cut = false;
    } catch (err) {
      // Lost, not retried: the service must not wait for a disk that may stay full. Counted instead:
      // only the service's bytes that did not reach the file (a short write keeps the ones that did).
      this.dropped += bytes - Math.max(own, off);
      this.droppedWhy = (err as NodeJS.ErrnoException).code ?? String(err);
      if (off > 0) this.cut = buf[off - 1] !== NEWLINE[0];
      this.size += off;
    }
    return 0;
  }

  /** .1 → .2 … (the oldest past `keep` removed), the live file → .1, a new live file. No copying.
   *  A rename that fails (a full or read-only disk) leaves the files as they are; the next write
   *  opens the live file again. */
  private rotate(): void {
    this.close();
    const { keep } = this.limits;
    try {
      if (keep === 0) rmSync(this.path, { force: true });
      else {
        rmSync(`${this.path}.${keep}`, { force: true });
        for (let i = keep - 1; i >= 1; i--) {
          if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
        }
        renameSync(this.path, `${this.path}.1`);
      }
      this.cut = false;
    } catch (err) {
      this.droppedWhy = `rotation failed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    }
    this.size = 0;
  }
}

const NEWLINE = Buffer.from('\n');

/** Pieces of at most `room` bytes, never splitting a UTF-8 sequence; one empty piece for an empty line. */
function cutBytes(buf: Buffer, room: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  do {
    let end = Math.min(buf.length, at + room);
    // Back off continuation bytes (10xxxxxx) so a character stays whole.
    while (end < buf.length && end > at + 1 && (buf[end]! & 0xc0) === 0x80) end--;
    out.push(buf.subarray(at, end));
    at = end;
  } while (at < buf.length);
  return out;
}

/** One FIFO being read: splits the stream into lines for its RotatingLog. */
class Feed {
  private partial = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly socket: Socket;
  /** The FIFO's inode: a pipe made anew under the same name is another pipe, read by another feed. */
  readonly ino: number;

  constructor(readonly name: string, fifo: string, private readonly log: RotatingLog, onError: (err: Error) => void) {
    // Read-write, so the collector never sees end-of-file between two writers (a service restart),
    // and a writer never gets SIGPIPE while the collector holds it.
    const fd = openSync(fifo, constants.O_RDWR);
    this.ino = fstatSync(fd).ino;
    this.socket = new Socket({ fd, readable: true, writable: false });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => this.take(chunk));
    this.socket.on('error', onError);
  }

  set limits(l: LogLimits) { this.log.limits = l; }

  private take(chunk: string): void {
    clearTimeout(this.timer);
    // A note of Warden's starts a line of its own: it ends a pending partial line (a crash's last
    // words without their newline), and after a newline it adds no empty line.
    let text = this.partial + chunk;
    if (this.partial === '' && text.startsWith(NOTE_START)) text = text.slice(1);
    const lines = text.replace(/\n?\x1e/g, '\n').split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length >= LINE_MAX) {
      lines.push(this.partial);
      this.partial = '';
    }
    if (lines.length > 0) this.log.writeLines(lines);
    if (this.partial !== '') this.timer = setTimeout(() => this.flushPartial(), PARTIAL_FLUSH_MS);
  }

  private flushPartial(): void {
    if (this.partial === '') return;
    this.log.writeLines([this.partial]);
    this.partial = '';
  }

  close(): void {
    clearTimeout(this.timer);
    this.flushPartial();
    this.socket.destroy();
    this.log.close();
  }
}

/** The collector of one logs directory: every `<service>.pipe` in it, read into `<service>.log`. */
export class Collector {
  private readonly feeds = new Map<string, Feed>();
  private limits: LimitsFile = { services: {} };
  private limitsMtime = -1;
  private server: Server | undefined;
  private readonly conns = new Set<Socket>();
  private rescan: NodeJS.Timeout | undefined;
  /** Reports made, so a condition that lasts is reported once, not every rescan. */
  private readonly reported = new Set<string>();

  constructor(private readonly dir: string, private readonly report: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)) {}

  /** Take the control socket (exactly one collector per directory), then open every pipe. */
  async start(): Promise<'started' | 'already running'> {
    const address = collectorAddress(this.dir);
    let server = await listen(address, (conn) => this.serve(conn));
    if (server === null) {
      // Taken: by a live collector, or a socket file left by a dead one (nobody answers on it).
      if (address.startsWith('\0') || (await answers(address))) return 'already running';
      rmSync(address, { force: true });
      server = await listen(address, (conn) => this.serve(conn));
      if (server === null) return 'already running';
    }
    this.server = server;
    this.scan();
    this.rescan = setInterval(() => this.scan(), RESCAN_MS);
    return 'started';
  }

  /** Stop reading and answering: Warden's connection closes too, so it starts another collector. */
  stop(): void {
    clearInterval(this.rescan);
    this.server?.close();
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    for (const f of this.feeds.values()) f.close();
    this.feeds.clear();
  }

  /** Requests, one per line: `open NAME` → `ok` once NAME's pipe is being read (or `error ...`). */
  private serve(conn: Socket): void {
    let buf = '';
    this.conns.add(conn);
    conn.setEncoding('utf8');
    conn.on('error', () => conn.destroy());
    conn.on('close', () => this.conns.delete(conn));
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > REQUEST_MAX) {
        conn.destroy();
        return;
      }
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const [verb, name = ''] = buf.slice(0, nl).split(' ', 2);
        buf = buf.slice(nl + 1);
        try {
          if (verb !== 'open' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new Error(`bad request ${JSON.stringify(verb)}`);
          this.readLimits();
          this.open(name);
          conn.write('ok\n');
        } catch (err) {
          conn.write(`error ${(err as Error).message.replace(/\n/g, ' ')}\n`);
        }
      }
    });
  }

  /** Open any pipe not yet read; exit when the directory is gone (its data directory was removed). */
  private scan(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      this.report(`log collector: ${this.dir} is gone; exiting`);
      this.stop();
      return;
    }
    this.readLimits();
    for (const n of names) {
      if (!n.endsWith(PIPE_SUFFIX)) continue;
      try {
        this.open(n.slice(0, -PIPE_SUFFIX.length));
      } catch (err) {
        this.reportOnce(`log collector: ${n}: ${(err as Error).message}`);
      }
    }
  }

  /** Read NAME's pipe, unless it is being read already; only an existing FIFO is opened. */
  private open(name: string): void {
    const fifo = join(this.dir, `${name}${PIPE_SUFFIX}`);
    const st = lstatSync(fifo);
    if (!st.isFIFO()) throw new Error(`${fifo} is not a FIFO`);
    const current = this.feeds.get(name);
    if (current?.ino === st.ino) return;
    // The pipe was made anew (its directory removed and made again): the old one has no writer to come.
    current?.close();
    const log = new RotatingLog(join(this.dir, `${name}.log`), this.limitsOf(name));
    let feed: Feed;
    try {
      feed = new Feed(name, fifo, log, (err) => {
        this.reportOnce(`log collector: ${name}: ${err.message}`);
        feed.close();
        if (this.feeds.get(name) === feed) this.feeds.delete(name);
      });
    } catch (err) {
      log.close();
      throw err;
    }
    this.feeds.set(name, feed);
  }

  private reportOnce(msg: string): void {
    if (this.reported.has(msg)) return;
    this.reported.add(msg);
    this.report(msg);
  }

  private limitsOf(name: string): LogLimits {
    return this.limits.services[name] ?? DEFAULT_LIMITS;
  }

  /** Re-read LIMITS_FILE when it changed; a broken one keeps the limits in force. */
  private readLimits(): void {
    const file = join(this.dir, LIMITS_FILE);
    try {
      const mtime = statSync(file).mtimeMs;
      if (mtime === this.limitsMtime) return;
      this.limits = JSON.parse(readFileSync(file, 'utf8')) as LimitsFile;
      this.limitsMtime = mtime;
      for (const [name, feed] of this.feeds) feed.limits = this.limitsOf(name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.reportOnce(`log collector: ${file}: ${(err as Error).message}`);
    }
  }
}

/** A server listening on `address`, or null when the address is taken. */
function listen(address: string, onConn: (c: Socket) => void): Promise<Server | null> {
  const server = createServer(onConn);
  return new Promise((res, rej) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? res(null) : rej(err)));
    server.listen(address, () => res(server));
  });
}

/** Whether something accepts connections on a socket file. */
function answers(address: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(address);
    s.once('connect', () => { s.destroy(); res(true); });
    s.once('error', () => res(false));
  });
}

/** `node logd.js LOGS_DIR`: what Warden spawns (detached) to collect a data directory's logs. It
 *  ends when nothing is left open: another collector runs already, it was told to stop, or its
 *  directory is gone. */
async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: logd.js LOGS_DIR\n');
    process.exitCode = 2;
    return;
  }
  // A report that cannot be written (a full disk under .logd.err) is lost, not fatal.
  process.stderr.on('error', () => {});
  const collector = new Collector(dir);
  if ((await collector.start()) === 'already running') return;
  // Warden stopping is no reason to stop (its unit signals only its main process); a signal to this
  // process itself is, and the pipes then hold what is written until the next collector.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => collector.stop());
  process.on('SIGHUP', () => {});
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
