// `node dist/bench/ssh.js [--trials N] [--out FILE]`: what a probe of a host over SSH costs, as the
// round trip of one command (`true`) — multiplexed over the warm master connection Warden keeps
// (src/transport/ssh.ts) against a fresh connection per command (key exchange and login each
// time). The target: multiplexed p50 under 20 ms. The server is a real sshd on loopback
// (src/testing/sshd.ts), so this measures ssh itself, not a network.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sshdUnavailable, TestSshd } from '../src/testing/sshd.js';
import { SshTransport } from '../src/transport/ssh.js';
import { spawnCollect } from '../src/transport/spawn.js';
import { machine, stats } from './lib.js';

const { values: argv } = parseArgs({ options: { trials: { type: 'string' }, out: { type: 'string' } } });
const trials = argv.trials === undefined ? 200 : Number(argv.trials);
if (!Number.isInteger(trials) || trials < 1) {
  process.stderr.write(`bench ssh: --trials needs a positive integer, got ${argv.trials}\n`);
  process.exit(2);
}
const unavailable = sshdUnavailable();
if (unavailable !== null) {
  process.stderr.write(`bench ssh: ${unavailable}\n`);
  process.exit(2);
}

const sshd = await TestSshd.start();
const dir = mkdtempSync(join(tmpdir(), 'warden-bench-ssh-'));
try {
  const host = { name: 'bench', address: '127.0.0.1', user: sshd.user, port: sshd.port, identityFile: sshd.identityFile, knownHostsFile: sshd.knownHostsFile, connectTimeoutMs: 5000 };
  const t = new SshTransport(host, { controlDir: join(dir, 'ctl') });
  const once = async (run: () => Promise<{ code: number | null; stderr: string }>): Promise<number> => {
    const t0 = performance.now();
    const r = await run();
    if (r.code !== 0) throw new Error(`probe failed: ${r.stderr}`);
    return performance.now() - t0;
  };
  // Warm up: the master comes up on the first command.
  for (let i = 0; i < 5; i++) await once(() => t.run(['true'], { timeoutMs: 10_000 }));
  const muxed: number[] = [];
  for (let i = 0; i < trials; i++) muxed.push(await once(() => t.run(['true'], { timeoutMs: 10_000 })));
  await t.close();
  // ControlPath=none: every command makes its own connection, as ssh without multiplexing does.
  const fresh: number[] = [];
  const args = [...t.baseArgs().map((a) => (a.startsWith('ControlPath=') ? 'ControlPath=none' : a)), '--', host.address, 'true'];
  for (let i = 0; i < trials; i++) fresh.push(await once(() => spawnCollect('ssh', args, { timeoutMs: 10_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })));
  const result = { machine: machine(), trials, multiplexed: stats(muxed), fresh: stats(fresh), targetP50Ms: 20 };
  const line = (name: string, s: ReturnType<typeof stats>): string => `${name.padEnd(12)} p50 ${s?.p50.toFixed(2)} ms  p99 ${s?.p99.toFixed(2)} ms  min ${s?.min.toFixed(2)} ms  max ${s?.max.toFixed(2)} ms\n`;
  process.stdout.write(line('multiplexed', result.multiplexed) + line('fresh', result.fresh));
  if (argv.out !== undefined) writeFileSync(argv.out, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await sshd.dispose();
  rmSync(dir, { recursive: true, force: true });
}
