// Shadow mode per scope with the real daemon: a service in a policy.shadow scope is diagnosed and
// recorded ("would have restarted web") but never started, pass after pass; a service outside the
// scope is repaired as before; the track record shows the prediction; and promotion is a person's
// edit of warden.yaml, after which Warden repairs the service.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, cliJson, morePasses, startLab, startsOf, waitFor, type TicketJson } from './harness.js';

type Shadow = { type: string; service: string; verdict: string; wouldHave: string; scope: string; predicted: string; outcome: unknown };
type Audit = { kind: string; subject: string | null; data: Record<string, unknown> };
type Report = {
  records: { type: string; scope: string; mode: string; services: string[]; attempts: number; successes: number; predictions: number; wouldAllow: number; wentAway: number }[];
  suggestions: { type: string; scope: string; kind: string }[];
  note: string;
};

test('shadow: web is diagnosed and recorded, never started; worker outside the scope is repaired', async (t) => {
  const run = await startLab();
  t.after(() => run.cleanup());
  const config = run.lab.configPath;
  const dataDir = join(run.lab.dir, 'data');
  await run.daemon.start();
  await run.waitSettled(['cache', 'web', 'worker']);

  // The policy is re-read before every pass: put web in shadow, and let two passes that read it end,
  // so that no pass still holding the old policy can see web die.
  const plain = readFileSync(config, 'utf8');
  appendFileSync(config, '  shadow:\n    - { service: web }\n');
  await morePasses(config, 2);
  const startsBefore = startsOf(dataDir, 'web');
  const actionsBefore = new Set((await run.actions()).map((a) => a.id));

  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && /^shadow: would have restarted web/.test(x.reason ?? '')), 15_000, 'web ticket in shadow');
  assert.equal(tk.cause, 'process_exited');
  assert.equal(tk.status, 'open');

  // Across completed passes (counted, not slept): web is never started, no action is created for it.
  await morePasses(config, 5);
  assert.equal(startsOf(dataDir, 'web'), startsBefore, 'web never started');
  assert.throws(() => run.pid('web'), 'web is still down');
  const newActions = (await run.actions()).filter((a) => !actionsBefore.has(a.id));
  assert.deepEqual(newActions.filter((a) => a.target === 'web'), [], 'no action on web');
  const still = (await run.tickets()).find((x) => x.id === tk.id)!;
  assert.equal(still.status, 'open');

  // The ticket records what Warden would have done, with the gate's verdict and the prediction.
  const shown = await cliJson<TicketJson & { shadow: Shadow | null }>(['tickets', 'show', tk.id], config);
  assert.ok(shown.shadow, 'the ticket has a shadow record');
  assert.deepEqual([shown.shadow.type, shown.shadow.service, shown.shadow.verdict, shown.shadow.wouldHave, shown.shadow.scope, shown.shadow.outcome],
    ['restart', 'web', 'allowed', 'restarted web', 'policy.shadow[0] (service: web)', null]);
  assert.match(shown.shadow.predicted, /^web healthy again: restart web mends process_exited on web/);
  const text = await cli(['tickets', 'show', tk.id], { config });
  assert.match(text.stdout, /shadow {7}would have restarted web \(policy allows it\)/);
  const explained = await cli(['explain', tk.id], { config });
  assert.match(explained.stdout, /in shadow, Warden would have restarted web and did not act/);
  // And the audit log, once for the occurrence, with every check the gate consulted.
  const audit = await cliJson<Audit[]>(['audit', 'list', '--limit', '2000'], config);
  const shadowed = audit.filter((r) => r.kind === 'policy.shadowed' && r.subject === tk.id);
  assert.equal(shadowed.length, 1);
  assert.ok(Array.isArray(shadowed[0]!.data.policy) && shadowed[0]!.data.policy.length > 0);
  const explainPolicy = await cli(['policy', 'explain', tk.id], { config });
  assert.match(explainPolicy.stdout, /policy\.shadowed by lab-warden: shadow: would have restarted web \(policy allows it\)/);

  // Outside the scope, Warden repairs as before.
  process.kill(run.pid('worker'), 'SIGKILL');
  const repaired = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'worker' && x.status === 'resolved' && x.actionIds.some((id) => !actionsBefore.has(id))), 20_000, 'worker repaired');
  const workerActs = (await run.actions()).filter((a) => a.ticketId === repaired.id && !actionsBefore.has(a.id));
  assert.deepEqual(workerActs.map((a) => [a.type, a.state]), [['restart', 'completed']]);
  assert.equal(startsOf(dataDir, 'web'), startsBefore, 'still never started');

  // The track record shows the prediction beside the worker's repair, and says it only suggests.
  const report = await cliJson<Report>(['policy', 'report'], config);
  const web = report.records.find((r) => r.scope === 'policy.shadow[0] (service: web)' && r.type === 'restart');
  assert.ok(web, JSON.stringify(report.records));
  assert.deepEqual([web.mode, web.services, web.attempts, web.predictions, web.wouldAllow, web.wentAway], ['shadow', ['web'], 0, 1, 1, 0]);
  const worker = report.records.find((r) => r.scope === 'service: worker' && r.type === 'restart');
  assert.ok(worker && worker.attempts >= 1 && worker.successes >= 1, JSON.stringify(report.records));
  assert.match(report.note, /only suggests/);
  const human = await cli(['policy', 'report'], { config });
  assert.match(human.stdout, /restart +policy\.shadow\[0\] \(service: web\) +shadow/);
  assert.match(human.stdout, /Warden only suggests/);

  // Promotion is a person's edit: out of shadow, the same open ticket is repaired.
  writeFileSync(config, plain);
  await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved'), 20_000, 'web repaired once out of shadow');
  assert.equal(startsOf(dataDir, 'web'), startsBefore + 1);
});
