// Exec probe: run a program (argv, never through a shell); healthy iff it exits with code 0.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ProbeResult } from '../../domain/types.js';
import { childEnv } from '../../lib/childenv.js';
import { errorResult, fail, ok, timedOut } from '../result.js';

export type ExecProbeSpec = { type: 'exec'; argv: string[]; cwd: string };

/** Only the end of the output is kept: the message shows its last line. */
const TAIL_BYTES = 4096;
/** After the program exits, how long to wait for its output pipes to drain. A background
 *  grandchild can hold them open forever; the exit code is what counts. */
const DRAIN_MS = 50;

export function lastLine(output: string): string {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

/** Kill the program and everything it started: it leads its own process group (detached). */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function exec(spec: ExecProbeSpec, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const [file, ...args] = spec.argv;
  if (file === undefined) return Promise.resolve(fail('exec probe has an empty argv', start));

  return new Promise((resolve) => {
    let settled = false;
    let tail = '';
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let drainTimer: NodeJS.Timeout | undefined;
    let child: ChildProcess;
    try {
      // detached: the program gets its own process group, so its children can be killed with it.
      child = spawn(file, args, { cwd: spec.cwd, env: childEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      // Invalid arguments (a NUL byte in argv) throw synchronously instead of emitting 'error'.
      resolve(errorResult(err, start));
      return;
    }

    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve(result);
    };
    const report = (): void => {
      if (exit === null) return;
      const line = lastLine(tail);
      const suffix = line === '' ? '' : `: ${line}`;
      if (exit.code === 0) finish(ok(`exit 0${suffix}`, start));
      else if (exit.code !== null) finish(fail(`exit ${exit.code}${suffix}`, start));
      else finish(fail(`killed by ${exit.signal ?? 'signal'}${suffix}`, start));
    };
    const collect = (chunk: Buffer): void => {
      tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    };

    const timer = setTimeout(() => {
      killGroup(child.pid);
      finish(timedOut(timeoutMs, start));
    }, timeoutMs);
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('error', (err) => finish(errorResult(err, start)));
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // A probe is done when its program is: whatever it left in the background goes with it
      // (a probe leaving one child per run leaked hundreds of processes an hour).
      killGroup(child.pid);
      drainTimer = setTimeout(report, DRAIN_MS);
    });
    // 'close' comes once the pipes are drained too: the normal, prompt path.
    child.on('close', report);
  });
}
