// SSH keys for the fleet lab (and the tests' sshd): ed25519, no passphrase, made with the system's
// ssh-keygen so the files are exactly what OpenSSH expects.
import { spawnSync } from 'node:child_process';
import { LabError } from '../../subjects/etcd/labnet.js';

export function keygen(path: string, comment = 'warden-test'): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new LabError('LAB_COMMAND_FAILED', `ssh-keygen -f ${path} failed: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
}
