// Warden as a real systemd service, in a real systemd booted by systemd-nspawn: installed with the
// unit from `warden systemd-unit`, restarted by systemd after kill -9, restarted by the watchdog
// after SIGSTOP, back after a reboot of its host with exactly one new reboot-log entry and an
// announcement that reaches a webhook outside the container; a `kind: systemd` service killed
// inside is repaired through its unit, and a timer that is active while its job fails is unhealthy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { waitFor } from '../e2e/harness.js';
import { startReceiver, type Receiver } from '../e2e/receiver.js';
import { Container, ensureRootfs, GUEST_CHECKOUT, systemTestsSkipped } from './container.js';
import { sleep } from '../../src/lib/wait.js';

const skip = systemTestsSkipped();
const CONFIG = '/etc/warden/warden.yaml';
let ct: Container;
let hook: Receiver;
let apiPort: number;


/** The e2e harness's waitFor, with the description first (reads better in these tests). */
const waitUntil = <T>(what: string, timeoutMs: number, fn: () => Promise<T | null | undefined | false>): Promise<T> => waitFor(fn, timeoutMs, what);

async function warden<T = unknown>(...args: string[]): Promise<T> {
  const r = await ct.exec(['/usr/bin/node', `${GUEST_CHECKOUT}/bin/warden`, '--config', CONFIG, ...args, '--json'], { timeoutMs: 30_000 });
  // status exits 1 (degraded, unstable) or 3 (not running, stale) with its JSON printed all the same.
  const ok = args[0] === 'status' ? [0, 1, 3].includes(r.code) : r.code === 0;
  if (!ok) throw new Error(`warden ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

async function mainPid(unit: string): Promise<number> {
  return Number((await ct.show(unit, ['MainPID'])).MainPID);
}

async function active(unit: string): Promise<boolean> {
  return (await ct.exec(['systemctl', 'is-active', unit])).stdout.trim() === 'active';
}

before(async () => {
  if (skip) return;
  hook = await startReceiver();
  apiPort = await freePort();
  const rootfs = await ensureRootfs();
  ct = await Container.boot({
    rootfs,
    files: [
      { path: '/etc/systemd/system/hello.service', content: '[Unit]\nDescription=lab service\n[Service]\nExecStart=/usr/bin/node -e "setInterval(()=>{},1000)"\nRestart=no\n[Install]\nWantedBy=multi-user.target\n' },
      { path: '/etc/systemd/system/flaky.service', content: '[Unit]\nDescription=a job that always fails\n[Service]\nType=oneshot\nExecStart=/bin/sh -c "echo backup failed: disk unreachable; exit 1"\n' },
      { path: '/etc/systemd/system/flaky.timer', content: '[Unit]\nDescription=runs flaky every 2 s\n[Timer]\nOnActiveSec=1s\nOnUnitActiveSec=2s\nAccuracySec=100ms\n[Install]\nWantedBy=timers.target\n' },
      { path: '/etc/warden/token', content: 'system-token\n', mode: 0o600 },
      {
        path: CONFIG,
        content: `version: 1
agent:
  name: sentinel
  mode: execute
  dataDir: /var/lib/warden
  interval: 1s
  verify: { stable: 500ms, deadline: 20s }
  api: { listen: "127.0.0.1:${apiPort}", tokenFile: /etc/warden/token }
notify:
  - name: outside
    webhook: { url: "${hook.url}" }
    events: [agent.online, ticket.opened, ticket.resolved]
services:
  - name: hello
    kind: systemd
    unit: hello.service
  - name: flaky
    kind: systemd
    unit: flaky.timer
policy:
  rules: [{ match: { service: "*" }, allow: [start, restart] }]
`,
      },
    ],
  });
  await ct.execOk(['systemctl', 'enable', '--now', 'hello.service', 'flaky.timer']);
});

after(async () => {
  await ct?.stop();
  await hook?.close();
});

test('installed with its own unit: systemd-analyze verify passes and Type=notify reaches active', { skip }, async () => {
  const unit = await ct.execOk(['/usr/bin/node', `${GUEST_CHECKOUT}/bin/warden`, '--config', CONFIG, 'systemd-unit']);
  await ct.writeFile('/tmp/warden-check.service', unit.stdout);
  const verify = await ct.exec(['systemd-analyze', 'verify', '/tmp/warden-check.service']);
  assert.equal(verify.code, 0, verify.stderr);
  await ct.execOk(['/usr/bin/node', `${GUEST_CHECKOUT}/bin/warden`, '--config', CONFIG, 'install', '--now'], { timeoutMs: 90_000 });
  await waitUntil('warden active (READY=1 after the first pass)', 30_000, () => active('warden.service'));
  const st = await ct.show('warden.service', ['Type', 'StatusText', 'WatchdogUSec']);
  assert.equal(st.Type, 'notify');
  assert.match(st.StatusText ?? '', /services; \d+ open tickets; mode execute/);
  await waitUntil('announcement delivered outside the container', 10_000, async () => hook.events.find((e) => e.kind === 'agent.online'));
});

test('a kind: systemd service killed inside is detected through its unit and restarted', { skip }, async () => {
  await waitUntil('hello healthy in status', 20_000, async () => (await warden<{ services: { name: string; health: string }[] }>('status')).services.find((s) => s.name === 'hello')?.health === 'healthy');
  const before = await mainPid('hello.service');
  await ct.execOk(['systemctl', 'kill', '-s', 'KILL', 'hello.service']);
  const t = await waitUntil('hello ticket resolved', 30_000, async () => (await warden<{ service: string; status: string; cause: string }[]>('tickets', 'list', '--all')).find((x) => x.service === 'hello' && x.status === 'resolved'));
  assert.equal(t.cause, 'process_exited');
  assert.ok(await active('hello.service'));
  assert.notEqual(await mainPid('hello.service'), before);
  const actions = await warden<{ type: string; target: string; state: string }[]>('actions', 'list');
  assert.ok(actions.some((a) => a.type === 'restart' && a.target === 'hello' && a.state === 'completed'));
});

test('a timer that is active while every run fails is unhealthy', { skip }, async () => {
  assert.ok(await active('flaky.timer'), 'the timer itself is active');
  const s = await waitUntil('flaky unhealthy', 20_000, async () => (await warden<{ services: { name: string; health: string; detail?: string }[] }>('status')).services.find((x) => x.name === 'flaky' && x.health === 'unhealthy'));
  assert.equal(s.health, 'unhealthy');
});

test('reconcile --once and debug read systemd units too', { skip }, async () => {
  type Report = { findings: { service: string; kind: string; reason: string }[] };
  // Read as the timer runs: while flaky's next run is under way its unit says nothing of the last
  // one, and the report then has only the escalated ticket about flaky. A pass between runs names
  // the failure.
  const report = await waitUntil('a reconcile --once between flaky\'s runs', 20_000, async () => {
    const r = await warden<Report>('reconcile', '--once');
    return r.findings.some((f) => f.service === 'flaky' && f.kind !== 'unresolved_incident') ? r : null;
  });
  assert.deepEqual(report.findings.filter((f) => f.service !== 'flaky'), [], 'hello is healthy');
  assert.match(report.findings.find((f) => f.service === 'flaky' && f.kind !== 'unresolved_incident')?.reason ?? '', /flaky\.service's last run failed/);
  const dbg = await warden<{ kind: string; unit: string; process: { running: boolean; pid: number }; log: string[] }>('debug', 'hello');
  assert.equal(dbg.kind, 'systemd');
  assert.equal(dbg.process.running, true);
  assert.equal(dbg.process.pid, await mainPid('hello.service'));
  const flaky = await warden<{ log: string[] }>('debug', 'flaky');
  assert.ok(flaky.log.some((l) => l.includes('backup failed: disk unreachable')), 'the journal tail is in the bundle');
});

test('kill -9 of Warden: systemd restarts it and it resumes; a plain restart is not a reboot', { skip }, async () => {
  const pid = await mainPid('warden.service');
  const onlines = hook.events.filter((e) => e.kind === 'agent.online').length;
  await ct.execOk(['kill', '-9', String(pid)]);
  await waitUntil('warden back with a new pid', 30_000, async () => (await active('warden.service')) && (await mainPid('warden.service')) !== pid);
  await waitUntil('second announcement', 15_000, async () => hook.events.filter((e) => e.kind === 'agent.online').length > onlines);
  await ct.execOk(['systemctl', 'restart', 'warden.service'], { timeoutMs: 60_000 });
  await waitUntil('active after restart', 30_000, () => active('warden.service'));
  assert.deepEqual(await warden('reboots'), [], 'restarts are not reboots');
});

test('SIGSTOP of Warden: the systemd watchdog restarts it', { skip, timeout: 120_000 }, async () => {
  const pid = await mainPid('warden.service');
  await ct.execOk(['kill', '-STOP', String(pid)]);
  // WatchdogSec is 10 s: systemd kills the wedged process (SIGABRT) and starts a new one.
  await waitUntil('watchdog restart', 60_000, async () => (await active('warden.service')) && (await mainPid('warden.service')) !== pid);
  const journal = await ct.exec(['journalctl', '-u', 'warden.service', '--no-pager', '-o', 'cat']);
  assert.match(journal.stdout, /[Ww]atchdog timeout/);
});

test('reboot of the host: Warden is back after boot, one reboot-log entry, announced outside', { skip, timeout: 180_000 }, async () => {
  const bootBefore = await ct.bootId();
  const onlines = hook.events.filter((e) => e.kind === 'agent.online').length;
  await ct.reboot();
  assert.notEqual(await ct.bootId(), bootBefore);
  await waitUntil('warden active after boot', 60_000, () => active('warden.service'));
  const reboots = await warden<{ bootId: string; previousBootId: string }[]>('reboots');
  assert.equal(reboots.length, 1);
  assert.equal(reboots[0]!.previousBootId, bootBefore);
  // The first announcement of the new boot (an earlier restart's may still arrive late).
  const ev = await waitUntil('announcement after reboot', 20_000, async () => hook.events.slice(onlines).find((e) => e.kind === 'agent.online' && e.data.rebooted === true));
  assert.match(ev.summary, /online; 1 reboots \(this start follows a reboot\); \d+ open tickets; \d+ actions resumed/);
  // A plain restart after the reboot adds nothing.
  await ct.execOk(['systemctl', 'restart', 'warden.service'], { timeoutMs: 60_000 });
  await waitUntil('active', 30_000, () => active('warden.service'));
  assert.equal((await warden<unknown[]>('reboots')).length, 1);
});

test('systemctl disable --now revokes its authority: stopped, not started at boot, services left running', { skip }, async () => {
  await ct.execOk(['systemctl', 'disable', '--now', 'warden.service'], { timeoutMs: 60_000 });
  assert.equal(await active('warden.service'), false);
  assert.equal((await ct.exec(['systemctl', 'is-enabled', 'warden.service'])).stdout.trim(), 'disabled');
  assert.ok(await active('hello.service'), 'what it watched keeps running');
  const hello = await mainPid('hello.service');
  await ct.execOk(['systemctl', 'kill', '-s', 'KILL', 'hello.service']);
  await sleep(3000);
  assert.equal(await active('hello.service'), false, 'and nothing repairs it any more');
  assert.notEqual(hello, 0);
});
