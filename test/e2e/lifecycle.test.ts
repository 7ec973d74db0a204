// The daemon's lifecycle as an operator sees it: the start-up announcement and state-change
// notifications reach a webhook; SIGHUP reloads a valid config and keeps the running one when the
// new file is broken; SIGTERM stops Warden and leaves the services running.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli, cliJson, Daemon, sleep, startLab, waitFor } from './harness.js';
import { startReceiver } from './receiver.js';

test('announcement and notifications reach a webhook; SIGHUP reload; SIGTERM leaves services running', async (t) => {
  const hook = await startReceiver();
  t.after(() => hook.close());
  const run = await startLab({ noWorker: true, notifyUrl: hook.url });
  t.after(() => run.cleanup());
  hook.failNext(1, 503); // the first delivery fails once: the channel retries
  await run.daemon.start();
  const online = await waitFor(async () => hook.events.find((e) => e.kind === 'agent.online'), 10_000, 'agent.online delivered');
  assert.match(online.summary, /online; 0 reboots; 0 open tickets; 0 actions resumed/);
  assert.deepEqual(online.data.auditHead, { seq: 0, hash: '0'.repeat(64) }, 'a fresh store: the genesis head');
  await run.waitHealthy(['cache', 'web']);

  process.kill(run.pid('web'), 'SIGKILL');
  const opened = await waitFor(async () => hook.events.find((e) => e.kind === 'ticket.opened'), 10_000, 'ticket.opened delivered');
  const resolved = await waitFor(async () => hook.events.find((e) => e.kind === 'ticket.resolved'), 15_000, 'ticket.resolved delivered');
  assert.equal(opened.subject, resolved.subject);

  // A broken file on SIGHUP changes nothing: the reason is logged and audited, repairs go on.
  const good = readFileSync(run.lab.configPath, 'utf8');
  writeFileSync(run.lab.configPath, good.replace('mode: execute', 'mode: whatever'));
  run.daemon.proc!.kill('SIGHUP');
  await waitFor(async () => run.daemon.output.includes('reload rejected, keeping the running config'), 5000, 'reload rejected');
  assert.match(run.daemon.output, /warden\.yaml:\d+:\d+: agent\.mode/);
  writeFileSync(run.lab.configPath, good); // for the CLI below; the daemon is not told
  const rejected = await cliJson<{ kind: string }[]>(['audit', 'list', '--limit', '500'], run.lab.configPath);
  assert.ok(rejected.some((r) => r.kind === 'config.rejected'));
  await run.waitHealthy(['web']);
  const before = (await run.actions()).length;
  process.kill(run.pid('web'), 'SIGKILL');
  await waitFor(async () => (await run.actions()).length > before, 10_000, 'still repairing with the running config');

  // A valid file on SIGHUP takes effect: now in observe mode, a kill gets a ticket but no action.
  await run.waitHealthy(['web']);
  writeFileSync(run.lab.configPath, good.replace('mode: execute', 'mode: observe'));
  run.daemon.proc!.kill('SIGHUP');
  await waitFor(async () => run.daemon.output.includes('reloaded'), 5000, 'reloaded');
  const count = (await run.actions()).length;
  process.kill(run.pid('web'), 'SIGKILL');
  await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'open' && /observe/.test(x.reason ?? '')), 10_000, 'observe-mode ticket');
  await sleep(1000);
  assert.equal((await run.actions()).length, count, 'no action after reloading into observe mode');

  // SIGTERM: Warden exits 0; the cache it started keeps running; a restart adopts it (same boot:
  // no reboot recorded).
  const cachePid = run.pid('cache');
  assert.equal(await run.daemon.signal('SIGTERM'), 0);
  process.kill(cachePid, 0);
  const again = new Daemon(run.lab.configPath);
  run.daemon = again;
  await again.start();
  assert.equal(run.pid('cache'), cachePid, 'adopted, not restarted');
  const reboots = await cliJson<unknown[]>(['reboots'], run.lab.configPath);
  assert.deepEqual(reboots, [], 'a restart of Warden is not a reboot');
  await waitFor(async () => hook.events.filter((e) => e.kind === 'agent.online').length === 2, 5000, 'second announcement');
  const second = hook.events.filter((e) => e.kind === 'agent.online')[1]!;
  const head = second.data.auditHead as { seq: number; hash: string };
  assert.match(head.hash, /^[0-9a-f]{64}$/, 'the audit head leaves the host with the announcement');
  assert.match(second.summary, /online; 0 reboots; 1 open tickets; 0 actions resumed/, 'the observe-mode ticket is still open');
  const unit = await cli(['systemd-unit'], { config: run.lab.configPath });
  assert.match(unit.stdout, /Type=notify/);
});
