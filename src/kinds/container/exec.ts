// Running one command on the host: argv in, exit code and output out. Every podman (and dmesg)
// call of the container kinds goes through one `Exec`, so moving them onto another transport
// (ssh) is swapping this function. It never rejects: a missing binary, a timeout or an abort is an
// answer too (code null), because a poll loop must keep going on a host without podman.
import { execFile } from 'node:child_process';
import { childEnv } from '../../lib/childenv.js';

export interface ExecResult {
  /** Exit status; null when the command could not run, timed out or was aborted. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  timeoutMs: number;
  /** Kills the command when it fires. */
  signal?: AbortSignal;
  /** Working directory; the caller's when left out. */
  cwd?: string;
}

export type Exec = (argv: readonly string[], opts: ExecOptions) => Promise<ExecResult>;

/** Output beyond this is a runaway, not an inspect document or a 50-line log tail. */
const MAX_BUFFER = 16 * 1024 * 1024;

/** Runs argv on this host (C locale: output is parsed). */
export const localExec: Exec = (argv, { timeoutMs, signal, cwd }) => new Promise((resolve) => {
  const [file, ...args] = argv;
  if (file === undefined) return resolve({ code: null, stdout: '', stderr: 'empty argv' });
  const env = childEnv({ LC_ALL: 'C', TZ: 'UTC' });
  execFile(file, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_BUFFER, encoding: 'utf8', ...(signal ? { signal } : {}), ...(cwd ? { cwd } : {}) }, (err, stdout, stderr) => {
    if (err === null) return resolve({ code: 0, stdout, stderr });
    const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
    if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
    const why = e.name === 'AbortError' ? 'aborted' : e.killed === true ? `timed out after ${timeoutMs} ms` : e.message;
    resolve({ code: null, stdout, stderr: stderr === '' ? why : `${stderr.trimEnd()}\n${why}` });
  });
});
