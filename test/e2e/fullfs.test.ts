// Truthful about itself: with the data directory on a full filesystem Warden's passes fail, and it
// says so everywhere (/healthz, status, metrics, one notification); when space returns the loop
// recovers and nothing committed before is lost. The data directory is a real tmpfs (needs root).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fillUntilFull } from '../../src/lib/fill.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, killLab, makeLab } from '../../src/demo/lab.js';
import { Store } from '../../src/store/store.js';
import { cli, cliJson, startLab, waitFor, WARDEN } from './harness.js';
import { startReceiver } from './receiver.js';

test('store on a full filesystem: healthz, status, metrics and one notification say so; recovery loses nothing', { skip: process.getuid?.() !== 0 ? 'needs root to mount a tmpfs' : false }, async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const port = await freePort();
  const tokenFile = join(tmpdir(), `warden-token-${port}`);
  writeFileSync(tokenFile, 'full-fs-token\n', { mode: 0o600 });
  t.after(() => rmSync(tokenFile, { force: true }));
  const run = await startLab({ noWorker: true, notifyUrl: receiver.url, api: { port, tokenFile } });
  const dataDir = join(run.lab.dir, 'data');
  mkdirSync(dataDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', dataDir]);
  t.after(async () => {
    // The lab's processes are found through the store, which is on the tmpfs: stop them first.
    await run.daemon.signal('SIGKILL');
    try {
      const s = Store.open(dataDir, { readonly: true });
      killLab(s, dataDir);
      s.close();
    } finally {
      execFileSync('umount', ['-l', dataDir]);
      await run.cleanup();
    }
  });
  const cfg = run.lab.configPath;
  // The same data directory without the API: status must tell "passes fail" from the lock alone.
  const noApi = join(run.lab.dir, 'no-api.yaml');
  writeFileSync(noApi, readFileSync(cfg, 'utf8').replace(/^ {2}api: .*\n/m, ''));
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: 'Bearer full-fs-token' };
  const healthz = async (): Promise<{ status: number; reason: string }> => {
    const r = await fetch(`${base}/healthz`);
    return { status: r.status, reason: (await r.json() as { reason: string }).reason };
  };
  const failures = async (): Promise<number> => {
    const text = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    return Number(/^warden_pass_failures_total (\d+)$/m.exec(text)?.[1] ?? NaN);
  };
  const kinds = (k: string): number => receiver.events.filter((e) => e.kind === k).length;

  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  // Something committed before the disk fills: a repaired incident.
  process.kill(run.pid('web'), 'SIGKILL');
  const earlier = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'resolved'), 20_000, 'first web repair');
  await run.waitSettled(['cache', 'web']);
  const auditBefore = await cliJson<{ seq: number; hash: string }[]>(['audit', 'list', '--limit', '100000'], cfg);
  assert.equal((await healthz()).status, 200);
  assert.equal(await failures(), 0);

  const filler = join(dataDir, 'filler');
  fillUntilFull(filler);
  process.kill(run.pid('web'), 'SIGKILL');

  const sick = await waitFor(async () => { const h = await healthz(); return h.status !== 200 && h; }, 10_000, '/healthz to fail');
  assert.equal(sick.status, 503);
  assert.match(sick.reason, /reconcile passes fail since .*SQLITE_FULL/);
  await waitFor(async () => kinds('agent.degraded') === 1, 10_000, 'agent.degraded delivered');
  const degraded = receiver.events.find((e) => e.kind === 'agent.degraded')!;
  assert.match(String(degraded.data.reason), /SQLITE_FULL.*filesystem is full/);

  const viaApi = await cli(['status', '--json'], { config: cfg });
  assert.equal(viaApi.code, 3, 'status exits 3 while the data is stale');
  const st = JSON.parse(viaApi.stdout) as { daemon: { running: boolean; stale?: { reason: string } } };
  assert.equal(st.daemon.running, true);
  assert.match(st.daemon.stale?.reason ?? '', /SQLITE_FULL/);
  const human = await cli(['status'], { config: cfg });
  assert.equal(human.code, 3);
  assert.match(human.stdout, /STALE: .*SQLITE_FULL/);
  // Without the API the heartbeat's age says it, once it is older than the progress budget.
  const viaLock = await waitFor(async () => { const r = await cli(['status', '--json'], { config: noApi }); return r.code === 3 && r; }, 15_000, 'status without the API to say stale');
  assert.match((JSON.parse(viaLock.stdout) as { daemon: { stale?: { reason: string } } }).daemon.stale?.reason ?? '', new RegExp(`pid ${run.daemon.proc!.pid!}\\) holds the data directory`));

  // Passes keep failing (the counter grows) and no second notification goes out for them.
  const n = await failures();
  assert.ok(n > 0);
  await waitFor(async () => (await failures()) >= n + 3, 15_000, 'three more failed passes');
  assert.equal(kinds('agent.degraded'), 1, 'one notification per incident, not per pass');
  assert.equal(kinds('agent.recovered'), 0);

  rmSync(filler);
  // Same fingerprint as the earlier incident: its ticket is reopened, then resolved again.
  const repaired = await waitFor(async () => (await run.tickets()).find((x) => x.id === earlier.id && x.occurrences === 2 && x.status === 'resolved'), 30_000, 'web repaired after space returned');
  assert.equal(repaired.cause, 'process_exited');
  await waitFor(async () => kinds('agent.recovered') === 1, 10_000, 'agent.recovered delivered');
  assert.equal(kinds('agent.degraded'), 1);
  assert.equal((await healthz()).status, 200);
  const after = await cli(['status', '--json'], { config: cfg });
  assert.equal(after.code, 0, after.stdout);

  const verify = await cli(['audit', 'verify'], { config: cfg });
  assert.equal(verify.code, 0, verify.stdout);
  const auditAfter = await cliJson<{ seq: number; hash: string; kind: string }[]>(['audit', 'list', '--limit', '100000'], cfg);
  assert.deepEqual(auditAfter.slice(0, auditBefore.length), auditBefore, 'every record committed before is still there, unchanged');
  assert.ok(auditAfter.some((r) => r.kind === 'agent.recovered'), 'the incident is audited once the store takes writes');
  const actions = await run.actions();
  assert.deepEqual(earlier.actionIds.map((id) => actions.find((a) => a.id === id)?.state), ['completed'], 'the earlier repair is still recorded');
});

test('a start that cannot open its store exits non-zero with one timestamped line saying what to do', async (t) => {
  const lab = await makeLab({ noWorker: true });
  t.after(() => rmSync(lab.dir, { recursive: true, force: true }));
  mkdirSync(join(lab.dir, 'data'));
  writeFileSync(join(lab.dir, 'data', 'warden.db'), Buffer.alloc(8192, 0x5a));
  // execFile resolves only once the process has exited: nothing is left running.
  const r = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    execFile(WARDEN, ['--config', lab.configPath, 'run'], { timeout: 15_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }));
  });
  assert.equal(r.code, 1, r.stderr);
  // One line: the file, what is wrong, and what to do.
  assert.match(r.stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z start failed: STORE_DAMAGED: \S+\/warden\.db: is not a SQLite database \(SQLITE_NOTADB\)\..*restore a backup.*"warden store recover"[^\n]*\n$/);
  assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(r.stdout, /online:/);
});
