// The daemon's HTTP API over real HTTP: /healthz without a token, everything else behind the
// bearer token, metrics in Prometheus text, and `warden debug` showing the very bundle the
// diagnostics endpoint serves.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { cli, startLab, waitFor } from './harness.js';

/** Drops what is sampled live and so differs between two requests (time, counters, R/S state). */
function stable(bundle: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(bundle, function (this: Record<string, unknown>, k, v: unknown) {
    if (['generatedAt', 'last', 'consecutiveSuccesses', 'consecutiveFailures'].includes(k)) return undefined;
    if (k === 'state' && 'pid' in this) return undefined; // the process's scheduler state letter
    // Evidence texts carry the same live readings (state letter, load, free memory); the ids do not.
    if (k === 'evidence') return (v as { id: string }[]).map((p) => p.id);
    return v;
  }));
}

test('HTTP API: token, healthz, status, tickets, metrics, diagnostics equal to warden debug', async (t) => {
  const port = await freePort();
  const tokenFile = join(await import('node:os').then((o) => o.tmpdir()), `warden-token-${port}`);
  writeFileSync(tokenFile, 's3cret-token\n', { mode: 0o600 });
  t.after(() => rmSync(tokenFile, { force: true }));
  const run = await startLab({ noWorker: true, api: { port, tokenFile } });
  t.after(() => run.cleanup());
  await run.daemon.start();
  assert.doesNotMatch(run.daemon.output, /s3cret/, 'the token is never printed');
  await run.waitHealthy(['cache', 'web']);
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: 'Bearer s3cret-token' };

  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  for (const path of ['/api/status', '/api/tickets', '/metrics', '/api/services/web/diagnostics']) {
    const r = await fetch(`${base}${path}`);
    assert.equal(r.status, 401, `${path} without a token`);
    assert.equal(r.headers.get('www-authenticate')?.startsWith('Bearer'), true);
    const wrong = await fetch(`${base}${path}`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401, `${path} with a wrong token`);
  }
  const status = await (await fetch(`${base}/api/status`, { headers: auth })).json() as { summary: string; services: { name: string; health: string }[] };
  assert.deepEqual(status.services.map((s) => `${s.name}:${s.health}`), ['cache:healthy', 'web:healthy']);

  process.kill(run.pid('web'), 'SIGKILL');
  await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'resolved'), 15_000, 'web repaired');
  const tickets = await (await fetch(`${base}/api/tickets?all=true`, { headers: auth })).json() as { service: string; status: string }[];
  assert.ok(tickets.some((x) => x.service === 'web' && x.status === 'resolved'));
  const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
  for (const name of ['warden_pass_duration_seconds', 'warden_tickets', 'warden_actions_total', 'warden_time_to_detect_seconds', 'warden_time_to_recover_seconds']) {
    assert.match(metrics, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
  assert.match(metrics, /^warden_actions_total\{type="restart",outcome="completed"\} 1$/m);
  assert.match(metrics, /^warden_time_to_detect_seconds_count 1$/m);

  const api = await (await fetch(`${base}/api/services/web/diagnostics`, { headers: auth })).json() as Record<string, unknown>;
  const dbg = await cli(['debug', 'web', '--json'], { config: run.lab.configPath });
  assert.equal(dbg.code, 0, dbg.stderr);
  const viaCli = JSON.parse(dbg.stdout) as Record<string, unknown>;
  assert.deepEqual(stable(viaCli), stable(api), 'warden debug and the endpoint return the same bundle');
  const b = api as { restarts: number; lastExit: { signal: string; at: string }; log: string[]; checks: { id: string; healthy: boolean }[]; evidence: { id: string; kind: string; text: string }[]; actions: { id: string; type: string }[] };
  assert.equal(b.restarts, 1);
  // The evidence pieces, under the ids a diagnosis cites them by: the process, its exit, its check,
  // its place in the graph, its log lines, the restart, and the host.
  const ids = b.evidence.map((p) => p.id);
  const restart = b.actions.find((a) => a.type === 'restart')!;
  for (const id of ['process:web', `exit:web:${Date.parse(b.lastExit.at)}`, 'check:web:healthz', 'graph:web', 'log:web:0', `action:${restart.id}`, 'host:local:load']) {
    assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
  }
  assert.equal(b.evidence.filter((p) => p.kind === 'log').length, b.log.length, 'one piece per log line');
  // A person follows each citation of `warden explain` to the piece `warden debug` lists.
  const repaired = tickets.find((x) => x.service === 'web' && x.status === 'resolved') as unknown as { id: string };
  const explained = await cli(['explain', repaired.id, '--json'], { config: run.lab.configPath });
  assert.equal(explained.code, 0, explained.stderr);
  const cited = (JSON.parse(explained.stdout) as { evidence: { piece?: string }[] }).evidence.flatMap((e) => (e.piece ? [e.piece] : []));
  assert.ok(cited.includes('process:web') && cited.some((c) => c.startsWith('exit:web:')), cited.join(', '));
  for (const piece of cited) assert.ok(ids.includes(piece), `${piece}, cited by ${repaired.id}, is in warden debug web: ${ids.join(', ')}`);
  assert.equal(b.lastExit.signal, 'SIGKILL');
  assert.ok(b.log.some((l) => l.includes('web listening')));
  assert.deepEqual(b.checks.map((c) => [c.id, c.healthy]), [['healthz', true]]);
  const missing = await fetch(`${base}/api/services/nope/diagnostics`, { headers: auth });
  assert.equal(missing.status, 404);

  // A wedged daemon stops answering /healthz 200: SIGSTOP it and the probe times out.
  run.daemon.proc!.kill('SIGSTOP');
  const wedged = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(500) }).then((r) => r.status, () => 'no answer');
  run.daemon.proc!.kill('SIGCONT');
  assert.equal(wedged, 'no answer');
});
