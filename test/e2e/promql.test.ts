// A PromQL check through the real daemon and a real Prometheus: Prometheus scrapes a metric this
// test serves and Warden's own /metrics; a lab service whose check is `lab_queue_depth > 10` for
// 1s gets a ticket once the depth has stayed high that long, and the ticket resolves when it drops.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { startPrometheus } from '../../src/demo/prometheus.js';
import { promql } from '../../src/probes/promql/promql.js';
import { cli, startLab, waitFor } from './harness.js';

interface Debug { checks: { id: string; last: { ok: boolean; message: string; value?: Record<string, number> } | null }[] }

test('a promql check with for: fires through the daemon, its samples in the evidence, and clears', async (t) => {
  let depth = 3;
  const target = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`# TYPE lab_queue_depth gauge\nlab_queue_depth{queue="jobs"} ${depth}\n`);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  t.after(() => { target.closeAllConnections(); target.close(); });
  const targetPort = (target.address() as { port: number }).port;

  // Warden's API, so Prometheus scrapes Warden's own figures with the token, as a user would.
  const apiPort = await freePort();
  const tokenFile = join(tmpdir(), `warden-token-${apiPort}`);
  writeFileSync(tokenFile, 'promql-e2e-token\n', { mode: 0o600 });
  t.after(() => rmSync(tokenFile, { force: true }));
  const prom = await startPrometheus([
    { job: 'lab', address: `127.0.0.1:${targetPort}` },
    { job: 'warden', address: `127.0.0.1:${apiPort}`, tokenFile },
  ]);
  t.after(() => prom.stop());

  const consumer = `  - name: consumer
    start: [node, -e, "setInterval(() => {}, 1000)"]
    checks:
      - name: backlog
        promql: { url: "${prom.url}", expr: "lab_queue_depth > 10", for: 1s }
        interval: 250ms
        timeout: 200ms
        failures: 1
`;
  // A restart cannot drain a queue: a person is asked, and the problem goes away before they answer.
  const policy = `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart]
    - match: { service: consumer }
      allow: [restart]
      approval: required`;
  const run = await startLab({ noWorker: true, api: { port: apiPort, tokenFile }, extraServices: consumer, policy });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web', 'consumer']);
  const series = `lab_queue_depth{instance="127.0.0.1:${targetPort}",job="lab",queue="jobs"}`;

  depth = 50;
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'consumer' && x.status === 'awaiting_approval'), 20_000, 'a consumer ticket awaiting approval');
  const shown = await cli(['tickets', 'show', tk.id], { config: run.lab.configPath });
  assert.equal(shown.code, 0, shown.stderr);
  assert.ok(shown.stdout.includes(`[check:backlog] 1 consecutive failure(s): firing (1 series for 1s or more): ${series} 50`), shown.stdout);
  const debug = await cli(['debug', 'consumer', '--json'], { config: run.lab.configPath });
  const backlog = (JSON.parse(debug.stdout) as Debug).checks.find((c) => c.id === 'backlog');
  assert.deepEqual(backlog?.last?.value, { [series]: 50 });

  // Warden's own figures, scraped by the same Prometheus, read by the same probe.
  const own = { type: 'promql' as const, url: prom.url, expr: 'warden_service_healthy{job="warden",service="consumer"} == 0', forMs: 0 };
  const seen = await waitFor(async () => { const r = await promql(own, 1000); return r.ok ? null : r; }, 15_000, "Warden's metric in Prometheus");
  assert.match(seen.message, /^firing \(1 series\): warden_service_healthy\{host="local",instance="127\.0\.0\.1:\d+",job="warden",service="consumer"\} 0$/);

  depth = 3;
  const done = await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved'), 20_000, 'the ticket resolved');
  assert.equal(done.reason, 'recovered before approval');
  await run.waitHealthy(['consumer']);
  const acts = (await run.actions()).filter((a) => a.target === 'consumer');
  assert.deepEqual(acts.map((a) => `${a.type} ${a.state}`).sort(), ['restart cancelled', 'start completed'], 'nothing ran but the first start');
});
