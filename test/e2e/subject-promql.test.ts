// A subject's PromQL invariant through the real daemon and a real Prometheus: Prometheus scrapes a
// metric this test serves; the subject `queue` (a group over web) says `lab_queue_depth > 10` must
// not hold for 1s. Once the depth stays high that long there is one ticket for the subject naming
// the invariant, with the series and its value; nothing is restarted; when the depth drops the
// query returns nothing and the ticket resolves.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { startPrometheus } from '../../src/demo/prometheus.js';
import { cli, cliJson, startLab, waitFor } from './harness.js';

interface Shown { id: string; status: string; cause: string | null; reason: string | null; findings: { kind: string; invariant?: string; reason: string; value?: number }[] }

test('a PromQL invariant with for: fires (one subject ticket naming it, the value in it) and clears (resolved)', async (t) => {
  let depth = 3;
  const target = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`# TYPE lab_queue_depth gauge\nlab_queue_depth{queue="jobs"} ${depth}\n`);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  t.after(() => { target.closeAllConnections(); target.close(); });
  const targetPort = (target.address() as { port: number }).port;
  const prom = await startPrometheus([{ job: 'lab', address: `127.0.0.1:${targetPort}` }]);
  t.after(() => prom.stop());

  const subjects = `subjects:
  - name: queue
    members: [web]
    group: {}
    interval: 250ms
    promql:
      - { id: backlog, expr: "lab_queue_depth > 10", for: 1s, cause: performance_degraded, description: the job queue drains }
`;
  const run = await startLab({ noWorker: true, subjects, prometheus: prom.url });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);
  const before = (await run.actions()).length;
  const series = `lab_queue_depth{instance="127.0.0.1:${targetPort}",job="lab",queue="jobs"}`;

  depth = 50;
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'queue'), 20_000, 'a ticket for the subject');
  const shown = await cliJson<Shown>(['tickets', 'show', tk.id], run.lab.configPath);
  assert.equal(shown.cause, 'performance_degraded');
  assert.deepEqual(shown.findings.map((f) => [f.kind, f.invariant, f.reason, f.value]), [
    ['invariant_violated', 'backlog', `backlog: firing (1 series for 1s or more): ${series} 50`, 50],
  ]);
  const open = await waitFor(async () => { const s = await cliJson<Shown>(['tickets', 'show', tk.id], run.lab.configPath); return s.status === 'open' && s.reason ? s : null; }, 10_000, 'the ticket open with its reason');
  assert.match(open.reason ?? '', /^no automatic repair for PromQL invariant backlog: open until it clears/);
  const text = await cli(['tickets', 'show', tk.id], { config: run.lab.configPath });
  assert.ok(text.stdout.includes(`invariant:backlog`), text.stdout);

  depth = 3;
  const done = await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved'), 20_000, 'the ticket resolved');
  assert.match(done.reason ?? '', /^recovered without action; healthy for \d+ ms$/);
  assert.equal((await run.actions()).length, before, 'nothing was done to web for a query');
  assert.equal((await run.tickets()).filter((x) => x.service === 'queue').length, 1);
});
