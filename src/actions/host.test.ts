// host.reboot against a scripted host: the commands it sends (systemctl reboot as root), the boot
// id it waits for, and what it decides when it finds the host already rebooted or refusing sudo.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Duplex } from 'node:stream';
import type { Action, HostFacts } from '../domain/types.js';
import type { RunOptions, RunResult, Transport } from '../transport/transport.js';
import { TransportError } from '../transport/transport.js';
import { hostReboot, type HostActionContext } from './host.js';

const OLD = '11111111-1111-4111-8111-111111111111';
const NEW = '22222222-2222-4222-8222-222222222222';

/** A host that answers its boot id, goes down for `downFor` reads once rebooted, then comes back. */
class ScriptedHost implements Transport {
  readonly host = 'b';
  readonly kind = 'ssh';
  calls: string[][] = [];
  boot = OLD;
  down = 0;
  rebootAnswer: RunResult = { code: 0, stdout: '', stderr: '' };
  constructor(private readonly downFor = 2) {}

  run(argv: readonly string[], _opts: RunOptions): Promise<RunResult> {
    this.calls.push([...argv]);
    if (argv.includes('reboot')) {
      if (this.rebootAnswer.code === 0) { this.down = this.downFor; this.boot = NEW; }
      return Promise.resolve(this.rebootAnswer);
    }
    if (this.down > 0) {
      this.down--;
      return Promise.resolve({ code: 255, stdout: '', stderr: 'ssh: connect to host b port 22: Connection refused', unreachable: new TransportError('HOST_UNREACHABLE', 'host b unreachable over SSH: Connection refused') });
    }
    return Promise.resolve({ code: 0, stdout: `${this.boot}\n`, stderr: '' });
  }

  connect(): Promise<Duplex> { return Promise.reject(new Error('not used')); }
  close(): Promise<void> { return Promise.resolve(); }
}

function ctx(t: ScriptedHost, params: Record<string, string>, facts?: HostFacts): HostActionContext {
  const action = { id: 'A1', type: 'host.reboot', target: 'b', params } as unknown as Action;
  return {
    host: { name: 'b', transport: 'ssh', address: '10.0.0.2', user: 'warden', port: null, identityFile: null, knownHostsFile: null, connectTimeoutMs: 2000, intervalMs: 1000, mounts: [] },
    action, transport: t, facts: () => facts,
  };
}

test('reboots through root (sudo for a restricted account) and completes on a new boot id', async () => {
  const t = new ScriptedHost();
  const detail = await hostReboot.run(ctx(t, { bootId: OLD }), new AbortController().signal);
  assert.equal(detail, `b rebooted: boot id ${OLD} → ${NEW}`);
  const reboot = t.calls.filter((c) => c.includes('reboot'));
  assert.deepEqual(reboot, [['sh', '-c', 'if [ "$(id -u)" -eq 0 ]; then exec "$@"; fi; exec sudo -n -- "$@"', 'sh', 'systemctl', 'reboot']]);
});

test('a host already on another boot is not rebooted again; one still down is waited for', async () => {
  const t = new ScriptedHost();
  t.boot = NEW;
  assert.equal(await hostReboot.run(ctx(t, { bootId: OLD }), new AbortController().signal), `b had rebooted already: boot id ${OLD} → ${NEW}`);
  const down = new ScriptedHost();
  down.boot = NEW;
  down.down = 3;
  assert.equal(await hostReboot.run(ctx(down, { bootId: OLD }), new AbortController().signal), `b rebooted: boot id ${OLD} → ${NEW}`);
  assert.deepEqual([...t.calls, ...down.calls].filter((c) => c.includes('reboot')), [], 'never asked to reboot');
});

test('sudo without a rule for it fails at once, saying which rule to add', async () => {
  const t = new ScriptedHost();
  t.rebootAnswer = { code: 1, stdout: '', stderr: 'sudo: a password is required\n' };
  await assert.rejects(hostReboot.run(ctx(t, { bootId: OLD }), new AbortController().signal), (e: Error & { retryable?: boolean }) => {
    assert.match(e.message, /b: sudo refused systemctl reboot \(sudo: a password is required\); add "\/usr\/bin\/systemctl reboot"/);
    assert.equal(e.retryable, false);
    return true;
  });
});

test('after a Warden restart: a new boot id is done, the old one is asked again, an unrecorded one is left alone', () => {
  const t = new ScriptedHost();
  const facts = (bootId: string): HostFacts => ({ at: 0, reachable: true, reason: '', tcp: '', bootId });
  assert.equal(hostReboot.resume(ctx(t, { bootId: OLD }, facts(NEW))).outcome, 'completed');
  assert.equal(hostReboot.resume(ctx(t, { bootId: OLD }, facts(OLD))).outcome, 'continue');
  assert.equal(hostReboot.resume(ctx(t, {}, facts(NEW))).outcome, 'unknown');
});
