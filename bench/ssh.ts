// `node dist/bench/ssh.js [--lab [--host NAME]] [--trials N] [--out FILE]`: what a probe of a host
// over SSH costs, as the round trip of one command — multiplexed over the warm master connection
// Warden keeps (src/transport/ssh.ts) against a fresh connection per command (key exchange and
// login each time), and, multiplexed, the host monitor's own reading (boot id, load, memory,
// disks, clock: src/hosts/reading.ts). The target: multiplexed p50 under 20 ms.
//
// By default the server is a real sshd on loopback (src/testing/sshd.ts): ssh itself, no network.
// With --lab it is a host of the running fleet lab (`warden lab fleet up`, as root): an nspawn
// host's sshd across the lab's bridge and network namespace, reached with the lab's key and
// known_hosts, as Warden reaches it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readingArgv } from '../src/hosts/reading.js';
import { fleetStatus } from '../src/lab/fleet/holder.js';
import { sshdUnavailable, TestSshd } from '../src/testing/sshd.js';
import { SshTransport, type SshHost } from '../src/transport/ssh.js';
import { spawnCollect } from '../src/transport/spawn.js';
import { machine, stats } from './lib.js';

const { values: argv } = parseArgs({ options: { trials: { type: 'string' }, out: { type: 'string' }, lab: { type: 'boolean' }, host: { type: 'string' } } });
const trials = argv.trials === undefined ? 200 : Number(argv.trials);
const fail = (why: string): never => {
  process.stderr.write(`bench ssh: ${why}\n`);
  process.exit(2);
};
if (!Number.isInteger(trials) || trials < 1) fail(`--trials needs a positive integer, got ${argv.trials}`);
if (argv.host !== undefined && argv.lab !== true) fail('--host names a fleet lab host: give --lab too');

/** The host to measure, and what to undo afterwards. */
async function target(): Promise<{ host: SshHost; where: string; dispose: () => Promise<void> }> {
  if (argv.lab === true) {
    const s = await fleetStatus();
    if (!s.up || s.lab === null) return fail(`no fleet lab is up${s.stale ? ' (a dead one left pieces: warden lab fleet down)' : ''}: run \`sudo ./bin/warden lab fleet up\` first`);
    const h = argv.host === undefined ? s.lab.hosts[0] : s.lab.hosts.find((x) => x.name === argv.host);
    if (h === undefined) return fail(`the fleet lab has no host ${argv.host}; it has ${s.lab.hosts.map((x) => x.name).join(', ')}`);
    const answers = s.hosts.find((x) => x.name === h.name);
    if (answers?.reachable !== true) fail(`fleet host ${h.name} does not answer over SSH (${answers?.detail ?? 'no status'}): see \`warden lab fleet status\``);
    return {
      host: { name: h.name, address: h.ip, user: 'root', port: 22, identityFile: s.lab.identityFile, knownHostsFile: s.lab.knownHostsFile, connectTimeoutMs: 5000 },
      where: `fleet lab ${s.lab.id}, host ${h.name} (${h.ip}, nspawn in its own network namespace)`,
      dispose: () => Promise.resolve(),
    };
  }
  const unavailable = sshdUnavailable();
  if (unavailable !== null) fail(unavailable);
  const sshd = await TestSshd.start();
  return {
    host: { name: 'bench', address: '127.0.0.1', user: sshd.user, port: sshd.port, identityFile: sshd.identityFile, knownHostsFile: sshd.knownHostsFile, connectTimeoutMs: 5000 },
    where: 'sshd on loopback',
    dispose: () => sshd.dispose(),
  };
}

const t0 = await target();
const dir = mkdtempSync(join(tmpdir(), 'warden-bench-ssh-'));
try {
  const { host } = t0;
  const t = new SshTransport(host, { controlDir: join(dir, 'ctl') });
  const once = async (run: () => Promise<{ code: number | null; stderr: string }>): Promise<number> => {
    const start = performance.now();
    const r = await run();
    if (r.code !== 0) throw new Error(`probe failed: ${r.stderr}`);
    return performance.now() - start;
  };
  // Warm up: the master comes up on the first command.
  for (let i = 0; i < 5; i++) await once(() => t.run(['true'], { timeoutMs: 10_000 }));
  const muxed: number[] = [];
  for (let i = 0; i < trials; i++) muxed.push(await once(() => t.run(['true'], { timeoutMs: 10_000 })));
  const reading: number[] = [];
  for (let i = 0; i < trials; i++) reading.push(await once(() => t.run(readingArgv(['/']), { timeoutMs: 10_000 })));
  await t.close();
  // ControlPath=none: every command makes its own connection, as ssh without multiplexing does.
  const fresh: number[] = [];
  const args = [...t.baseArgs().map((a) => (a.startsWith('ControlPath=') ? 'ControlPath=none' : a)), '--', host.address, 'true'];
  for (let i = 0; i < trials; i++) fresh.push(await once(() => spawnCollect('ssh', args, { timeoutMs: 10_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })));
  const result = { machine: machine(), server: t0.where, trials, multiplexed: stats(muxed), reading: stats(reading), fresh: stats(fresh), targetP50Ms: 20 };
  const line = (name: string, s: ReturnType<typeof stats>): string => `${name.padEnd(12)} p50 ${s?.p50.toFixed(2)} ms  p99 ${s?.p99.toFixed(2)} ms  min ${s?.min.toFixed(2)} ms  max ${s?.max.toFixed(2)} ms\n`;
  process.stdout.write(`${t0.where}, ${trials} trials each\n${line('multiplexed', result.multiplexed)}${line('reading', result.reading)}${line('fresh', result.fresh)}`);
  if (argv.out !== undefined) writeFileSync(argv.out, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await t0.dispose();
  rmSync(dir, { recursive: true, force: true });
}
