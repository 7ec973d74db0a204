// systemctl through a host's transport: what changes a unit on a remote host runs as root (sudo
// for a restricted account); reading never does, and Warden's own host is left as it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Duplex } from 'node:stream';
import type { RunOptions, RunResult, Transport } from '../../transport/transport.js';
import { transportRunner } from './hosts.js';

class Recording implements Transport {
  readonly host = 'b';
  argv: string[][] = [];
  constructor(readonly kind: 'local' | 'ssh') {}
  run(argv: readonly string[], _opts: RunOptions): Promise<RunResult> {
    this.argv.push([...argv]);
    return Promise.resolve({ code: 0, stdout: '', stderr: '' });
  }
  connect(): Promise<Duplex> { return Promise.reject(new Error('not used')); }
  close(): Promise<void> { return Promise.resolve(); }
}

test('start, stop and restart on an ssh host run as root; show and the journal as the account', async () => {
  const t = new Recording('ssh');
  const systemctl = transportRunner(t, 'systemctl');
  await systemctl(['restart', '--no-ask-password', '--', 'work.service'], { timeoutMs: 1000 });
  await systemctl(['show', '--', 'work.service'], { timeoutMs: 1000 });
  await transportRunner(t, 'journalctl')(['-u', 'work.service'], { timeoutMs: 1000 });
  assert.deepEqual(t.argv, [
    ['sh', '-c', 'if [ "$(id -u)" -eq 0 ]; then exec "$@"; fi; exec sudo -n -- "$@"', 'sh', 'systemctl', 'restart', '--no-ask-password', '--', 'work.service'],
    ['systemctl', 'show', '--', 'work.service'],
    ['journalctl', '-u', 'work.service'],
  ]);
  const local = new Recording('local');
  await transportRunner(local, 'systemctl')(['restart', '--no-ask-password', '--', 'work.service'], { timeoutMs: 1000 });
  assert.equal(local.argv[0]?.[1], 'restart', "Warden's own host: systemctl itself, as before");
});
