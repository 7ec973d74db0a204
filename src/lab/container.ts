// A real systemd booted in a systemd-nspawn container, for tests that need systemd as PID 1
// (the host does not run systemd). Each container starts from the cached root file system
// (see rootfs.ts) through a private overlay or a copy, so every test run sees a clean tree, and
// is driven through `nsenter` into its namespaces, because the host has no machined to ask.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import { assertHostReady, childrenOf, hostEnv, log, run, runOk, sleep, type RunResult } from './host.js';

export { ensureRootfs, ROOTFS_VERSION, ROOTFS_PACKAGES, MASKED_UNITS, type RootfsOptions } from './rootfs.js';
export { systemTestsSkipped, SystemTestUnavailableError, SKIP_ENV } from './host.js';

/** Where the checkout is mounted (read-only) inside every container. */
export const GUEST_CHECKOUT = '/opt/warden';
/** nspawn's exit code when the container asked to reboot. */
const EXIT_REBOOT = 133;

export interface Bind { host: string; guest: string; readonly?: boolean }

export interface BootOptions {
  /** The cached tree from ensureRootfs(); never modified. */
  rootfs: string;
  /** Machine name, also the container's hostname; must be unique among running containers. */
  name?: string;
  /** Extra bind mounts; the node binary and the checkout are always bound read-only. */
  binds?: Bind[];
  /**
   * How the container gets its own writable tree: 'overlay' (default) mounts an overlayfs over
   * the cached tree inside a private mount namespace (instant, nothing appears in the host's
   * mount table); 'copy' copies the tree (`cp -a --reflink=auto`; 210 MB took 1-11 s on this
   * VM's ext4), for hosts where the cache directory cannot be an overlayfs lower layer.
   */
  tree?: 'overlay' | 'copy';
  /** Files to place in the tree before the first boot (e.g. a unit that must start at boot). */
  files?: { path: string; content: string; mode?: number }[];
  /** Extra systemd-nspawn arguments, e.g. ['--private-network']. */
  nspawnArgs?: string[];
  /** Deadline for each boot to reach running/degraded; default 60 s. */
  bootTimeoutMs?: number;
  /** Parent of the container's temporary directory; default /var/tmp. */
  workRoot?: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string | Buffer;
  /** Added to the minimal environment commands get inside (PATH, HOME, LANG). */
  env?: Record<string, string>;
}

export type ExecResult = RunResult;

export class ContainerError extends Error {
  constructor(message: string, readonly consoleTail: string = '') {
    super(consoleTail ? `${message}\n--- container console (last lines) ---\n${consoleTail}` : message);
    this.name = 'ContainerError';
  }
}

/** One run of systemd-nspawn; a reboot ends it and starts the next. */
interface Launch {
  proc: ChildProcess;
  pid1: number | undefined;
  /** readlink of /proc/PID1/ns/pid, so a recycled PID is never killed by mistake. */
  pidNs: string | undefined;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
}

const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const live = new Set<Container>();

export class Container {
  readonly name: string;
  /** The container's temporary directory on the host (tree, overlay layers); removed by stop(). */
  readonly workDir: string;
  /** Milliseconds from starting nspawn to `running`/`degraded`, one entry per boot. */
  readonly bootTimes: number[] = [];
  /** Milliseconds spent preparing the tree (overlay directories or copy). */
  readonly prepareMs: number;

  private launch: Launch | undefined;
  private ready: Promise<void> = Promise.resolve();
  private launches = 0;
  private stopping = false;
  private stopped = false;
  /** Set when nspawn exited for a reason other than a reboot. */
  private gone: string | undefined;
  private readonly consoleLines: string[] = [];
  private readonly sentinel: Writable | undefined;

  private constructor(
    private readonly opts: Required<Pick<BootOptions, 'rootfs' | 'tree' | 'bootTimeoutMs'>> & BootOptions,
    name: string,
    workDir: string,
    prepareMs: number,
    sentinel: Writable | undefined,
  ) {
    this.name = name;
    this.workDir = workDir;
    this.prepareMs = prepareMs;
    this.sentinel = sentinel;
  }

  static async boot(opts: BootOptions): Promise<Container> {
    assertHostReady();
    if (!existsSync(join(opts.rootfs, 'etc/os-release'))) throw new ContainerError(`not a root file system: ${opts.rootfs}`);
    const name = opts.name ?? `warden-${randomBytes(3).toString('hex')}`;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new ContainerError(`invalid machine name ${JSON.stringify(name)}`);
    const workRoot = opts.workRoot ?? '/var/tmp';
    mkdirSync(workRoot, { recursive: true });
    const workDir = mkdtempSync(join(workRoot, `warden-ct-${name}-`));
    const tree = opts.tree ?? 'overlay';
    // Start the sentinel before anything can be left behind: if this process dies without
    // stopping the container (even by SIGKILL), the sentinel kills it and removes workDir.
    const sentinel = startSentinel(workDir, name);
    const t0 = Date.now();
    try {
      if (tree === 'copy') {
        await runOk('cp', ['-a', '--reflink=auto', '--', opts.rootfs, join(workDir, 'root')]);
      } else {
        for (const d of ['upper', 'work', 'root']) mkdirSync(join(workDir, d));
      }
      // Files go into the tree as seen before the overlay is mounted (the upper layer).
      const base = join(workDir, tree === 'copy' ? 'root' : 'upper');
      const put = (path: string, content: string, mode = 0o644): void => {
        mkdirSync(join(base, dirname(path)), { recursive: true });
        writeFileSync(join(base, path), content, { mode });
      };
      put('/etc/machine-id', randomBytes(16).toString('hex') + '\n', 0o444);
      for (const f of opts.files ?? []) put(f.path, f.content, f.mode);
    } catch (e) {
      sentinel?.end('done\n');
      rmSync(workDir, { recursive: true, force: true });
      throw e;
    }
    const c = new Container({ ...opts, tree, bootTimeoutMs: opts.bootTimeoutMs ?? 60_000 }, name, workDir, Date.now() - t0, sentinel);
    live.add(c);
    installExitHooks();
    c.ready = c.start();
    try {
      await c.ready;
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /** Host PID of the container's systemd (PID 1 inside); changes on every reboot. */
  pid1(): number {
    const pid = this.launch?.pid1;
    if (pid === undefined || this.launch?.exited) throw new ContainerError(`container ${this.name} is not running`);
    return pid;
  }

  /** Host PID of the systemd-nspawn process of the current boot. */
  nspawnPid(): number {
    const pid = this.launch?.proc.pid;
    if (pid === undefined) throw new ContainerError(`container ${this.name} is not running`);
    return pid;
  }

  /** Number of boots so far (1 after boot(), +1 per reboot, including reboots from inside). */
  get boots(): number { return this.launches; }

  /**
   * Run a command inside every namespace of the container (as root, cwd /). The process is not
   * in the container's cgroup tree: use `systemd-run` for anything that must be a unit.
   */
  async exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new ContainerError('exec: empty argv');
    const pid = this.pid1();
    // setpriv --pdeathsig: if nsenter is killed (timeout), the command inside dies with it.
    return run('nsenter', ['-t', String(pid), '-a', '--', 'setpriv', '--pdeathsig', 'KILL', '--', ...argv], {
      env: { PATH: GUEST_PATH, HOME: '/root', LANG: 'C.UTF-8', ...opts.env },
      timeoutMs: opts.timeoutMs ?? 30_000,
      killChildrenFirst: true,
      ...(opts.input === undefined ? {} : { input: opts.input }),
    });
  }

  /** exec() that throws, with the output, unless the command exits 0. */
  async execOk(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.exec(argv, opts);
    if (r.code !== 0) {
      throw new ContainerError(`in ${this.name}: ${argv.join(' ')} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${(r.stderr || r.stdout).trim()}`);
    }
    return r;
  }

  systemctl(...args: string[]): Promise<ExecResult> {
    return this.exec(['systemctl', '--no-pager', ...args]);
  }

  journalctl(...args: string[]): Promise<ExecResult> {
    return this.exec(['journalctl', '--no-pager', ...args]);
  }

  /** `systemctl show UNIT -p A,B` as an object ({ ActiveState: 'active', ... }). */
  async show(unit: string, props: string[]): Promise<Record<string, string>> {
    const r = await this.execOk(['systemctl', 'show', unit, '-p', props.join(',')]);
    const out: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  /** Write a file inside the running container, atomically (temp file + rename), creating parents. */
  async writeFile(guestPath: string, content: string | Buffer, mode = 0o644): Promise<void> {
    if (!guestPath.startsWith('/')) throw new ContainerError(`writeFile: not an absolute path: ${guestPath}`);
    // Done inside the container (not through /proc/PID/root) so absolute symlinks and read-only
    // mounts behave as they do for the guest.
    await this.execOk(['sh', '-c',
      'set -e; umask 022; mkdir -p -- "$(dirname -- "$1")"; t="$1.warden-tmp.$$"; cat > "$t"; chmod "$2" "$t"; mv -f -- "$t" "$1"',
      'sh', guestPath, mode.toString(8)], { input: content });
  }

  async readFile(guestPath: string): Promise<string> {
    return (await this.execOk(['cat', '--', guestPath])).stdout;
  }

  /** The container's boot id: nspawn bind-mounts a fresh random one over the kernel's on every boot. */
  async bootId(): Promise<string> {
    return (await this.readFile('/proc/sys/kernel/random/boot_id')).trim();
  }

  /** `systemctl reboot` inside, then wait for the next boot to come up (pid1 and boot id change). */
  async reboot(): Promise<void> {
    const before = this.launches;
    await this.systemctl('reboot');
    await this.waitForBoot(before + 1);
  }

  /**
   * Wait until boot number `n` (see `boots`) is up, e.g. after something inside rebooted the
   * container on its own. Without n, waits for the current boot.
   */
  async waitForBoot(n = this.launches, timeoutMs = this.opts.bootTimeoutMs + 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.launches < n) {
      if (this.stopping) throw new ContainerError(`container ${this.name} was stopped`);
      if (this.gone !== undefined) throw new ContainerError(`container ${this.name} ${this.gone} instead of rebooting`, this.consoleTail());
      if (Date.now() > deadline) throw new ContainerError(`container ${this.name}: boot ${n} did not start within ${timeoutMs} ms`, this.consoleTail());
      await sleep(20);
    }
    await this.ready;
  }

  /**
   * Power the container off (kill it if it does not go), remove its tree; idempotent. `cut`
   * pulls the plug instead: everything inside dies at once, no unit is stopped first, as when a
   * machine loses power (an orderly shutdown stops its services one by one, which reads as the
   * services failing while the host still answers).
   */
  async stop(opts: { cut?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopping = true;
    const l = this.launch;
    if (l && !l.exited && opts.cut === true) {
      killPidNamespace(l);
      l.proc.kill('SIGKILL');
    } else if (l && !l.exited) {
      l.proc.kill('SIGTERM'); // nspawn turns this into an orderly poweroff of the container
      if (!(await within(l.exit, 15_000))) {
        log(`container ${this.name} did not power off within 15 s; killing it`);
        l.proc.kill('SIGKILL');
      }
    }
    if (l) killPidNamespace(l);
    if (l && !l.exited) await within(l.exit, 5_000);
    cleanupHostLeftovers(this.workDir, this.name);
    this.stopped = true;
    live.delete(this);
    this.sentinel?.end('done\n');
  }

  /** @internal Synchronous kill + clean-up for the process exit hook. */
  killNow(): void {
    const l = this.launch;
    this.stopping = true;
    try { if (l?.proc.pid && !l.exited) process.kill(l.proc.pid, 'SIGKILL'); } catch { /* gone */ }
    if (l) killPidNamespace(l);
    cleanupHostLeftovers(this.workDir, this.name);
    this.stopped = true;
  }

  /** The last lines nspawn printed (systemd's boot and shutdown messages). */
  consoleTail(lines = 40): string {
    return this.consoleLines.slice(-lines).join('\n');
  }

  private nspawnArgv(): string[] {
    const node = realpathSync(process.execPath);
    const binds: Bind[] = [
      { host: node, guest: '/usr/bin/node', readonly: true },
      { host: checkoutRoot(), guest: GUEST_CHECKOUT, readonly: true },
      ...(this.opts.binds ?? []),
    ];
    for (const b of binds) {
      if (b.host.includes(':') || b.guest.includes(':')) throw new ContainerError(`bind paths may not contain ':': ${b.host}`);
    }
    return [
      'systemd-nspawn',
      '--quiet',
      '--register=no', // no machined on the host
      '--keep-unit', // and no systemd on the host to create a scope unit
      '--boot',
      '--console=read-only',
      `--machine=${this.name}`,
      `--directory=${join(this.workDir, 'root')}`,
      ...binds.map((b) => `${b.readonly === false ? '--bind' : '--bind-ro'}=${resolve(b.host)}:${b.guest}`),
      ...(this.opts.nspawnArgs ?? []),
    ];
  }

  /** Start nspawn and wait for this boot to finish. */
  private async start(): Promise<void> {
    const argv = this.nspawnArgv();
    // setpriv: nspawn is killed if this process dies. unshare: the overlay mount lives in a
    // private mount namespace that disappears with the container.
    const cmd = ['setpriv', '--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c'];
    const script = this.opts.tree === 'copy'
      ? 'shift 3; exec "$@"'
      : 'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$2/../root" && shift 3 && exec "$@"';
    const workDir = this.workDir;
    const started = Date.now();
    const proc = spawn(cmd[0] ?? 'setpriv', [...cmd.slice(1), script, 'sh', this.opts.rootfs, join(workDir, 'upper'), join(workDir, 'work'), ...argv], {
      env: hostEnv(), stdio: ['ignore', 'pipe', 'pipe'],
    });
    const launch: Launch = {
      proc,
      pid1: undefined,
      pidNs: undefined,
      exited: false,
      exit: new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal }))),
    };
    this.launch = launch;
    this.launches++;
    this.captureConsole(proc);
    void launch.exit.then((ex) => this.onExit(launch, ex.code, ex.signal));
    if (proc.pid !== undefined) this.sentinel?.write(`reset\npid ${proc.pid}\n`);

    launch.pid1 = await this.findPid1(launch);
    this.sentinel?.write(`pid ${launch.pid1}\n`);
    await this.waitRunning(launch);
    this.bootTimes.push(Date.now() - started);
  }

  private onExit(launch: Launch, code: number | null, signal: NodeJS.Signals | null): void {
    launch.exited = true;
    if (launch !== this.launch) return;
    this.sentinel?.write('reset\n');
    if (this.stopping) return;
    if (code === EXIT_REBOOT) {
      // A reboot, from reboot() or from inside: boot again with the same arguments and tree.
      this.ready = this.start();
      this.ready.catch(() => undefined); // surfaced by whoever awaits waitForBoot()/ready
      return;
    }
    this.gone = `exited (code ${code}, signal ${signal})`;
    log(`container ${this.name} ${this.gone} unexpectedly\n${this.consoleTail()}`);
  }

  private captureConsole(proc: ChildProcess): void {
    let partial = '';
    const onData = (chunk: Buffer): void => {
      // Strip colour codes and the carriage returns of the pty.
      partial += chunk.toString('utf8').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      this.consoleLines.push(...parts);
      if (this.consoleLines.length > 400) this.consoleLines.splice(0, this.consoleLines.length - 200);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
  }

  /** The container's init is the child of nspawn that lives in a new PID namespace. */
  private async findPid1(launch: Launch): Promise<number> {
    const deadline = Date.now() + this.opts.bootTimeoutMs;
    const parent = launch.proc.pid;
    const ownNs = readlinkSync('/proc/self/ns/pid');
    while (Date.now() < deadline) {
      if (launch.exited || parent === undefined) {
        throw new ContainerError(`systemd-nspawn for ${this.name} exited during start-up`, this.consoleTail());
      }
      for (const pid of childrenOf(parent)) {
        try {
          const ns = readlinkSync(`/proc/${pid}/ns/pid`);
          if (ns !== ownNs && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd') {
            launch.pidNs = ns;
            return pid;
          }
        } catch { /* gone or not ready */ }
      }
      await sleep(10);
    }
    throw new ContainerError(`no systemd in container ${this.name} after ${this.opts.bootTimeoutMs} ms`, this.consoleTail());
  }

  private async waitRunning(launch: Launch): Promise<void> {
    const deadline = Date.now() + this.opts.bootTimeoutMs;
    let state = '';
    while (Date.now() < deadline) {
      if (launch.exited) throw new ContainerError(`container ${this.name} exited during boot`, this.consoleTail());
      const r = await this.exec(['systemctl', 'is-system-running'], { timeoutMs: 5_000 });
      state = r.stdout.trim();
      if (state === 'running') return;
      if (state === 'degraded') {
        const failed = await this.exec(['systemctl', '--failed', '--no-legend', '--plain', '--no-pager']);
        log(`container ${this.name} booted degraded; failed units:\n${failed.stdout.trim()}`);
        return;
      }
      if (state === 'maintenance' || state === 'stopping') break;
      await sleep(state === '' ? 10 : 25);
    }
    const jobs = await this.exec(['systemctl', 'list-jobs', '--no-pager']).catch(() => undefined);
    throw new ContainerError(`container ${this.name} did not finish booting (state ${JSON.stringify(state)})\n${jobs?.stdout ?? ''}`, this.consoleTail());
  }
}

/** The repository root (the directory with this project's package.json), from this file's place. */
export function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'warden') return dir;
    const up = dirname(dir);
    if (up === dir) throw new ContainerError('cannot find the warden checkout above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Whether the promise settled within ms; the timer is cleared so it never holds the process open. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => { timer = setTimeout(() => r(false), ms); });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILL to a container's PID 1 takes every process in its PID namespace with it. */
function killPidNamespace(launch: Launch): void {
  if (launch.pid1 === undefined) return;
  try {
    if (readlinkSync(`/proc/${launch.pid1}/ns/pid`) === launch.pidNs) process.kill(launch.pid1, 'SIGKILL');
  } catch { /* already gone */ }
}

function cleanupHostLeftovers(workDir: string, name: string): void {
  rmSync(workDir, { recursive: true, force: true });
  // nspawn leaves this (empty) directory behind when /run is not a tmpfs.
  rmSync(`/run/systemd/nspawn/propagate/${name}`, { recursive: true, force: true });
}

/**
 * A detached shell that outlives this process. It learns the current nspawn and PID 1 over its
 * stdin; when stdin closes without "done" (this process died, however), it kills them and
 * removes the work directory.
 */
function startSentinel(workDir: string, name: string): Writable | undefined {
  const script = [
    'trap "" INT TERM HUP',
    'pids=""',
    'while IFS= read -r line; do',
    '  case "$line" in',
    '    "pid "*) pids="$pids ${line#pid }" ;;',
    '    reset) pids="" ;;',
    '    done) exit 0 ;;',
    '  esac',
    'done',
    'for p in $pids; do kill -KILL "$p" 2>/dev/null; done',
    'sleep 1',
    'rm -rf -- "$1" "/run/systemd/nspawn/propagate/$2"',
  ].join('\n');
  const child = spawn('sh', ['-c', script, 'sh', workDir, name], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.unref();
  child.stdin?.on('error', () => undefined);
  return child.stdin ?? undefined;
}

let hooksInstalled = false;

/** Last-resort clean-up when the test process exits or is interrupted with containers running. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = (): void => {
    for (const c of live) c.killNow();
    live.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig); // the default action, now that the containers are gone
    });
  }
}
