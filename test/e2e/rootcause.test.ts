// Issue 7, points 1 and 2 on real processes: a SIGSTOPped redis behind a TCP check that still
// connects, and a three-level chain whose root takes seconds to come back. Each is one ticket whose
// root is the first broken service, and only that service is restarted.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, LAB } from '../../src/demo/lab.js';
import { morePasses, startLab, waitFor, type TicketJson } from './harness.js';

const closed = (t: TicketJson | undefined): boolean => !!t && (t.status === 'resolved' || t.status === 'escalated');


test('a SIGSTOPped cache is the root cause; web, whose check fails first, is not restarted', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  const actionsBefore = new Set((await run.actions()).map((a) => a.id));
  const webPid = run.pid('web');
  const cachePid = run.pid('cache');

  // The cache's TCP check keeps connecting (the kernel completes connects on the backlog) while
  // web's /healthz, which PINGs it, times out.
  process.kill(cachePid, 'SIGSTOP');
  t.after(() => { try { process.kill(cachePid, 'SIGCONT'); } catch { /* gone */ } });
  const ticket = await waitFor(async () => (await run.tickets()).find((x) => closed(x)), 30_000, 'a ticket closed');
  await run.waitSettled(['cache', 'web']);
  await morePasses(run.lab.configPath, 3, 30_000);

  const tickets = await run.tickets();
  assert.deepEqual(tickets.map((x) => x.id), [ticket.id], `one ticket for the whole incident: ${JSON.stringify(tickets.map((x) => [x.id, x.service, x.cause, x.status, x.reason]))}`);
  assert.equal(ticket.status, 'resolved', ticket.reason ?? '');
  assert.deepEqual(ticket.rootCause && [ticket.rootCause.service, ticket.rootCause.cause], ['cache', 'process_hung']);
  const actions = (await run.actions()).filter((a) => !actionsBefore.has(a.id));
  assert.deepEqual(actions.map((a) => `${a.type} ${a.target} ${a.state}`), ['restart cache completed'], 'only the cache is restarted');
  assert.equal(run.pid('web'), webPid, 'web keeps running as the same process');
  assert.notEqual(run.pid('cache'), cachePid);
});

test('a three-level chain whose root is slow to come back: only the root is restarted', async (t) => {
  const [root, mid, front] = [await freePort(), await freePort(), await freePort()];
  const web = join(LAB, 'web.mjs');
  const check = (probe: string): string => `    checks:
      - ${probe}
        interval: 250ms
        timeout: 200ms
        failures: 2
`;
  // front → mid → root: root is a redis that loads for 2 s before it serves, after every start.
  const extraServices = `  - name: root
    kind: process
    start: [sh, -c, "sleep 2; exec redis-server --port ${root} --bind 127.0.0.1 --save '' --appendonly no"]
    stopGrace: 2s
${check(`tcp: { address: "127.0.0.1:${root}", send: "PING\\r\\n", expect: "+PONG" }`)}  - name: mid
    kind: process
    start: [node, ${web}]
    env: { PORT: "${mid}", REDIS_PORT: "${root}" }
    dependsOn: [root]
${check(`http: { url: "http://127.0.0.1:${mid}/healthz", expectStatus: 200 }`)}  - name: front
    kind: process
    start: [node, ${web}]
    env: { PORT: "${front}", REDIS_PORT: "0", UPSTREAM: "http://127.0.0.1:${mid}/healthz" }
    dependsOn: [mid]
${check(`http: { url: "http://127.0.0.1:${front}/healthz", expectStatus: 200 }`)}`;
  const run = await startLab({ noWorker: true, extraServices });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['root', 'mid', 'front'], 40_000);
  const ticketsBefore = new Set((await run.tickets()).map((x) => `${x.id}/${x.occurrences}`));
  const actionsBefore = new Set((await run.actions()).map((a) => a.id));
  const pids = { mid: run.pid('mid'), front: run.pid('front') };

  process.kill(run.pid('root'), 'SIGKILL');
  const ticket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'root' && !ticketsBefore.has(`${x.id}/${x.occurrences}`) && closed(x)), 40_000, 'root ticket closed');
  await run.waitSettled(['root', 'mid', 'front']);
  await morePasses(run.lab.configPath, 3, 30_000);

  const fresh = (await run.tickets()).filter((x) => !ticketsBefore.has(`${x.id}/${x.occurrences}`));
  assert.deepEqual(fresh.map((x) => `${x.id} ${x.service}`), [`${ticket.id} root`], 'one ticket for the whole incident');
  assert.equal(ticket.status, 'resolved', ticket.reason ?? '');
  assert.deepEqual(ticket.rootCause && [ticket.rootCause.service, ticket.rootCause.cause], ['root', 'process_exited']);
  const actions = (await run.actions()).filter((a) => !actionsBefore.has(a.id));
  assert.deepEqual(actions.map((a) => `${a.type} ${a.target} ${a.state}`), ['restart root completed'], 'only the root is restarted');
  assert.deepEqual({ mid: run.pid('mid'), front: run.pid('front') }, pids, 'mid and front keep running as the same processes');
});
