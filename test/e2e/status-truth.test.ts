// Issue 7 point 8: `warden status` tells the truth — exit codes like `systemctl is-active`, the
// stale message once the daemon is gone, the columns on-call needs, and an answer with a broken config.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli, statusJson, startLab, waitFor } from './harness.js';

interface Status {
  summary: string;
  daemon: { running: boolean; pid: number | null; stale?: unknown };
  services: { name: string; health: string; pid: number | null; uptimeMs: number | null; restarts: number; ticket: string | null; lastCheckAt: string | null; nextCheckAt: string | null }[];
}

test('status exits 0 nominal, 1 degraded, 3 with the daemon stopped and says the data is stale', async (t) => {
  // web's restart needs approval nobody gives: once killed it stays down while the daemon watches.
  const policy = `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart]
    - match: { service: web }
      allow: [restart]
      approval: required`;
  const run = await startLab({ noWorker: true, policy });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['web', 'cache']);
  const ok = await waitFor(async () => { const r = await statusJson<Status>(run.lab.configPath); return r.code === 0 && r; }, 20_000, 'status nominal');
  assert.equal(ok.status.summary, 'nominal');
  assert.equal(ok.status.daemon.running, true);
  const nominal = await cli(['status'], { config: run.lab.configPath });
  assert.equal(nominal.code, 0);
  // The columns on-call needs, in both forms.
  assert.match(nominal.stdout, /SERVICE +HOST +HEALTH +SINCE +PID +UPTIME +RESTARTS +LAST CHECK +NEXT CHECK +TICKET +DETAIL/);
  const web = ok.status.services.find((s) => s.name === 'web')!;
  assert.equal(web.pid, run.pid('web'));
  assert.ok(web.uptimeMs !== null && web.uptimeMs >= 0);
  assert.equal(typeof web.restarts, 'number');
  assert.equal(web.ticket, null);
  assert.ok('lastCheckAt' in web && 'nextCheckAt' in web);

  process.kill(run.pid('web'), 'SIGKILL');
  const bad = await waitFor(async () => { const r = await statusJson<Status>(run.lab.configPath); return r.status.summary !== 'nominal' && r; }, 20_000, 'status not nominal');
  assert.equal(bad.code, 1, `exit 1 when ${bad.status.summary}`);
  assert.equal(bad.status.daemon.running, true);
  assert.match(bad.status.services.find((s) => s.name === 'web')?.ticket ?? '', /^T\d+$/, 'the open ticket is named');
  assert.equal((await cli(['status'], { config: run.lab.configPath })).code, 1);

  await run.daemon.stop();
  const down = await statusJson<Status>(run.lab.configPath);
  assert.equal(down.code, 3);
  assert.equal(down.status.daemon.running, false);
  const human = await cli(['status'], { config: run.lab.configPath });
  assert.equal(human.code, 3);
  assert.match(human.stdout, /daemon not running/);
  assert.match(human.stdout, /STALE: what follows is as of the last pass \(\d{4}-\d\d-\d\dT[^)]+\); no daemon watches now/);
});

test('status still answers while the config file is broken, and says the file is broken', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['web', 'cache']);
  await waitFor(async () => (await statusJson<Status>(run.lab.configPath)).code === 0, 20_000, 'status nominal');
  const good = readFileSync(run.lab.configPath, 'utf8');
  // Edited but not reloaded: status reports the mode the daemon runs in, not the file's.
  writeFileSync(run.lab.configPath, good.replace('mode: execute', 'mode: observe'));
  assert.equal((await statusJson<{ mode: string }>(run.lab.configPath)).status.mode, 'execute');
  // A half-finished edit: the YAML no longer parses.
  writeFileSync(run.lab.configPath, `${good}\n  - name: [unclosed\n`);
  const r = await statusJson<Status & { configError?: string }>(run.lab.configPath);
  assert.equal(r.code, 0, 'the daemon still runs with the config it loaded');
  assert.deepEqual(r.status.services.map((s) => [s.name, s.health]), [['cache', 'healthy'], ['web', 'healthy']]);
  assert.match(r.status.configError ?? '', /warden\.yaml is broken .*using the config the daemon last loaded/);
  const human = await cli(['status'], { config: run.lab.configPath });
  assert.equal(human.code, 0);
  assert.match(human.stdout, /CONFIG BROKEN: .*warden\.yaml is broken/);
  assert.match(human.stderr, /warden\.yaml is broken/);
  // Other reading commands answer too; a command that needs the file still refuses with its error.
  assert.equal((await cli(['tickets', 'list'], { config: run.lab.configPath })).code, 0);
  assert.equal((await cli(['validate'], { config: run.lab.configPath })).code, 2);
});
