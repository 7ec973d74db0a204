// The host Warden runs on: commands run as Warden's children, connections open from here.
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { childEnv } from '../lib/childenv.js';
import { spawnCollect } from './spawn.js';
import type { RunOptions, RunResult, Transport } from './transport.js';

/** systemctl and friends live in sbin directories a non-login shell's PATH may lack. */
const PATH = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean).join(':');

export class LocalTransport implements Transport {
  readonly kind = 'local';
  constructor(readonly host: string) {}

  async run(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
    const [file, ...args] = argv;
    if (file === undefined) return { code: null, stdout: '', stderr: 'empty argv' };
    const r = await spawnCollect(file, args, { ...opts, env: childEnv({ PATH, ...opts.env }) });
    return { code: r.code, stdout: r.stdout, stderr: r.cut === null ? r.stderr : join(r.stderr, r.cut) };
  }

  connect(address: { host: string; port: number }, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = connect(address);
      const fail = (err: Error): void => { clearTimeout(timer); socket.destroy(); reject(err); };
      const timer = setTimeout(() => fail(Object.assign(new Error(`connect to ${address.host}:${address.port} timed out after ${opts.timeoutMs} ms`), { code: 'ETIMEDOUT' })), opts.timeoutMs);
      opts.signal?.addEventListener('abort', () => fail(new Error('aborted')), { once: true });
      socket.once('error', fail);
      socket.once('connect', () => { clearTimeout(timer); socket.off('error', fail); resolve(socket); });
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export function join(stderr: string, why: string): string {
  return stderr === '' ? why : `${stderr.trimEnd()}\n${why}`;
}
