// Issue 7 point 9: manual control, audited — start/stop/restart as actions a person requested, and
// pause/resume (Monit's unmonitor) with an optional deadline, on real processes through the CLI.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, cliJson, gone, morePasses, startLab, startsOf, statusJson, waitFor, type LabRun } from './harness.js';

interface Audit { seq: number; actor: string; kind: string; subject: string | null; data: Record<string, unknown> }
interface Status { daemon: { lastPassAt: string | null }; services: { name: string; health: string; paused?: { by: string; until: string | null } | null }[] }

const starts = (run: LabRun): number => startsOf(join(run.lab.dir, 'data'), 'web');


test('warden restart web restarts it once, an action requested by the person, audited', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['web', 'cache']);
  const pid = run.pid('web');
  const before = starts(run);
  const restarts = async (): Promise<number> => (await run.actions()).filter((x) => x.target === 'web' && x.type === 'restart').length;
  const restartsBefore = await restarts();

  const r = await cli(['restart', 'web', '--as', 'person:alice', '--reason', 'new certificate'], { config: run.lab.configPath });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^action A\d+ \(restart web\) runs within one pass/);
  const id = /action (A\d+)/.exec(r.stdout)![1]!;
  const a = await waitFor(async () => (await run.actions()).find((x) => x.id === id && x.state === 'completed'), 15_000, 'the restart completed');
  assert.equal(a.ticketId, null);
  assert.equal((await cliJson<{ requestedBy: string }>(['actions', 'show', id], run.lab.configPath)).requestedBy, 'person:alice');
  await run.waitSettled(['web']);
  assert.ok(gone(pid), 'the old web process is gone');
  assert.notEqual(run.pid('web'), pid);
  await morePasses(run.lab.configPath, 3);
  assert.equal(starts(run), before + 1, 'started exactly once more');
  assert.equal(await restarts(), restartsBefore + 1, 'no repair followed');

  const audit = await cliJson<Audit[]>(['audit', 'list', '--subject', id], run.lab.configPath);
  const proposed = audit.find((x) => x.kind === 'action.proposed');
  assert.equal(proposed?.actor, 'person:alice');
  assert.equal(proposed?.data.reason, 'new certificate');
  assert.ok(audit.some((x) => x.kind === 'action.completed'));
});

test('a paused web is not repaired; it is after resume; pause --for expires by itself', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['web', 'cache']);

  const p = await cli(['pause', 'web', '--as', 'person:bob'], { config: run.lab.configPath });
  assert.equal(p.code, 0, p.stderr);
  const shown = await statusJson<Status>(run.lab.configPath);
  assert.equal(shown.status.services.find((s) => s.name === 'web')?.paused?.by, 'person:bob');
  const pid = run.pid('web');
  const before = starts(run);
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => (await statusJson<Status>(run.lab.configPath)).status.services.find((s) => s.name === 'web')?.health === 'missing', 10_000, 'web seen missing');
  await morePasses(run.lab.configPath, 3);
  assert.equal(starts(run), before, 'not started while paused');
  assert.deepEqual((await run.tickets()).filter((x) => x.service === 'web'), [], 'no ticket while paused');
  const debug = await cliJson<{ paused: { by: string } | null }>(['debug', 'web'], run.lab.configPath);
  assert.equal(debug.paused?.by, 'person:bob', 'debug shows it paused');
  assert.match((await cli(['status'], { config: run.lab.configPath })).stdout, /web +local +missing \(paused\)/);

  const r = await cli(['resume', 'web', '--as', 'person:bob'], { config: run.lab.configPath });
  assert.equal(r.code, 0, r.stderr);
  await run.waitSettled(['web'], 20_000);
  assert.equal(starts(run), before + 1);

  // --for 2s: killed while paused, repaired once the pause has run out, with nobody resuming it.
  assert.equal((await cli(['pause', 'web', '--for', '2s'], { config: run.lab.configPath })).code, 0);
  process.kill(run.pid('web'), 'SIGKILL');
  await run.waitSettled(['web'], 20_000);
  assert.equal(starts(run), before + 2);
  const audit = await cliJson<Audit[]>(['audit', 'list', '--kind', 'service'], run.lab.configPath);
  assert.deepEqual(audit.map((x) => [x.kind, x.actor, x.data.reason]), [
    ['service.paused', 'person:bob', null],
    ['service.resumed', 'person:bob', 'resumed by hand'],
    ['service.paused', audit[2]!.actor, null],
    ['service.resumed', 'lab-warden', 'the pause ran out'],
  ]);
});

test('warden stop is under policy; allowed, it stops web and keeps it stopped until warden start', async (t) => {
  const policy = `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart]
    - match: { service: web }
      allow: [start, restart, stop]`;
  const run = await startLab({ noWorker: true, policy });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['web', 'cache']);

  const denied = await cli(['stop', 'cache'], { config: run.lab.configPath });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /policy allows no stop on cache: refused/);

  const pid = run.pid('web');
  const before = starts(run);
  const r = await cli(['stop', 'web', '--as', 'person:carol'], { config: run.lab.configPath });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\(stop web\) runs within one pass; web is paused/);
  await waitFor(async () => gone(pid), 10_000, 'web stopped');
  await morePasses(run.lab.configPath, 3);
  assert.equal(starts(run), before, 'not started again while stopped');
  const { code, status } = await statusJson<Status>(run.lab.configPath);
  assert.equal(code, 1, 'a stopped service is not nominal');
  assert.equal(status.services.find((s) => s.name === 'web')?.paused?.by, 'person:carol');

  assert.equal((await cli(['start', 'web', '--as', 'person:carol'], { config: run.lab.configPath })).code, 0);
  await run.waitSettled(['web']);
  assert.equal(starts(run), before + 1);
  const acts = (await run.actions()).filter((x) => x.target === 'web' && (x.type === 'stop' || x.type === 'start') && x.state === 'completed');
  assert.deepEqual(acts.map((x) => x.type).sort(), ['start', 'start', 'stop'], 'the first deploy, the stop and the start');
});

test('a person\'s start, restart, pause and resume take their tier on the service; a refusal says why and is audited', async (t) => {
  const policy = `people:
  - { name: olive, roles: [viewer] }
  - { name: rex, roles: [oncall] }
policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart]
  tiers:
    - { who: [lab-warden], scope: {}, tier: repair-service }
    - { who: [role:oncall], scope: { service: web }, tier: repair-service }`;
  const run = await startLab({ noWorker: true, policy });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['web', 'cache']);
  const cfg = { config: run.lab.configPath };
  const actionsBefore = (await run.actions()).length;

  // olive holds observe (no grant names her or her role): refused, and nothing changes.
  const pause = await cli(['pause', 'web', '--as', 'olive'], cfg);
  assert.equal(pause.code, 1);
  assert.match(pause.stderr, /tier: person:olive holds observe on web \(no grant in policy.tiers names it here\); pause needs propose; grant it in policy.tiers, or ask someone who holds it: refused/);
  const restart = await cli(['restart', 'web', '--as', 'olive'], cfg);
  assert.equal(restart.code, 1);
  assert.match(restart.stderr, /tier: person:olive holds observe on web .*; restart needs repair-service; .*: refused/);
  assert.equal((await run.actions()).length, actionsBefore, 'no action was proposed');
  assert.equal((await statusJson<Status>(run.lab.configPath)).status.services.find((s) => s.name === 'web')?.paused ?? null, null, 'web is not paused');
  const denied = (await cliJson<Audit[]>(['audit', 'list', '--kind', 'policy.denied'], run.lab.configPath)).filter((x) => x.subject === 'web');
  assert.deepEqual(denied.map((x) => [x.actor, x.data.type, x.data.blockedBy, x.data.override]), [['person:olive', 'pause', 'tier', 'person:root'], ['person:olive', 'restart', 'tier', 'person:root']]);

  // rex holds repair-service on web by his role: he pauses, resumes and restarts it.
  const p = await cli(['pause', 'web', '--as', 'rex'], cfg);
  assert.equal(p.code, 0, p.stderr);
  assert.equal((await statusJson<Status>(run.lab.configPath)).status.services.find((s) => s.name === 'web')?.paused?.by, 'person:rex');
  assert.equal((await cli(['resume', 'web', '--as', 'rex'], cfg)).code, 0);
  const pid = run.pid('web');
  const r = await cli(['restart', 'web', '--as', 'rex'], cfg);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^action A\d+ \(restart web\) runs within one pass/);
  const id = /action (A\d+)/.exec(r.stdout)![1]!;
  await waitFor(async () => (await run.actions()).find((x) => x.id === id && x.state === 'completed'), 15_000, 'the restart completed');
  await run.waitSettled(['web']);
  assert.ok(gone(pid), 'the old web process is gone');
  // His tier is on web only: cache is not his to pause.
  assert.match((await cli(['pause', 'cache', '--as', 'rex'], cfg)).stderr, /person:rex holds observe on cache/);
});
