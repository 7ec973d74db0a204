// Host-side helpers shared by the rootfs builder and the container harness: running host tools
// with a deadline, checking prerequisites, and the error type a test reports when the machine
// cannot run system tests at all.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** Tools the system tests need on the host, with the Debian package that provides each. */
export const HOST_TOOLS: readonly (readonly [bin: string, pkg: string])[] = [
  ['debootstrap', 'debootstrap'],
  ['systemd-nspawn', 'systemd-container'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['setpriv', 'util-linux'],
];

/** Set to 1 to report the system tests as skipped instead of running them. */
export const SKIP_ENV = 'WARDEN_SKIP_SYSTEM';

/** The skip reason for node:test (`{ skip }`), or false when system tests must run. */
export function systemTestsSkipped(): string | false {
  return process.env[SKIP_ENV] === '1' ? `${SKIP_ENV}=1 is set` : false;
}

/** The machine cannot run system tests; the message says what is missing and how to fix it. */
export class SystemTestUnavailableError extends Error {
  readonly code = 'SYSTEM_TEST_UNAVAILABLE';
  constructor(problems: string[]) {
    super(
      `system tests cannot run here: ${problems.join('; ')}. ` +
      'Run `npm run setup` as root (it installs debootstrap and systemd-container), ' +
      `or set ${SKIP_ENV}=1 to skip the system tests.`,
    );
    this.name = 'SystemTestUnavailableError';
  }
}

/** PATH with the sbin directories, where debootstrap and friends live. */
export const hostEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean).join(':'),
  LANG: 'C.UTF-8',
});

export function haveTool(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore', env: hostEnv() }).status === 0;
}

/** Everything that stops system tests from running; empty when they can run. */
export function hostProblems(): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`platform is ${process.platform}, not linux`);
  if (process.getuid?.() !== 0) problems.push('not running as root (systemd-nspawn and debootstrap need root)');
  const missing = HOST_TOOLS.filter(([bin]) => !haveTool(bin));
  if (missing.length > 0) {
    problems.push(`missing ${missing.map(([bin, pkg]) => `${bin} (apt-get install ${pkg})`).join(', ')}`);
  }
  return problems;
}

export function assertHostReady(): void {
  const problems = hostProblems();
  if (problems.length > 0) throw new SystemTestUnavailableError(problems);
}

export interface RunResult { code: number; stdout: string; stderr: string; timedOut: boolean }

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Called with each complete output line (stdout and stderr), e.g. to show progress. */
  onLine?: (line: string) => void;
  /** On timeout, SIGKILL the program's descendants first and the program only if it lingers. */
  killChildrenFirst?: boolean;
}

/** Run a program to completion; never throws for a non-zero exit (the caller decides). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? hostEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let partial = '';
    const lines = (chunk: Buffer): void => {
      if (!opts.onLine) return;
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) opts.onLine(line);
    };
    child.stdout.on('data', (c: Buffer) => { out.push(c); lines(c); });
    child.stderr.on('data', (c: Buffer) => { err.push(c); lines(c); });
    let timedOut = false;
    let grace: NodeJS.Timeout | undefined;
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      if (opts.killChildrenFirst && child.pid !== undefined) {
        // Let the program reap its killed children itself, so none is left as a zombie of an
        // init that is not its own (an nsenter'd command would be one of the host's init).
        for (const pid of descendantsOf(child.pid)) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        }
        grace = setTimeout(() => child.kill('SIGKILL'), 1_000);
      } else {
        child.kill('SIGKILL');
      }
    }, opts.timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); clearTimeout(grace); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(grace);
      if (partial && opts.onLine) opts.onLine(partial);
      resolve({
        code: code ?? 128 + signalNumber(signal),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    // EPIPE when the program does not read its input is not our failure; its exit code tells.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Direct children of a process, from /proc. */
export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state, ppid, ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  for (const child of childrenOf(pid)) out.push(child, ...descendantsOf(child));
  return out;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? constants.signals[signal] : 0;
}

/** Run and throw (with the output) unless the program exits 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  }
  return r;
}

export const log = (msg: string): void => { process.stderr.write(`warden-test: ${msg}\n`); };

export { sleep } from '../lib/wait.js';
