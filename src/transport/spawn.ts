// Running one program to its end with a deadline and an abort signal, output collected (bounded):
// what both transports do with their child (the command itself, or the ssh client carrying it).
import { spawn } from 'node:child_process';

export interface Spawned {
  /** Exit status; null when killed (timeout, abort) or when the program could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why it did not run to the end, when it did not: "timed out after 500 ms", "aborted", spawn's error. */
  cut: string | null;
}

/** Output beyond this is a runaway, not a unit's properties or a 50-line journal tail. */
const MAX_OUTPUT = 16 * 1024 * 1024;

/** Never rejects: a missing binary or a timeout is an answer too (code null, `cut` says why). */
export function spawnCollect(file: string, args: readonly string[], opts: { timeoutMs: number; signal?: AbortSignal; env: Record<string, string>; input?: string }): Promise<Spawned> {
  return new Promise((resolve) => {
    if (opts.signal?.aborted === true) { resolve({ code: null, stdout: '', stderr: '', cut: 'aborted' }); return; }
    let child;
    try {
      child = spawn(file, args, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: null, stdout: '', stderr: '', cut: err instanceof Error ? err.message : String(err) });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let cut: string | null = null;
    const take = (into: Buffer[]) => (c: Buffer): void => {
      size += c.length;
      if (size > MAX_OUTPUT) { kill(`printed more than ${MAX_OUTPUT} bytes`); return; }
      into.push(c);
    };
    const kill = (why: string): void => {
      if (cut === null) cut = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs);
    const onAbort = (): void => kill('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', take(out));
    child.stderr.on('data', take(err));
    child.stdin.on('error', () => undefined); // a program that does not read its input is not our failure
    child.stdin.end(opts.input ?? '');
    let settled = false;
    const done = (code: number | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ code: cut === null ? code : null, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), cut });
    };
    child.on('error', (e) => { cut ??= e.message; done(null); });
    child.on('close', (code) => done(code));
  });
}
