// A subject through the real daemon: three redis-server replicas as a `group` whose quorum is a
// majority. Two killed at once is one ticket for the group (quorum_lost), not two for the members;
// Warden restarts a missing member, the quorum is back, and the healthy replica is never touched.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { startLab, startsOf, statusJson, waitFor } from './harness.js';

test('two of three replicas killed: one group ticket, quorum_lost, members restarted, the healthy one untouched', async (t) => {
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const replica = (n: number): string => `  - name: r${n}
    kind: process
    start: [redis-server, --port, "${ports[n - 1]}", --bind, 127.0.0.1, --save, "", --appendonly, "no"]
    stopGrace: 1s
    checks:
      - tcp: { address: "127.0.0.1:${ports[n - 1]}" }
        interval: 250ms
        timeout: 200ms
`;
  const run = await startLab({
    noWorker: true,
    extraServices: replica(1) + replica(2) + replica(3),
    subjects: 'subjects:\n  - { name: replicas, members: [r1, r2, r3], group: {} }\n',
    restartLimit: 10,
  });
  const pids: number[] = [];
  t.after(async () => {
    for (const n of [1, 2, 3]) try { pids.push(run.pid(`r${n}`)); } catch { /* none */ }
    for (const p of pids) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    await run.cleanup();
  });
  await run.daemon.start();
  await run.waitSettled(['r1', 'r2', 'r3']);
  const data = join(run.lab.dir, 'data');
  const r3Starts = startsOf(data, 'r3');
  const before = new Set((await run.actions()).map((a) => a.id));
  pids.push(run.pid('r1'), run.pid('r2'), run.pid('r3'));
  process.kill(run.pid('r1'), 'SIGKILL');
  process.kill(run.pid('r2'), 'SIGKILL');

  const ticket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'replicas' && x.status === 'resolved'), 30_000, 'the group ticket resolved');
  assert.equal(ticket.cause, 'quorum_lost');
  // Status shows the group beside its members (the broken spell itself lasts only milliseconds here).
  const { status } = await statusJson<{ subjects: { name: string; type: string; members: string[]; health: string; ticket: string | null }[] }>(run.lab.configPath);
  assert.deepEqual(status.subjects.map((x) => [x.name, x.type, x.members.join(','), x.health, x.ticket]), [['replicas', 'group', 'r1,r2,r3', 'healthy', null]]);
  await run.waitSettled(['r1', 'r2', 'r3']);
  const tickets = (await run.tickets()).filter((x) => x.service === 'replicas' || x.service.startsWith('r'));
  // One ticket for the group; a member's own ticket only for a kill seen before the quorum broke.
  assert.equal(tickets.filter((x) => x.service === 'replicas').length, 1, JSON.stringify(tickets.map((x) => `${x.service} ${x.cause}`)));
  assert.ok(tickets.every((x) => x.service !== 'r3'));
  const actions = (await run.actions()).filter((a) => !before.has(a.id));
  assert.ok(actions.every((a) => a.target !== 'r3'), 'the healthy replica is never acted on');
  assert.ok(tickets.every((x) => x.occurrences === 1), 'the deploy raised no ticket for the group');
  assert.equal(startsOf(data, 'r3'), r3Starts);
  assert.ok(actions.some((a) => a.ticketId === ticket.id && a.type === 'restart'), 'the group ticket restarted a member');
});
