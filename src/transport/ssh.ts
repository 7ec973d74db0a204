// A host reached with the system's OpenSSH client, so whatever the operator's ssh already does
// (~/.ssh/config, known_hosts, ProxyJump, the agent, identity files) works unchanged. One master
// connection per host is kept warm and every command rides on it (ControlMaster), so a probe costs
// a round trip, not a handshake.
//
// The master is Warden's own child (`ssh -N -o ControlMaster=yes`), restarted when it dies, rather
// than the detached master ControlPersist forks: that one holds the first client's stderr open, so
// the client never reads as finished, and it outlives Warden. Commands use ControlMaster=no: with
// the master up they ride on it, with it down they connect on their own.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { childEnv } from '../lib/childenv.js';
import { join } from './local.js';
import { spawnCollect } from './spawn.js';
import { TransportError, type RunOptions, type RunResult, type Transport } from './transport.js';

export interface SshHost {
  name: string;
  /** Host name or address as ssh takes it (an alias of ~/.ssh/config works too). */
  address: string;
  /** null: ssh's own default (~/.ssh/config's User, else Warden's user). */
  user: string | null;
  port: number | null;
  identityFile: string | null;
  /** A known_hosts file besides the user's own; null: ssh's defaults. */
  knownHostsFile: string | null;
  /** Give up connecting after this long. */
  connectTimeoutMs: number;
}

export interface SshTransportOptions {
  /** Where the control sockets live (under the data directory; mode 0700). */
  controlDir: string;
  /** The ssh client; default `ssh` on PATH. */
  ssh?: string;
  /** Seconds between keep-alives on the master; a dead link is noticed after 3 missed ones. */
  keepAliveSeconds?: number;
  /** Called when the master connection comes up or goes down (with why). */
  onMaster?: (up: boolean, why: string) => void;
}

/** Retry a failed master after this long, doubling to MASTER_BACKOFF_MAX_MS. */
const MASTER_BACKOFF_MS = 500;
const MASTER_BACKOFF_MAX_MS = 30_000;

export class SshTransport implements Transport {
  readonly kind = 'ssh';
  readonly host: string;
  private master: ChildProcess | null = null;
  private masterErr = '';
  private nextMasterAt = 0;
  private backoffMs = MASTER_BACKOFF_MS;
  private closed = false;
  private readonly ssh: string;
  private readonly keepAlive: number;

  constructor(private readonly spec: SshHost, private readonly opts: SshTransportOptions) {
    this.host = spec.name;
    this.ssh = opts.ssh ?? 'ssh';
    this.keepAlive = opts.keepAliveSeconds ?? 1;
  }

  /** The control socket's path pattern; %C is a hash of host, port and user, short enough for a socket. */
  get controlPath(): string {
    return `${this.opts.controlDir}/%C`;
  }

  /** The options every ssh invocation of this host gets (before the destination). */
  baseArgs(): string[] {
    const s = this.spec;
    return [
      // Never a prompt (a password, a new host key): an answer nobody gives is a hang.
      '-o', 'BatchMode=yes',
      // A host key is checked against known_hosts, never accepted because it is new or changed.
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `ConnectTimeout=${Math.max(1, Math.ceil(s.connectTimeoutMs / 1000))}`,
      '-o', `ServerAliveInterval=${this.keepAlive}`,
      '-o', 'ServerAliveCountMax=3',
      '-o', `ControlPath=${this.controlPath}`,
      // Warnings ("Permanently added ...") are not answers; errors still are.
      '-o', 'LogLevel=ERROR',
      ...(s.knownHostsFile !== null ? ['-o', `UserKnownHostsFile=${s.knownHostsFile}`] : []),
      ...(s.identityFile !== null ? ['-i', s.identityFile] : []),
      ...(s.port !== null ? ['-p', String(s.port)] : []),
      ...(s.user !== null ? ['-l', s.user] : []),
      '-T',
    ];
  }

  async run(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
    if (argv.length === 0) return { code: null, stdout: '', stderr: 'empty argv' };
    this.ensureMaster();
    const args = [...this.baseArgs(), '-o', 'ControlMaster=no', '--', this.spec.address, remoteCommand(argv, opts.env ?? {})];
    const r = await spawnCollect(this.ssh, args, { timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}), env: childEnv(), ...(opts.input !== undefined ? { input: opts.input } : {}) });
    const unreachable = r.code === 255 ? classify(this.spec.name, r.stderr) : null;
    return {
      code: r.code, stdout: r.stdout, stderr: r.cut === null ? r.stderr : join(r.stderr, r.cut),
      ...(unreachable !== null ? { unreachable } : {}),
    };
  }

  /** `ssh -W host:port`: a stream to host:port opened by the remote host, over the master. */
  connect(address: { host: string; port: number }, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<Duplex> {
    this.ensureMaster();
    const args = [...this.baseArgs(), '-o', 'ControlMaster=no', '-W', `${address.host}:${address.port}`, '--', this.spec.address];
    const child = spawn(this.ssh, args, { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr = (stderr + c).slice(-4096); });
    const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
    const kill = (): void => { child.kill('SIGKILL'); };
    const timer = setTimeout(kill, opts.timeoutMs);
    opts.signal?.addEventListener('abort', kill, { once: true });
    stream.once('close', () => { clearTimeout(timer); kill(); });
    child.once('error', (e) => stream.destroy(e));
    // The pipes are sockets: one reset when ssh is killed (the stream closed, a timeout) would be an
    // uncaught error on the pipe itself. It is the stream's error, or nothing once the stream is gone.
    for (const pipe of [child.stdin, child.stdout]) pipe.on('error', (e) => stream.destroy(e));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        const why = classify(this.spec.name, stderr)?.message ?? (stderr.trim() || `ssh -W exited ${code ?? 'by a signal'}`);
        stream.destroy(new Error(`${address.host}:${address.port} from ${this.spec.name}: ${why}`));
      }
    });
    return Promise.resolve(stream);
  }

  /**
   * Where ssh really connects, after ~/.ssh/config (`ssh -G`): the host name and port a TCP check
   * goes to, and whether a ProxyJump stands in between (then a direct TCP check means nothing).
   */
  async effective(): Promise<{ hostname: string; port: number; proxyJump: string | null }> {
    const r = await spawnCollect(this.ssh, [...this.baseArgs(), '-G', '--', this.spec.address], { timeoutMs: 5000, env: childEnv() });
    const opt = (k: string): string | null => new RegExp(`^${k} (.+)$`, 'm').exec(r.stdout)?.[1]?.trim() ?? null;
    const jump = opt('proxyjump');
    return { hostname: opt('hostname') ?? this.spec.address, port: Number(opt('port') ?? this.spec.port ?? 22), proxyJump: jump === null || jump === 'none' ? null : jump };
  }

  /** Why the warm connection is down, when it is (what ssh said last); null while it is up. */
  get masterProblem(): string | null {
    return this.master !== null ? null : (this.masterErr.trim() || null);
  }

  async close(): Promise<void> {
    this.closed = true;
    const m = this.master;
    this.master = null;
    if (m === null || m.exitCode !== null) return;
    const gone = new Promise((r) => m.once('exit', r));
    m.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 2000).unref())]);
    if (m.exitCode === null) m.kill('SIGKILL');
  }

  /** Starts the master unless it runs or failed a moment ago (then commands connect on their own). */
  ensureMaster(): void {
    if (this.closed || this.master !== null || Date.now() < this.nextMasterAt) return;
    if (!existsSync(this.opts.controlDir)) mkdirSync(this.opts.controlDir, { recursive: true, mode: 0o700 });
    const args = [...this.baseArgs(), '-N', '-o', 'ControlMaster=yes', '-o', 'ControlPersist=no', '--', this.spec.address];
    // setpriv --pdeathsig: the master dies with Warden, even a Warden killed with SIGKILL.
    const [file, argv] = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', ['--pdeathsig', 'TERM', '--', this.ssh, ...args]] as const : [this.ssh, args] as const;
    const m = spawn(file, [...argv], { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    this.master = m;
    this.masterErr = '';
    const started = Date.now();
    m.stderr?.setEncoding('utf8').on('data', (c: string) => { this.masterErr = (this.masterErr + c).slice(-4096); });
    m.once('error', (e) => { this.masterErr = e.message; });
    m.once('exit', () => {
      if (this.master === m) this.master = null;
      // A master that lived a while was fine: try again at once; one that failed at once backs off.
      this.backoffMs = Date.now() - started > 10_000 ? MASTER_BACKOFF_MS : Math.min(this.backoffMs * 2, MASTER_BACKOFF_MAX_MS);
      this.nextMasterAt = Date.now() + this.backoffMs;
      if (!this.closed) this.opts.onMaster?.(false, this.masterErr.trim() || 'master connection ended');
    });
  }
}

/** argv as one command line for the remote shell, each word single-quoted, sbin on PATH. */
export function remoteCommand(argv: readonly string[], env: Readonly<Record<string, string>>): string {
  const vars = Object.entries(env).map(([k, v]) => quote(`${k}=${v}`));
  // The login shell of a non-root account often lacks sbin, where systemctl may live.
  return `PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH; exec env ${[...vars, ...argv.map(quote)].join(' ')}`;
}

export function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * What an exit 255 of ssh means, from what it printed; null when it does not look like ssh's own
 * failure (the remote command may exit 255 itself).
 */
export function classify(host: string, stderr: string): TransportError | null {
  const line = stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(-1)[0] ?? '';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(stderr)) {
    return new TransportError('HOST_KEY_CHANGED', `host ${host}: its SSH host key differs from the one in known_hosts (reinstalled, or someone in between); check the new key with the host's owner, then replace the line in known_hosts (ssh-keygen -R)`);
  }
  if (/No \S+ host key is known|Host key verification failed/i.test(stderr)) {
    return new TransportError('HOST_KEY_UNKNOWN', `host ${host}: its SSH host key is not in known_hosts; check its fingerprint, then add it (ssh-keyscan, or one interactive ssh as Warden's user) — Warden never accepts an unknown key`);
  }
  if (/Permission denied \(/i.test(stderr)) {
    return new TransportError('AUTH_FAILED', `host ${host}: the SSH login was refused (${line}); check user and identityFile, and that the key is in the account's authorized_keys`);
  }
  if (/Connection timed out|timed out|Connection refused|No route to host|Network is unreachable|Could not resolve hostname|Connection closed|Connection reset|Broken pipe|kex_exchange_identification|Name or service not known|Temporary failure in name resolution/i.test(stderr)) {
    return new TransportError('HOST_UNREACHABLE', `host ${host} unreachable over SSH: ${line}`);
  }
  if (stderr.trim() === '') return null;
  return /^(ssh|mux_client|ControlSocket|channel \d+:)/m.test(stderr) ? new TransportError('SSH_FAILED', `host ${host}: ssh failed: ${line}`) : null;
}
