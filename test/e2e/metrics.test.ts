// The metrics people graph, scraped from the real daemon's /metrics with the bearer token while a
// real process is killed and repaired: per service, per check and about the agent itself.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { cli, morePasses, startLab, waitFor } from './harness.js';

/** The value of one series (exact name and labels), or undefined when it has no sample. */
function sample(text: string, series: string): number | undefined {
  const l = text.split('\n').find((x) => x.startsWith(`${series} `));
  return l === undefined ? undefined : Number(l.slice(series.length + 1));
}

test('metrics: health 0 then 1, restarts, last repair, tickets by cause, checks, frozen, reload, notify failures', async (t) => {
  const port = await freePort();
  const deadHook = await freePort(); // nothing listens there: every notification fails
  const tokenFile = join(tmpdir(), `warden-token-metrics-${port}`);
  writeFileSync(tokenFile, 'm3trics-token\n', { mode: 0o600 });
  t.after(() => rmSync(tokenFile, { force: true }));
  // A short ttl: a notification is counted as failed when the outbox gives up on it.
  const run = await startLab({ noWorker: true, api: { port, tokenFile }, notify: `notify:\n  - name: hook\n    webhook: { url: "http://127.0.0.1:${deadHook}/hook" }\n    ttl: 2s` });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);
  const scrape = async (): Promise<string> => {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: 'Bearer m3trics-token' } });
    assert.equal(r.status, 200);
    return r.text();
  };
  const until = (what: string, ok: (text: string) => boolean, ms = 15_000): Promise<string> =>
    waitFor(async () => { const text = await scrape(); return ok(text) ? text : undefined; }, ms, what);

  const web = 'warden_service_healthy{service="web",host="local"}';
  let text = await until('web healthy in metrics', (x) => sample(x, web) === 1);
  assert.equal(sample(text, 'warden_frozen'), 0);
  assert.equal(sample(text, 'warden_service_restarts_total{service="web"}'), 0);
  assert.equal(sample(text, 'warden_config_last_reload_successful'), 1);
  assert.equal(sample(text, 'warden_tickets_opened_total{cause="process_exited"}'), 0);
  assert.match(text, /^warden_build_info\{version="\d+\.\d+\.\d+[^"]*",node="v\d+\.[^"]+"\} 1$/m);
  assert.match(text, /^process_resident_memory_bytes \d+/m, 'default metrics keep their names');
  assert.equal(sample(text, 'warden_check_success{service="web",check="healthz"}'), 1);
  for (const by of ['rule', 'tier', 'limit', 'window', 'blast_radius', 'freeze', 'approval_expired', 'cooldown', 'concurrency', 'invalid', 'mode']) {
    assert.equal(sample(text, `warden_actions_blocked_total{by="${by}"}`), 0, `blocked by ${by} starts at 0`);
  }
  assert.ok((sample(text, 'warden_check_latency_seconds{service="web",check="healthz"}') ?? -1) >= 0);
  // agent.online went to a webhook nobody serves: after its retries it counts as a failure.
  await until('a notification failure counted', (x) => (sample(x, 'warden_notify_failures_total{channel="hook"}') ?? 0) >= 1);

  // Frozen, the kill leaves web down: its health reads 0 for as long as a scrape needs.
  assert.equal((await cli(['freeze', '--reason', 'metrics test'], { config: run.lab.configPath })).code, 0);
  await until('frozen in metrics', (x) => sample(x, 'warden_frozen') === 1);
  const killedAt = Date.now();
  process.kill(run.pid('web'), 'SIGKILL');
  text = await until('web down, its ticket diagnosed', (x) => sample(x, web) === 0
    && sample(x, 'warden_tickets_opened_total{cause="process_exited"}') === 1
    && sample(x, 'warden_check_success{service="web",check="healthz"}') === 0);
  assert.equal(sample(text, 'warden_service_restarts_total{service="web"}'), 0, 'nothing ran while frozen');
  assert.equal(sample(text, 'warden_service_last_repair_timestamp_seconds{service="web"}'), undefined);
  // The repair the freeze holds back is one blocked action, however many passes it waits.
  await morePasses(run.lab.configPath, 3);
  assert.equal(sample(await scrape(), 'warden_actions_blocked_total{by="freeze"}'), 1, 'counted once, not once per pass');

  assert.equal((await cli(['unfreeze'], { config: run.lab.configPath })).code, 0);
  await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'resolved'), 15_000, 'web repaired');
  text = await until('web healthy again', (x) => sample(x, web) === 1 && sample(x, 'warden_check_success{service="web",check="healthz"}') === 1);
  assert.equal(sample(text, 'warden_frozen'), 0);
  assert.equal(sample(text, 'warden_service_restarts_total{service="web"}'), 1);
  assert.equal(sample(text, 'warden_service_restarts_total{service="cache"}'), 0);
  const repairedAt = sample(text, 'warden_service_last_repair_timestamp_seconds{service="web"}') ?? 0;
  assert.ok(repairedAt * 1000 >= killedAt && repairedAt * 1000 <= Date.now(), `last repair ${repairedAt} after the kill at ${killedAt / 1000}`);
  assert.equal(sample(text, 'warden_tickets_opened_total{cause="process_exited"}'), 1, 'one occurrence, counted once');
  assert.equal(sample(text, 'warden_actions_total{type="restart",outcome="completed"}'), 1);

  // A config that does not validate is rejected on SIGHUP: the gauge says so.
  writeFileSync(run.lab.configPath, 'version: 1\nagent: [not, a, mapping]\n');
  run.daemon.proc!.kill('SIGHUP');
  await until('the rejected reload in metrics', (x) => sample(x, 'warden_config_last_reload_successful') === 0);
});
