// One Warden per data directory: a second `warden run` on the same data directory is refused at
// once, names the pid that holds the lock, and writes nothing (no audit, notification, adoption).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, cliJson, Daemon, startLab, WARDEN, waitFor } from './harness.js';
import { startReceiver } from './receiver.js';

/** Runs `warden run` to its exit; how long it took, from spawn to exit. */
function runToExit(config: string): Promise<{ code: number | null; output: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn(WARDEN, ['--config', config, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    p.once('close', (code) => resolve({ code, output, ms: performance.now() - t0 }));
  });
}

test('a second warden run on the same data directory exits non-zero at once, names the holder, writes nothing', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const run = await startLab({ noWorker: true, notifyUrl: receiver.url });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  await waitFor(async () => receiver.events.some((e) => e.kind === 'agent.online'), 10_000, 'agent.online delivered');
  const first = run.daemon.proc!.pid!;
  const dataDir = join(run.lab.dir, 'data');
  const cfg = run.lab.configPath;

  const snapshot = async (): Promise<unknown> => ({
    audit: await cliJson(['audit', 'list', '--limit', '100000'], cfg),
    reboots: await cliJson(['reboots'], cfg),
    tickets: await cliJson(['tickets', 'list', '--all'], cfg),
    actions: await cliJson(['actions', 'list', '--limit', '1000'], cfg),
    processes: [run.pid('cache'), run.pid('web')],
    files: readdirSync(dataDir).sort(),
  });
  const before = await snapshot();

  // "At once" against this machine's own pace, measured now: the time `warden validate` takes to
  // start Node, load Warden and read the config. A second Warden that waited for the lock, or did
  // any of its start-up, would take far longer than a few of those (a fixed bound failed on a
  // loaded CI machine at 1.09 s).
  const t0 = performance.now();
  assert.equal((await cli(['--config', cfg, 'validate'])).code, 0);
  const pace = performance.now() - t0;
  const second = await runToExit(cfg);
  assert.notEqual(second.code, 0, second.output);
  assert.ok(second.ms < 3 * pace + 500, `refused in ${Math.round(second.ms)} ms; validate took ${Math.round(pace)} ms`);
  assert.match(second.output, new RegExp(`LOCK_HELD: another Warden \\(pid ${first}\\) is running`));
  assert.match(second.output, /^\d{4}-\d\d-\d\dT[\d:.]+Z start failed: /m, 'one timestamped line');
  assert.doesNotMatch(second.output, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(second.output, /online:/);
  assert.deepEqual(await snapshot(), before, 'the store, the processes and the data directory are unchanged');

  // The first daemon still works, and its notification arriving after the refused start's shows
  // that the refused one sent nothing.
  process.kill(run.pid('web'), 'SIGKILL');
  await waitFor(async () => receiver.events.some((e) => e.kind === 'ticket.resolved'), 20_000, 'web repaired by the first daemon');
  assert.deepEqual(receiver.events.filter((e) => e.kind === 'agent.online').map((e) => e.data.pid), [first]);
  const audit = await cliJson<{ kind: string; data: { pid?: number } }[]>(['audit', 'list', '--limit', '100000'], cfg);
  assert.deepEqual(audit.filter((r) => r.kind === 'agent.online').map((r) => r.data.pid), [first]);

  const st = await cli(['status', '--json'], { config: cfg });
  assert.equal(st.code, 0, st.stderr);
  assert.equal((JSON.parse(st.stdout) as { daemon: { pid: number } }).daemon.pid, first);
  await run.daemon.stop();
  const down = await cli(['status', '--json'], { config: cfg });
  assert.equal(down.code, 3, 'status exits 3 when the daemon is down');
  // A stopped daemon released the lock: the next one starts on the same data directory.
  const again = new Daemon(cfg);
  run.daemon = again;
  await again.start();
  assert.match(again.output, /online:/);
});
