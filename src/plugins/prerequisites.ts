// Evaluating what plugins need, HolmesGPT-style: each prerequisite is looked at for real (PATH
// searched, the version command run, the socket connected to) and the plugin is `enabled`,
// `disabled` (something it needs is absent) or `failed` (present but unusable), with a reason.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { parseAddress } from '../lib/address.js';
import { childEnv } from '../lib/childenv.js';
import { errorText } from '../lib/errors.js';
import type { PluginState, Prerequisite } from './plugin.js';

export interface Verdict {
  state: PluginState;
  reason: string;
}

export interface EvalOptions {
  /** The environment whose PATH and variables are looked at (process.env by default). */
  env?: NodeJS.ProcessEnv;
  /** Bound on a version command or a socket connection. */
  timeoutMs?: number;
}

const SEVERITY: Record<PluginState, number> = { enabled: 0, disabled: 1, failed: 2 };

/** All prerequisites hold → enabled; otherwise the most severe verdict, with every reason for it. */
export async function evaluate(prereqs: readonly Prerequisite[], opts: EvalOptions = {}): Promise<Verdict> {
  if (prereqs.length === 0) return { state: 'enabled', reason: 'needs nothing from the host' };
  const verdicts = await Promise.all(prereqs.map((p) => one(p, opts)));
  const worst = verdicts.reduce((a, b) => (SEVERITY[b.state] > SEVERITY[a.state] ? b : a));
  const reasons = verdicts.filter((v) => v.state === worst.state).map((v) => v.reason);
  return { state: worst.state, reason: reasons.join('; ') };
}

async function one(p: Prerequisite, opts: EvalOptions): Promise<Verdict> {
  const env = opts.env ?? process.env;
  const timeoutMs = opts.timeoutMs ?? 2000;
  if ('binary' in p) {
    const path = onPath(p.binary, env.PATH ?? '');
    if (path === null) return { state: 'disabled', reason: `${p.binary} not found on PATH` };
    if (p.version === undefined) return { state: 'enabled', reason: `${path} found` };
    return version(path, p.binary, p.version, timeoutMs);
  }
  if ('file' in p) {
    return existsSync(p.file) ? { state: 'enabled', reason: `${p.file} exists` } : { state: 'disabled', reason: `${p.file} does not exist` };
  }
  if ('env' in p) {
    const v = env[p.env];
    return v !== undefined && v !== '' ? { state: 'enabled', reason: `$${p.env} is set` } : { state: 'disabled', reason: `$${p.env} is not set` };
  }
  if ('socket' in p) return socket(p.socket, timeoutMs);
  const verdicts = await Promise.all(p.anyOf.map((q) => one(q, opts)));
  const ok = verdicts.find((v) => v.state === 'enabled');
  if (ok !== undefined) return ok;
  // None holds: the closest miss (disabled before failed) says what to fix.
  const best = verdicts.reduce((a, b) => (SEVERITY[b.state] < SEVERITY[a.state] ? b : a), { state: 'failed', reason: '' } as Verdict);
  return { state: best.state, reason: `none of: ${verdicts.map((v) => v.reason).join(', or ')}` };
}

/** The first executable file called `name` on PATH (or `name` itself when it is a path). */
export function onPath(name: string, path: string): string | null {
  const candidates = name.includes('/') ? [name] : path.split(delimiter).filter((d) => d !== '').map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // Not here; the next directory may have it.
    }
  }
  return null;
}

function version(path: string, name: string, v: { args: string[]; pattern: string; min?: string }, timeoutMs: number): Promise<Verdict> {
  return new Promise((resolve) => {
    execFile(path, v.args, { env: childEnv(), timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const cmd = [name, ...v.args].join(' ');
      if (err !== null) return resolve({ state: 'failed', reason: `${cmd} failed: ${errorText(err).split('\n')[0] ?? ''}` });
      const found = new RegExp(v.pattern, 'm').exec(`${stdout}\n${stderr}`)?.[1];
      if (found === undefined) return resolve({ state: 'failed', reason: `${cmd} printed no version matching /${v.pattern}/` });
      if (v.min !== undefined && compareVersions(found, v.min) < 0) {
        return resolve({ state: 'failed', reason: `${name} ${found} is older than the ${v.min} needed` });
      }
      resolve({ state: 'enabled', reason: `${name} ${found} at ${path}` });
    });
  });
}

/** Dotted numeric versions compared part by part: "10.2" > "9.12". */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function socket(target: string, timeoutMs: number): Promise<Verdict> {
  const unix = target.startsWith('/');
  const addr = unix ? null : parseAddress(target);
  if (!unix && addr === null) return Promise.resolve({ state: 'failed', reason: `socket "${target}" is neither a path nor host:port` });
  return new Promise((resolve) => {
    const s = unix ? connect({ path: target }) : connect({ host: addr!.host, port: addr!.port });
    const done = (v: Verdict): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done({ state: 'failed', reason: `${target} did not accept a connection within ${timeoutMs} ms` }), timeoutMs);
    s.once('connect', () => done({ state: 'enabled', reason: `${target} accepts connections` }));
    s.once('error', (e: NodeJS.ErrnoException) => done(
      unix && e.code === 'ENOENT' ? { state: 'disabled', reason: `no socket at ${target}` } : { state: 'failed', reason: `cannot connect to ${target}: ${e.code ?? e.message}` },
    ));
  });
}
