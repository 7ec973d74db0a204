// A subject through the real daemon: three redis-server replicas as a `group` whose quorum is a
// majority. Two killed at once is one ticket for the group (quorum_lost), not two for the members;
// Warden restarts a missing member, the quorum is back, and the healthy replica is never touched.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { cli, cliJson, startLab, startsOf, statusJson, waitFor } from './harness.js';

/** Three redis-server replicas r1..r3 on `ports`, as `services:` entries. */
function replicas(ports: number[]): string {
  return ports.map((port, i) => `  - name: r${i + 1}
    kind: process
    start: [redis-server, --port, "${port}", --bind, 127.0.0.1, --save, "", --appendonly, "no"]
    stopGrace: 1s
    checks:
      - tcp: { address: "127.0.0.1:${port}" }
        interval: 250ms
        timeout: 200ms
`).join('');
}

test('two of three replicas killed: one group ticket, quorum_lost, members restarted, the healthy one untouched', async (t) => {
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const run = await startLab({
    noWorker: true,
    extraServices: replicas(ports),
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

interface Action { id: string; ticketId: string | null; type: string; target: string; state: string; startedAt: string | null; finishedAt: string | null; error: string | null }

test('minHealthy 2: two of three killed are brought back one at a time; taking down a healthy one below it is refused (blast radius)', async (t) => {
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const api = await freePort();
  const tokenFile = join(tmpdir(), `warden-blast-${api}.token`);
  writeFileSync(tokenFile, 'blast-token\n', { mode: 0o600 });
  t.after(() => rmSync(tokenFile, { force: true }));
  const run = await startLab({
    noWorker: true,
    api: { port: api, tokenFile },
    extraServices: replicas(ports),
    subjects: 'subjects:\n  - { name: replicas, members: [r1, r2, r3], group: { minHealthy: 2 } }\n',
    policy: 'policy:\n  rules:\n    - match: { service: "*" }\n      allow: [start, restart, stop]\n',
  });
  const pids: number[] = [];
  t.after(async () => {
    for (const n of [1, 2, 3]) try { pids.push(run.pid(`r${n}`)); } catch { /* none */ }
    for (const p of pids) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    await run.cleanup();
  });
  const cfg = run.lab.configPath;
  const actions = (): Promise<Action[]> => cliJson<Action[]>(['actions', 'list', '--limit', '1000'], cfg);
  await run.daemon.start();
  await run.waitSettled(['r1', 'r2', 'r3']);
  const before = new Set((await actions()).map((a) => a.id));
  const r3 = run.pid('r3');
  pids.push(run.pid('r1'), run.pid('r2'), r3);
  process.kill(run.pid('r1'), 'SIGKILL');
  process.kill(run.pid('r2'), 'SIGKILL');
  await waitFor(async () => (await run.tickets()).find((x) => x.service === 'replicas' && x.status === 'resolved'), 30_000, 'the group ticket resolved');
  await run.waitSettled(['r1', 'r2', 'r3']);
  const repairs = (await actions()).filter((a) => !before.has(a.id)).sort((a, b) => Date.parse(a.startedAt ?? '') - Date.parse(b.startedAt ?? ''));
  assert.deepEqual(repairs.map((a) => a.target).sort(), ['r1', 'r2'], JSON.stringify(repairs));
  assert.ok(repairs.every((a) => a.state === 'completed'));
  // One at a time: the second began after the first had finished.
  assert.ok(Date.parse(repairs[1]!.startedAt!) >= Date.parse(repairs[0]!.finishedAt!), `overlapping repairs: ${JSON.stringify(repairs)}`);
  assert.equal(run.pid('r3'), r3, 'the last healthy replica was never touched');

  // A person stops r1 (two healthy stay: allowed), then asks to restart r2: that would leave one.
  const stop = await cli(['stop', 'r1'], { config: cfg });
  assert.equal(stop.code, 0, stop.stderr);
  await waitFor(async () => (await statusJson<{ services: { name: string; health: string }[] }>(cfg)).status.services.find((x) => x.name === 'r1' && x.health !== 'healthy'), 15_000, 'r1 stopped');
  const r2 = run.pid('r2');
  const asked = await cli(['restart', 'r2'], { config: cfg });
  assert.equal(asked.code, 0, asked.stderr);
  const id = /action (A\d+)/.exec(asked.stdout)?.[1];
  assert.ok(id, asked.stdout);
  const refused = await waitFor(async () => (await actions()).find((a) => a.id === id && a.state === 'failed'), 15_000, 'the restart refused');
  assert.equal(refused.error, 'refused by subject replicas: r2 is healthy and taking it down would leave 1 of 3 members healthy, 2 needed');
  assert.equal(run.pid('r2'), r2, 'r2 kept running');
  const metrics = await (await fetch(`http://127.0.0.1:${api}/metrics`, { headers: { authorization: 'Bearer blast-token' } })).text();
  assert.match(metrics, /^warden_actions_blocked_total\{by="blast_radius"\} 1$/m);
});
