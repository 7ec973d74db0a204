// Running systemctl and journalctl. Injectable, so driver tests can script systemd's answers; the
// default never rejects: a missing binary or a timeout is an answer too (code null), because the
// poll loop must keep going on a host without systemd.
import { WardenError } from '../../lib/errors.js';
import { childEnv } from '../../lib/childenv.js';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface CommandResult {
  /** Exit status; null when the command could not run or was killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (args: string[], opts: { timeoutMs: number }) => Promise<CommandResult>;

/** Output beyond this is a runaway, not a unit's properties or a 50-line journal tail. */
const MAX_BUFFER = 16 * 1024 * 1024;

/** The binary at its usual Debian path, else whatever PATH finds. */
export function binary(name: 'systemctl' | 'journalctl'): string {
  const usual = `/usr/bin/${name}`;
  return existsSync(usual) ? usual : name;
}

export function commandRunner(file: string): CommandRunner {
  return (args, { timeoutMs }) => new Promise((resolve) => {
    // C locale and UTC: output is parsed, so it must not depend on the operator's settings (a local
    // zone name in a timestamp is ambiguous). No pager, no colour, no password prompt to hang on.
    const env = childEnv({ LC_ALL: 'C', TZ: 'UTC', SYSTEMD_PAGER: 'cat', SYSTEMD_COLORS: '0', SYSTEMD_LESS: '' });
    execFile(file, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_BUFFER, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
      const why = e.killed === true ? `timed out after ${timeoutMs} ms` : e.message;
      resolve({ code: null, stdout, stderr: stderr === '' ? why : `${stderr.trimEnd()}\n${why}` });
    });
  });
}

export class SystemctlError extends WardenError {
  /** systemctl's exit status; null when it could not run or timed out. */
  readonly status: number | null;
  readonly stderr: string;
  readonly argv: readonly string[];

  constructor(argv: readonly string[], result: CommandResult) {
    const first = result.stderr.trim().split('\n')[0] ?? '';
    // 5: unit not found, 4: not permitted. Neither changes by trying again.
    super('SYSTEMCTL_FAILED', `systemctl ${argv.join(' ')} failed (${result.code === null ? 'did not finish' : `status ${result.code}`})${first !== '' ? `: ${first}` : ''}`, { retryable: result.code !== 4 && result.code !== 5 });
    this.status = result.code;
    this.stderr = result.stderr;
    this.argv = [...argv];
  }
}
