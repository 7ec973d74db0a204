// Proves the container harness: a real systemd boots, units can be written, started, killed and
// observed, a reboot gives a new boot id and PID 1 while /var/lib survives, the host's loopback
// is reachable, and nothing is left behind however the test process ends.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Container, ensureRootfs, GUEST_CHECKOUT, systemTestsSkipped } from './container.js';

const skip = systemTestsSkipped();
const hostBootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** A process that is gone or a zombie waiting to be reaped no longer runs anything. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('systemd-nspawn container harness', { skip }, () => {
  let rootfs = '';
  let c: Container | undefined;
  const timings: Record<string, number> = {};
  const ct = (): Container => c ?? assert.fail('container did not boot');

  before(async () => {
    let t = Date.now();
    rootfs = await ensureRootfs(); // fails with a clear message when the host cannot do this
    timings.rootfsMs = Date.now() - t;
    t = Date.now();
    c = await Container.boot({ rootfs });
    timings.bootMs = Date.now() - t;
  }, { timeout: 30 * 60_000 }); // the first run builds the root file system

  after(async () => { await c?.stop(); });

  it('boots a real systemd as PID 1, separate from the host', async () => {
    const c = ct();
    assert.equal((await c.systemctl('is-system-running')).stdout.trim(), 'running');
    assert.equal((await c.readFile('/proc/1/comm')).trim(), 'systemd');
    assert.equal((await c.execOk(['systemd-detect-virt'])).stdout.trim(), 'systemd-nspawn');
    assert.equal((await c.execOk(['hostname'])).stdout.trim(), c.name);
    assert.notEqual(await c.bootId(), hostBootId());
    assert.equal(readFileSync(`/proc/${c.pid1()}/comm`, 'utf8').trim(), 'systemd');
  });

  it('has the host node and a read-only checkout at /opt/warden', async () => {
    const c = ct();
    assert.equal((await c.execOk(['node', '-p', 'process.version'])).stdout.trim(), process.version);
    const pkg = JSON.parse(await c.readFile(`${GUEST_CHECKOUT}/package.json`)) as { name: string };
    assert.equal(pkg.name, 'warden');
    const touch = await c.exec(['touch', `${GUEST_CHECKOUT}/should-not-exist`]);
    assert.notEqual(touch.code, 0);
    assert.match(touch.stderr, /Read-only file system/);
  });

  it('starts a written unit, sees it running, kills its process and sees the failure', async () => {
    const c = ct();
    await c.writeFile('/etc/systemd/system/hello.service', [
      '[Unit]', 'Description=hello from the harness test',
      '[Service]', 'ExecStart=/usr/bin/node -e "setInterval(() => {}, 1000)"',
      '[Install]', 'WantedBy=multi-user.target', '',
    ].join('\n'));
    await c.execOk(['systemctl', 'daemon-reload']);
    await c.execOk(['systemd-analyze', 'verify', '/etc/systemd/system/hello.service']);
    await c.execOk(['systemctl', 'start', 'hello']);

    const props = ['ActiveState', 'SubState', 'MainPID', 'Result', 'ExecMainCode', 'ExecMainStatus', 'NRestarts'];
    const up = await c.show('hello', props);
    assert.equal(up.ActiveState, 'active');
    assert.equal(up.SubState, 'running');
    const mainPid = Number(up.MainPID);
    assert.ok(mainPid > 1, `MainPID ${up.MainPID}`);
    assert.equal((await c.readFile(`/proc/${mainPid}/comm`)).trim(), 'node');

    await c.execOk(['kill', '-KILL', String(mainPid)]);
    const down = await eventually('hello to fail', async () => {
      const s = await c.show('hello', props);
      return s.ActiveState === 'failed' ? s : undefined;
    });
    assert.equal(down.SubState, 'failed');
    assert.equal(down.MainPID, '0');
    assert.equal(down.Result, 'signal');
    assert.equal(down.ExecMainCode, '2'); // CLD_KILLED
    assert.equal(down.ExecMainStatus, '9');
    const journal = await c.journalctl('-u', 'hello', '-o', 'cat');
    assert.match(journal.stdout, /Main process exited, code=killed, status=9\/KILL/);
    assert.equal((await c.systemctl('is-system-running')).stdout.trim(), 'degraded');
    await c.execOk(['systemctl', 'reset-failed', 'hello']);
  });

  it('supports Type=notify: a node service is active only once it says READY=1', async () => {
    const c = ct();
    const js = "setTimeout(() => require('child_process').execFileSync('systemd-notify', ['--ready', '--status=serving']), 300); setInterval(() => {}, 1000)";
    await c.writeFile('/etc/systemd/system/notify.service', [
      '[Service]', 'Type=notify', 'TimeoutStartSec=10', `ExecStart=/usr/bin/node -e "${js}"`, '',
    ].join('\n'));
    await c.execOk(['systemctl', 'daemon-reload']);
    const t = Date.now();
    await c.execOk(['systemctl', 'start', 'notify']); // blocks until READY=1
    assert.ok(Date.now() - t >= 300, `start returned after ${Date.now() - t} ms, before READY=1`);
    const s = await c.show('notify', ['ActiveState', 'SubState', 'StatusText']);
    assert.deepEqual(s, { ActiveState: 'active', SubState: 'running', StatusText: 'serving' });
    await c.execOk(['systemctl', 'stop', 'notify']);
  });

  it('runs transient units with systemd-run', async () => {
    const c = ct();
    await c.execOk(['systemd-run', '--unit=transient-sleep', '--quiet', '/usr/bin/sleep', '300']);
    const s = await c.show('transient-sleep', ['ActiveState', 'ControlGroup']);
    assert.equal(s.ActiveState, 'active');
    assert.equal(s.ControlGroup, '/system.slice/transient-sleep.service');
    await c.execOk(['systemctl', 'stop', 'transient-sleep']);
  });

  it('kills a command that overruns its exec timeout', async () => {
    const c = ct();
    const t = Date.now();
    const r = await c.exec(['sleep', '300'], { timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - t < 5_000);
    // Gone, not even a zombie: a leftover would hold the next shutdown for DefaultTimeoutStopSec.
    const ps = await c.execOk(['ps', '-eo', 'stat=,comm=']);
    assert.doesNotMatch(ps.stdout, /\ssleep$/m);
  });

  it('reaches an HTTP server listening on the host\'s 127.0.0.1', async () => {
    const c = ct();
    const server: Server = createServer((req, res) => res.end(`hello ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await c.execOk(['node', '-e', `fetch('http://127.0.0.1:${port}/from-container').then((r) => r.text()).then(console.log)`]);
      assert.equal(r.stdout.trim(), 'hello /from-container');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('reboots: new boot id and PID 1, /var/lib survives, enabled units come back', async () => {
    const c = ct();
    await c.execOk(['systemctl', 'enable', 'hello']);
    await c.writeFile('/var/lib/warden-test/marker', 'before reboot\n');
    const bootBefore = await c.bootId();
    const pid1Before = c.pid1();

    const t = Date.now();
    await c.reboot();
    timings.rebootMs = Date.now() - t;

    assert.equal(c.boots, 2);
    assert.notEqual(c.pid1(), pid1Before);
    assert.equal(running(pid1Before), false);
    const bootAfter = await c.bootId();
    assert.notEqual(bootAfter, bootBefore);
    assert.notEqual(bootAfter, hostBootId());
    assert.equal(await c.readFile('/var/lib/warden-test/marker'), 'before reboot\n');
    assert.equal((await c.systemctl('is-active', 'hello')).stdout.trim(), 'active');
    const boots = (await c.journalctl('--list-boots')).stdout.trim().split('\n').slice(1);
    assert.equal(boots.length, 2, `journalctl --list-boots:\n${boots.join('\n')}`);
    assert.match((await c.journalctl('-b', '-1', '-u', 'hello', '-o', 'cat')).stdout, /Started hello\.service/);
    // The cached tree is shared by every container and must never change.
    assert.equal(existsSync(join(rootfs, 'var/lib/warden-test')), false);
  });

  it('stops cleanly: no process and no tree left', async () => {
    const c = ct();
    const pids = [c.nspawnPid(), c.pid1()];
    const t = Date.now();
    await c.stop();
    timings.stopMs = Date.now() - t;
    for (const pid of pids) assert.equal(running(pid), false, `pid ${pid} still running`);
    assert.equal(existsSync(c.workDir), false);
  });

  it('boots from a copied tree as well, and leaves nothing behind', async () => {
    const t = Date.now();
    const copy = await Container.boot({ rootfs, tree: 'copy' });
    timings.copyBootMs = Date.now() - t;
    try {
      await copy.writeFile('/var/lib/x', 'x');
      assert.equal(await copy.readFile('/var/lib/x'), 'x');
    } finally {
      await copy.stop();
    }
    assert.equal(existsSync(copy.workDir), false);
  });

  it('leaves nothing behind when the test process is killed with SIGKILL', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/boot-and-die.js', import.meta.url));
    const child = spawn(process.execPath, [fixture, '--run', rootfs], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const signal = await new Promise((r) => child.on('exit', (_code, sig) => r(sig)));
    assert.equal(signal, 'SIGKILL');
    const seen = JSON.parse(out) as { nspawn: number; pid1: number; workDir: string };
    await eventually('the orphaned container to be cleaned up', () =>
      !running(seen.nspawn) && !running(seen.pid1) && !existsSync(seen.workDir) ? true : undefined);
  });

  it('reports timings', (t) => {
    t.diagnostic(`rootfs ${timings.rootfsMs} ms (cached after the first run), boot ${timings.bootMs} ms, ` +
      `reboot ${timings.rebootMs} ms, stop ${timings.stopMs} ms, boot from a copied tree ${timings.copyBootMs} ms`);
  });
});
