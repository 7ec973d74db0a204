// Guardrails that hold (issue 12 point 4), on the real daemon against real processes: a rate limit
// counted across a restart of the daemon, a maintenance window that defers a repair to its end, and
// a policy file broken while the daemon runs, which blocks every action and says why until fixed.
// Each refusal shows in warden_actions_blocked_total once. "Nothing happened" is proved by waiting
// for completed passes, never by sleeping.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { cli, cliJson, Daemon, morePasses, startLab, statusJson, waitFor, type LabRun } from './harness.js';

interface Action { id: string; ticketId: string | null; type: string; target: string; state: string; startedAt: string | null }

const TOKEN = 'guardrails-token';

/** An API for /metrics: its port and a 0600 token file, removed after the test. */
async function api(t: { after: (fn: () => void) => void }): Promise<{ port: number; tokenFile: string }> {
  const port = await freePort();
  const tokenFile = join(tmpdir(), `warden-guardrails-${port}.token`);
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  t.after(() => rmSync(tokenFile, { force: true }));
  return { port, tokenFile };
}

/** warden_actions_blocked_total{by} as the daemon serves it now. */
async function blocked(port: number, by: string): Promise<number | undefined> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const series = `warden_actions_blocked_total{by="${by}"} `;
  const line = (await r.text()).split('\n').find((l) => l.startsWith(series));
  return line === undefined ? undefined : Number(line.slice(series.length));
}

const actions = (run: LabRun): Promise<Action[]> => cliJson<Action[]>(['actions', 'list', '--limit', '1000'], run.lab.configPath);
/** Restarts of `target`, but those in `before` (a slow start on a loaded machine may have asked for one). */
const restartsOf = async (run: LabRun, target: string, before: ReadonlySet<string> = new Set()): Promise<Action[]> =>
  (await actions(run)).filter((a) => a.type === 'restart' && a.target === target && !before.has(a.id));
const ids = async (run: LabRun): Promise<Set<string>> => new Set((await actions(run)).map((a) => a.id));

const POLICY = (extra: string): string => `policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart]
${extra}`;

test('a rate limit holds across a daemon restart: the third failure within the hour is refused and the ticket names the limit', async (t) => {
  const { port, tokenFile } = await api(t);
  const run = await startLab({ noWorker: true, api: { port, tokenFile }, policy: POLICY('  limits:\n    - { action: restart, per: service, max: 2, window: 1h }') });
  t.after(() => run.cleanup());
  // Three kills in a minute would read as a crash loop (escalated for that reason): the limit must say it.
  writeFileSync(run.lab.configPath, readFileSync(run.lab.configPath, 'utf8').replace('crashLoop: { exits: 3, window: 60s }', 'crashLoop: { exits: 10, window: 60s }'));
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  // Every restart of web counts (one a slow start asked for, too): kills use up what is left.
  const done = async (): Promise<number> => (await restartsOf(run, 'web')).filter((a) => a.state === 'completed').length;
  for (let used = await done(); used < 2; used = await done()) {
    process.kill(run.pid('web'), 'SIGKILL');
    await waitFor(async () => (await done()) > used, 20_000, `restart ${used + 1} of web done`);
    await run.waitSettled(['cache', 'web']);
  }

  await run.daemon.stop();
  const again = new Daemon(run.lab.configPath, [], {});
  run.daemon = again;
  await again.start();
  await run.waitHealthy(['cache', 'web']);
  assert.equal(await blocked(port, 'limit'), 0, 'a new daemon, a counter from zero');
  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'escalated'), 20_000, 'the third failure refused');
  assert.match(tk.reason ?? '', /limit reached: restart at most 2 per 1h on web \(2 used\); leaving web alone/);
  await morePasses(run.lab.configPath, 3);
  assert.equal((await restartsOf(run, 'web')).length, 2, 'no third restart');
  assert.throws(() => run.pid('web'), 'web stays down');
  assert.equal(await blocked(port, 'limit'), 1, 'the refusal counted once');
  const explained = await cliJson<{ decisions: { kind: string; checks: { kind: string; name: string; verdict: string }[] }[] }>(['policy', 'explain', tk.id], run.lab.configPath);
  const refusal = explained.decisions.find((d) => d.kind === 'policy.limit_reached');
  assert.deepEqual(refusal?.checks.filter((c) => c.verdict === 'block').map((c) => [c.kind, c.name]), [['limit', 'policy.limits[0]']]);
});

test('a maintenance window defers a repair to its end, and the repair runs then', async (t) => {
  const { port, tokenFile } = await api(t);
  const run = await startLab({ noWorker: true, api: { port, tokenFile } });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  const before = await ids(run);
  // A deny window that opened at the top of this minute and closes 15 s from now (the daemon re-reads
  // the policy before every pass: no reload).
  const now = Date.now();
  const opened = new Date(now);
  opened.setUTCSeconds(0, 0);
  const endsAt = now + 15_000;
  const window = `  windows:\n    - { name: release, cron: "${opened.getUTCMinutes()} ${opened.getUTCHours()} * * *", duration: ${endsAt - opened.getTime()}ms, effect: deny, scope: {}, timezone: UTC }`;
  writeFileSync(run.lab.configPath, readFileSync(run.lab.configPath, 'utf8').replace(/policy:[\s\S]*$/, POLICY(window)));
  const check = await cli(['policy', 'check', '--as', 'lab-warden', 'restart', 'web'], { config: run.lab.configPath });
  assert.match(check.stdout, /^refused \(window\): maintenance window release denies acting until/, check.stdout + check.stderr);

  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && /maintenance window/.test(x.reason ?? '')), 10_000, 'the repair deferred');
  const until = /denies acting until (\S+); deferred to its end/.exec(tk.reason ?? '')?.[1];
  assert.equal(until, new Date(endsAt).toISOString(), tk.reason ?? '');
  assert.equal(tk.status, 'open');
  await morePasses(run.lab.configPath, 2);
  assert.deepEqual(await restartsOf(run, 'web', before), [], 'nothing runs inside the window');
  assert.throws(() => run.pid('web'), 'web stays down meanwhile');
  // Read before the window's end, or the check above proved nothing.
  assert.ok(Date.now() < endsAt, 'the passes and reads above ran inside the window (a slower machine needs a longer one)');

  const done = await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved'), 30_000, 'repaired after the window');
  assert.equal(done.cause, 'process_exited');
  const [restart] = await restartsOf(run, 'web', before);
  assert.equal(restart?.state, 'completed');
  assert.ok(Date.parse(restart.startedAt ?? '') >= endsAt, `the restart started at ${restart.startedAt ?? '?'}, after the window's end ${until}`);
  assert.equal(await blocked(port, 'window'), 1, 'one deferred repair, counted once');
});

test('a policy file broken while the daemon runs blocks every action and says why at file:line:col; fixed, the repair runs', async (t) => {
  const { port, tokenFile } = await api(t);
  const run = await startLab({ noWorker: true, api: { port, tokenFile } });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  const before = await ids(run);
  const cfg = run.lab.configPath;
  const good = readFileSync(cfg, 'utf8');
  const typo = good.replace('allow: [start, restart]', 'allow: [start, restrat]');
  assert.notEqual(typo, good);
  writeFileSync(cfg, typo);
  const line = typo.split('\n').findIndex((l) => l.includes('restrat')) + 1;
  const where = new RegExp(`${cfg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}:\\d+: `);

  process.kill(run.pid('web'), 'SIGKILL');
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && /policy invalid/.test(x.reason ?? '')), 10_000, 'the repair blocked');
  assert.equal(tk.status, 'open');
  assert.match(tk.reason ?? '', where);
  assert.match(tk.reason ?? '', /no action until it validates/);
  await morePasses(cfg, 3);
  assert.deepEqual(await restartsOf(run, 'web', before), [], 'nothing acts on a policy that does not validate');
  assert.throws(() => run.pid('web'), 'web stays down');

  const { status } = await statusJson<{ configError?: string }>(cfg);
  assert.match(status.configError ?? '', where, JSON.stringify(status));
  const text = await cli(['status'], { config: cfg });
  assert.match(text.stdout, /CONFIG BROKEN: .*; Warden takes no action until it validates/);
  const explained = await cliJson<{ decisions: { kind: string; reason: string; checks: { kind: string; verdict: string; detail: string }[] }[] }>(['policy', 'explain', tk.id], cfg);
  const deferred = explained.decisions.filter((d) => d.kind === 'policy.deferred');
  assert.equal(deferred.length, 1, 'audited once, not once per pass');
  assert.match(deferred[0]!.checks.find((c) => c.kind === 'file')?.detail ?? '', where);
  const check = await cli(['policy', 'check', '--as', 'lab-warden', 'restart', 'web'], { config: cfg });
  assert.match(check.stdout, /^refused \(invalid\): policy invalid: /);
  assert.equal(await blocked(port, 'invalid'), 1);

  writeFileSync(cfg, good);
  const done = await waitFor(async () => (await run.tickets()).find((x) => x.id === tk.id && x.status === 'resolved'), 20_000, 'repaired once the file validates');
  assert.equal(done.cause, 'process_exited');
  assert.deepEqual((await restartsOf(run, 'web', before)).map((a) => a.state), ['completed']);
});
