// A real OpenSSH server on loopback for the transport's tests: its own host key, a client key
// authorized for the user running the tests, and a known_hosts file naming exactly that host key.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../demo/lab.js';
import { sleep } from '../lib/wait.js';
import { keygen } from '../lab/fleet/keys.js';

export const SSHD = '/usr/sbin/sshd';

/** Why the tests cannot run a private sshd here, or null when they can. */
export function sshdUnavailable(): string | null {
  if (spawnSync('sh', ['-c', `test -x ${SSHD} && command -v ssh && command -v ssh-keygen`], { stdio: 'ignore' }).status !== 0) {
    return 'needs openssh-server and openssh-client (apt-get install openssh-server openssh-client; npm run setup does it as root)';
  }
  return null;
}

export { keygen };

export class TestSshd {
  private proc: ChildProcess | null = null;
  private constructor(readonly dir: string, readonly port: number, readonly user: string) {}

  get identityFile(): string { return join(this.dir, 'id_ed25519'); }
  get knownHostsFile(): string { return join(this.dir, 'known_hosts'); }
  get hostKey(): string { return join(this.dir, 'host_ed25519'); }

  static async start(): Promise<TestSshd> {
    const dir = mkdtempSync(join(tmpdir(), 'warden-sshd-'));
    const s = new TestSshd(dir, await freePort(), userInfo().username);
    keygen(s.hostKey, 'host');
    keygen(s.identityFile);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${s.identityFile}.pub`));
    s.trustHostKey();
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${s.port}`, 'ListenAddress 127.0.0.1', `HostKey ${s.hostKey}`, `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password', 'UsePAM no', 'StrictModes no', 'MaxSessions 64', 'MaxStartups 64:30:128',
      'AllowTcpForwarding yes', 'LogLevel ERROR', '',
    ].join('\n'));
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
    await s.launch();
    return s;
  }

  /** known_hosts says this server's key is the one in the file (again, after replaceHostKey). */
  trustHostKey(): void {
    const pub = readFileSync(`${this.hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(this.knownHostsFile, `[127.0.0.1]:${this.port} ${pub}\n`);
  }

  /** The server gets a new host key (a reinstall): known_hosts still names the old one. */
  async replaceHostKey(): Promise<void> {
    await this.stop();
    rmSync(this.hostKey, { force: true });
    rmSync(`${this.hostKey}.pub`, { force: true });
    keygen(this.hostKey, 'host');
    await this.launch();
  }

  async launch(): Promise<void> {
    const p = spawn(SSHD, ['-D', '-e', '-f', join(this.dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr?.setEncoding('utf8').on('data', (c: string) => { err += c; });
    this.proc = p;
    const end = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (p.exitCode !== null) throw new Error(`sshd exited ${p.exitCode}: ${err}`);
      if (Date.now() > end) throw new Error(`sshd did not listen on ${this.port} within 10 s: ${err}`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (p === null || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await gone;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
