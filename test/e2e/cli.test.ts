// The command line as a new user meets it: init, validate, broken YAML, reconcile --once, the demo,
// and the audit chain refusing a tampered record.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, startLab } from './harness.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('init writes a commented config that validates; init refuses to overwrite', async (t) => {
  const dir = tmp(t);
  const r = await cli(['init'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const v = await cli(['validate'], { cwd: dir });
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /ok — agent/);
  const again = await cli(['init'], { cwd: dir });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists; use --force/);
});

test('broken YAML: file:line:col errors, non-zero exit, nothing created', async (t) => {
  const dir = tmp(t);
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, [
    'version: 1',
    'agent:',
    '  name: otto',
    '  mode: exec',
    '  dataDir: ./state',
    'services:',
    '  - name: api',
    '    start: node api.js',
    '    dependsOn: [nope]',
    '    checks:',
    '      - http: { url: "http://127.0.0.1:1/" }',
    '        interval: 5',
    '',
  ].join('\n'));
  for (const cmd of [['validate'], ['run'], ['reconcile', '--once']]) {
    const r = await cli(cmd, { cwd: dir });
    assert.equal(r.code, 2, `${cmd.join(' ')} exits 2`);
    assert.match(r.stderr, /warden\.yaml:4:9: agent\.mode: expected one of observe \| recommend \| execute, got "exec"/);
    assert.match(r.stderr, /warden\.yaml:8:12: .*start.*argv list/);
    assert.match(r.stderr, /warden\.yaml:9:17: .*nope/);
    assert.match(r.stderr, /warden\.yaml:12:19: .*duration/);
  }
  assert.deepEqual(readdirSync(dir), ['warden.yaml'], 'no data directory, no store, nothing else');

  writeFileSync(file, 'version: 1\nagent:\n  name: "otto\n');
  const syn = await cli(['validate'], { cwd: dir });
  assert.equal(syn.code, 2);
  assert.match(syn.stderr, /warden\.yaml:3:9: /);
});

test('reconcile --once is recommendation-only and repeatable', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  const a = await cli(['reconcile', '--once', '--json'], { config: run.lab.configPath });
  assert.equal(a.code, 0, a.stderr);
  const report = JSON.parse(a.stdout) as { summary: string; recommendations: { event: string; action: string; target: string }[] };
  assert.deepEqual(report.recommendations.map((r) => `${r.event} ${r.action} ${r.target}`), ['reconcile_required start cache', 'reconcile_blocked start web']);
  const b = await cli(['reconcile', '--once', '--json'], { config: run.lab.configPath });
  assert.equal(b.stdout, a.stdout, 'same world, same report');
  assert.equal(existsSync(join(run.lab.dir, 'data')), false, 'changed nothing: no data directory');

  // With the lab running and web killed (daemon stopped so nothing repairs it), the report names the problem.
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  await run.daemon.stop();
  process.kill(run.pid('cache'), 'SIGKILL');
  const c = await cli(['reconcile', '--once', '--json'], { config: run.lab.configPath });
  const r2 = JSON.parse(c.stdout) as { summary: string; findings: { kind: string; service: string; dependencyDown?: string }[]; recommendations: { event: string; action: string | null; target: string }[] };
  assert.equal(r2.summary, 'degraded');
  assert.deepEqual(r2.findings.map((f) => `${f.service} ${f.kind}`), ['cache missing_service', 'web unhealthy_service']);
  assert.equal(r2.findings[1]!.dependencyDown, 'cache');
  assert.deepEqual(r2.recommendations.map((r) => `${r.event} ${r.action} ${r.target}`), ['reconcile_blocked null web', 'reconcile_required restart cache']);
  const d = await cli(['reconcile', '--once', '--json'], { config: run.lab.configPath });
  assert.equal(d.stdout, c.stdout);
});

test('audit verify fails after any single record is altered, deleted or reordered', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);
  assert.equal((await cli(['freeze', '--reason', 'e2e'], { config: run.lab.configPath })).code, 0);
  await run.daemon.stop();
  const db = join(run.lab.dir, 'data', 'warden.db');
  const ok = await cli(['audit', 'verify'], { config: run.lab.configPath });
  assert.equal(ok.code, 0, ok.stderr);
  const count = Number(/(\d+) records/.exec(ok.stdout)?.[1]);
  assert.ok(count >= 5);

  const tamper = async (sql: (d: Database.Database) => void, expect: RegExp): Promise<void> => {
    const copy = join(run.lab.dir, 'pristine.db');
    const raw = new Database(db);
    raw.exec(`VACUUM INTO '${copy}'`);
    for (const trig of raw.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[]) raw.exec(`DROP TRIGGER ${trig.name}`);
    sql(raw);
    raw.close();
    const r = await cli(['audit', 'verify'], { config: run.lab.configPath });
    assert.equal(r.code, 1, 'verify exits non-zero');
    assert.match(r.stdout, expect);
    rmSync(db, { force: true }); rmSync(`${db}-wal`, { force: true }); rmSync(`${db}-shm`, { force: true });
    const back = new Database(copy);
    back.exec(`VACUUM INTO '${db}'`);
    back.close();
    rmSync(copy);
  };
  const table = 'audit';
  await tamper((d) => d.prepare(`UPDATE ${table} SET data = '{"forged":true}' WHERE seq = 2`).run(), /record 2/);
  await tamper((d) => d.prepare(`UPDATE ${table} SET actor = 'mallory' WHERE seq = 3`).run(), /record 3/);
  await tamper((d) => d.prepare(`DELETE FROM ${table} WHERE seq = 3`).run(), /3/);
  await tamper((d) => d.prepare(`DELETE FROM ${table} WHERE seq = (SELECT max(seq) FROM ${table})`).run(), /removed from the end|head/);
  // The chain also vouches for the state it describes: the kill switch or an action edited by hand.
  await tamper((d) => d.prepare(`DELETE FROM flags WHERE key = 'frozen'`).run(), /kill switch \(flag "frozen"\) is not set, but record \d+ set it/);
  await tamper((d) => d.prepare(`UPDATE actions SET state = 'failed', json = json_set(json, '$.state', 'failed') WHERE id = 'A1'`).run(), /action A1: state is "failed" but the audit chain recorded "completed"/);
  const back = await cli(['audit', 'verify'], { config: run.lab.configPath });
  assert.equal(back.code, 0, 'the restored copy verifies again');
});

test('npm run demo: every fault handled, table printed, exit 0', { timeout: 120_000 }, async () => {
  const r = await cli(['demo'], { timeoutMs: 110_000 });
  assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr);
  assert.match(r.stdout, /kill -9 web .*│ ok: resolved/);
  assert.match(r.stdout, /SIGSTOP web \(hang\) .*web: process_hung .*│ ok: resolved/);
  assert.match(r.stdout, /kill -9 cache \(dependency\) .*cache: process_exited .*restart cache .*│ ok: resolved/);
  assert.match(r.stdout, /crash loop worker .*worker: crash_loop .*│ ok: escalated/);
  assert.match(r.stdout, /4\/4 faults handled as expected/);
});

test('warden demo ratelimiter: Redis killed, drift, ghost allowing — each handled, exit 0', { timeout: 150_000 }, async () => {
  const r = await cli(['demo', 'ratelimiter'], { timeoutMs: 140_000 });
  assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr);
  assert.match(r.stdout, /kill -9 redis .*redis: dependency_down .*restart redis .*│ ok: resolved/);
  assert.match(r.stdout, /stale cache on n3 \(drift\) .*limiter: data_inconsistency .*ratelimiter\.flush n3 .*│ ok: resolved/);
  assert.match(r.stdout, /n1 allows 15, not 5 \(ghost\) .*ratelimiter\.set-limit n1 .*│ ok: resolved/);
  assert.match(r.stdout, /3\/3 faults handled as expected/);
});

test('warden demo etcd: leader, quorum, partition, NOSPACE — each handled, exit 0', { timeout: 200_000, skip: process.env.WARDEN_SKIP_ETCD === '1' ? 'WARDEN_SKIP_ETCD=1 is set' : false }, async () => {
  const r = await cli(['demo', 'etcd'], { timeoutMs: 190_000 });
  assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr);
  assert.match(r.stdout, /kill -9 the leader .*cluster: leader_lost .*│ ok: resolved/);
  assert.match(r.stdout, /kill -9 two of three .*cluster: quorum_lost .*│ ok: resolved/);
  assert.match(r.stdout, /partition a follower .*cluster: network_partition .*│ none .*│ ok: resolved/);
  assert.match(r.stdout, /NOSPACE \(4 MiB quota\) .*cluster: resource_exhausted .*etcd\.disarm .*│ ok: resolved/);
  assert.match(r.stdout, /4\/4 faults handled as expected/);
});

test('warden demo with an unknown scenario says which exist, exit 2', async () => {
  const r = await cli(['demo', 'etdc']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown demo scenario "etdc" \(did you mean "etcd"\?\); scenarios are: default, etcd, fleet, ratelimiter/);
});
