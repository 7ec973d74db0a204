// One command run for an action (a runbook, a workflow step, a step's verification): its output
// appended to a log file, its whole process group killed when it times out or the action is
// aborted, and settled only once it has exited, so nothing it began outlives the attempt.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { childEnv } from '../lib/childenv.js';
import { isFdShortage } from '../lib/errors.js';
import { mkdirPrivate, PRIVATE_FILE } from '../lib/private.js';

export interface CommandSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Output goes here (appended; its directory is made private). */
  logFile: string;
  /** How errors name it: "runbook thaw", "step drain of runbook fix". */
  label: string;
}

/** Resolves when the command exits 0; rejects (not retryable) on another exit, a timeout or an abort. */
export async function runCommand(c: CommandSpec, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  mkdirPrivate(dirname(c.logFile));
  const fd = openSync(c.logFile, 'a', PRIVATE_FILE);
  try {
    const child = spawn(c.argv[0]!, c.argv.slice(1), { cwd: c.cwd, env: childEnv(c.env), stdio: ['ignore', fd, fd], detached: true });
    let stopped: Error | null = null;
    const kill = (why: Error): void => {
      stopped ??= why;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    };
    const onAbort = (): void => kill(signal.reason instanceof Error ? signal.reason : new Error(`${c.label} aborted`));
    const code = await new Promise<number | string>((resolve, reject) => {
      const timer = setTimeout(() => kill(new Error(`${c.label} timed out after ${c.timeoutMs} ms`)), c.timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      child.once('error', (e) => { clearTimeout(timer); reject(Object.assign(e, { retryable: isFdShortage(e) })); });
      child.once('exit', (code, sig) => { clearTimeout(timer); resolve(sig ?? code ?? -1); });
    }).finally(() => signal.removeEventListener('abort', onAbort));
    if (stopped !== null) throw Object.assign(stopped, { retryable: false });
    if (code !== 0) throw Object.assign(new Error(`${c.label} exited with ${code}`), { retryable: false });
  } finally {
    closeSync(fd);
  }
}
