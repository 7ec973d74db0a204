// A real SMTP server for tests: Debian's exim4 (exim4-daemon-light, installed by scripts/setup.mjs)
// run as its own daemon from a private config in a temporary directory, on a loopback port of its
// own, delivering every mail for the domain warden.test into one Maildir the test reads. Nothing of
// the system's exim (its config, spool or port 25) is used or touched, so this is safe to repeat.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../demo/lab.js';

export interface SmtpServer {
  host: string;
  port: number;
  /** The raw RFC 5322 text of every mail delivered so far. */
  mails(): string[];
  stop(): Promise<void>;
}

export const SMTP_DOMAIN = 'warden.test';

const EXIM = '/usr/sbin/exim4';

/** Why a real SMTP server cannot run here, or null when it can. */
export function smtpUnavailable(): string | null {
  if (!existsSync(EXIM)) return 'exim4 is not installed: run "npm test" as root (setup installs exim4-daemon-light), or apt-get install exim4-daemon-light';
  if (process.getuid?.() !== 0) return 'exim4 runs its own daemon only as root here';
  return null;
}

export async function startSmtp(): Promise<SmtpServer> {
  const why = smtpUnavailable();
  if (why !== null) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'warden-smtp-'));
  const port = await freePort();
  const user = execFileSync('id', ['-u', 'Debian-exim']).toString().trim();
  const group = execFileSync('id', ['-g', 'Debian-exim']).toString().trim();
  for (const d of ['spool', 'mail', 'log']) mkdirSync(join(dir, d));
  const conf = join(dir, 'exim.conf');
  writeFileSync(conf, `keep_environment =
tls_advertise_hosts =
primary_hostname = ${SMTP_DOMAIN}
exim_user = Debian-exim
exim_group = Debian-exim
spool_directory = ${dir}/spool
log_file_path = ${dir}/log/%slog
daemon_smtp_ports = ${port}
local_interfaces = 127.0.0.1
acl_smtp_rcpt = acl_check_rcpt
domainlist local_domains = ${SMTP_DOMAIN}
begin acl
acl_check_rcpt:
  accept domains = +local_domains
  deny message = relay not permitted
begin routers
local:
  driver = accept
  domains = +local_domains
  transport = mailbox
begin transports
mailbox:
  driver = appendfile
  directory = ${dir}/mail
  maildir_format
  envelope_to_add
  user = Debian-exim
  group = Debian-exim
`);
  // exim refuses a -C config that is not root's and closed to others; its files are its user's.
  chmodSync(conf, 0o644);
  chmodSync(dir, 0o755);
  for (const d of ['spool', 'mail', 'log']) chownSync(join(dir, d), Number(user), Number(group));
  const proc: ChildProcess = spawn(EXIM, ['-C', conf, '-bdf', '-q1s'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  await waitListening(port, () => (proc.exitCode !== null ? `exim exited ${proc.exitCode}: ${err}` : null));
  return {
    host: '127.0.0.1',
    port,
    mails: () => {
      const box = join(dir, 'mail', 'new');
      return existsSync(box) ? readdirSync(box).sort().map((f) => readFileSync(join(box, f), 'utf8')) : [];
    },
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitListening(port: number, failed: () => string | null): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const why = failed();
    if (why !== null) throw new Error(why);
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection(port, '127.0.0.1', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`exim did not listen on 127.0.0.1:${port}`);
}
