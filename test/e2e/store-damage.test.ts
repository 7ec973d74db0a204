// A damaged store is never read as empty: each kind of damage, made for real on the files of a
// store the real daemon wrote, makes `warden run` refuse to start, naming the file, what is wrong
// and what to do; `warden store recover` then salvages what can be read and the daemon starts on it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cli, cliJson, Daemon, statusJson, waitFor, WARDEN } from './harness.js';

interface Setup { dir: string; config: string; dataDir: string; db: string }

/** A data directory with history: a process Warden started (an action), a freeze, audit records. */
async function withHistory(t: { after: (fn: () => void) => void }, name = 'a'): Promise<Setup & { daemon: Daemon }> {
  const dir = mkdtempSync(join(tmpdir(), `warden-damage-${name}-`));
  const dataDir = join(dir, 'data');
  const config = join(dir, 'warden.yaml');
  writeFileSync(config, `version: 1
agent:
  name: damage-${name}
  mode: execute
  dataDir: ${dataDir}
  interval: 200ms
services:
  - name: sleeper
    kind: process
    start: [sleep, "1000"]
`);
  const daemon = new Daemon(config);
  let sleeper: number | null = null;
  t.after(() => {
    daemon.proc?.kill('SIGKILL');
    // Services outlive the daemon: the one this test started goes with the test.
    if (sleeper !== null) process.kill(sleeper, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await daemon.start();
  sleeper = await waitFor(async () => (await statusJson<{ services: { pid: number | null }[] }>(config)).status.services[0]?.pid, 15_000, 'sleeper started');
  const frozen = await cli(['freeze', '--reason', 'history'], { config });
  assert.equal(frozen.code, 0, frozen.stderr);
  return { dir, config, dataDir, db: join(dataDir, 'warden.db'), daemon };
}

/** `warden run`: its exit code and output, or `online` when it started (then it is stopped). */
function run(config: string): Promise<{ online: boolean; code: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(WARDEN, ['--config', config, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const seen = (d: Buffer): void => {
      output += d.toString();
      if (output.includes('online:')) p.kill('SIGTERM');
    };
    p.stdout.on('data', seen);
    p.stderr.on('data', seen);
    p.on('exit', (code) => resolve({ online: output.includes('online:'), code, output }));
  });
}

async function refused(s: Setup, file: RegExp, what: RegExp): Promise<string> {
  const r = await run(s.config);
  assert.equal(r.online, false, `must not start on a damaged store:\n${r.output}`);
  assert.notEqual(r.code, 0);
  assert.match(r.output, file, 'names the file');
  assert.match(r.output, what, 'says what is wrong');
  assert.match(r.output, /warden store recover/, 'says what to do');
  assert.match(r.output, /backup/, 'says what to do');
  // Read commands say the same, rather than showing an empty store.
  const st = await cli(['status'], { config: s.config });
  assert.notEqual(st.code, 0);
  assert.match(st.stderr, file);
  return r.output;
}

/** Overwrites one page of the database file with garbage. */
function smashPage(db: string, page: number, pageSize: number): void {
  const fd = openSync(db, 'r+');
  try {
    writeSync(fd, randomBytes(pageSize), 0, pageSize, (page - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
}

async function recoverAndStart(s: Setup): Promise<{ report: { source: string; tables: { table: string; copied: number; lost: number }[] } }> {
  const r = await cli(['store', 'recover', '--json'], { config: s.config });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { source: string; tables: { table: string; copied: number; lost: number }[]; movedAside: string[] };
  for (const f of report.movedAside) assert.ok(existsSync(f), `${f} kept`);
  const d = new Daemon(s.config);
  await d.start();
  await d.stop();
  return { report };
}

test('a 0-byte database is refused, not started fresh; recover gives a store that starts', async (t) => {
  const s = await withHistory(t);
  await s.daemon.stop();
  truncateSync(s.db, 0);
  await refused(s, new RegExp(s.db), /empty/);
  await recoverAndStart(s);
});

test('a database deleted while its WAL exists is refused; recover salvages the history from the WAL', async (t) => {
  const s = await withHistory(t);
  await s.daemon.signal('SIGKILL');
  assert.ok(existsSync(`${s.db}-wal`), 'a WAL is left by kill -9');
  rmSync(s.db);
  await refused(s, new RegExp(s.db), /missing/);
  await recoverAndStart(s);
  const audit = await cliJson<{ kind: string }[]>(['audit', 'list', '--limit', '1000'], s.config);
  assert.ok(audit.some((r) => r.kind === 'agent.frozen'), 'history salvaged from the WAL');
});

test('a garbage page in the actions table is refused at start; recover keeps the rest, reports what was lost', async (t) => {
  const s = await withHistory(t);
  await s.daemon.stop();
  const db = new Database(s.db, { readonly: true });
  const { rootpage } = db.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'actions'`).get() as { rootpage: number };
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  smashPage(s.db, rootpage, pageSize);
  await refused(s, new RegExp(s.db), /corrupt|quick_check/);
  const { report } = await recoverAndStart(s);
  const actions = report.tables.find((x) => x.table === 'actions')!;
  assert.ok(actions.lost > 0, 'the unreadable action rows are reported lost');
  const audit = report.tables.find((x) => x.table === 'audit')!;
  assert.equal(audit.lost, 0);
  assert.ok(audit.copied > 0);
  const st = await cliJson<{ frozen: boolean }>(['status'], s.config).catch(() => null);
  if (st) assert.equal(st.frozen, true, 'the kill switch survives recovery');
});

test('a WAL from another store is refused', async (t) => {
  const a = await withHistory(t, 'a');
  const b = await withHistory(t, 'b');
  await a.daemon.signal('SIGKILL');
  await b.daemon.signal('SIGKILL');
  copyFileSync(`${b.db}-wal`, `${a.db}-wal`);
  rmSync(`${a.db}-shm`, { force: true });
  await refused(a, new RegExp(`${a.db}-wal`), /another store|does not belong/);
  const { report } = await recoverAndStart(a);
  assert.match(report.source, /WAL was left out: .*another store/, 'the other store\'s WAL is not salvaged into this one');
});

test('a schema version newer than this Warden is refused', async (t) => {
  const s = await withHistory(t);
  await s.daemon.stop();
  const db = new Database(s.db);
  db.prepare(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)`).run();
  db.close();
  const r = await run(s.config);
  assert.equal(r.online, false);
  assert.notEqual(r.code, 0);
  assert.match(r.output, new RegExp(s.db));
  assert.match(r.output, /schema version 99 is newer/);
  assert.match(r.output, /upgrade Warden/);
});

test('a brand-new data directory starts cleanly, and a deleted data directory starts fresh', async (t) => {
  const s = await withHistory(t);
  await s.daemon.stop();
  assert.ok(readdirSync(s.dataDir).includes('store.id'), 'the store marks its data directory');
  rmSync(s.dataDir, { recursive: true });
  const r = await run(s.config);
  assert.equal(r.online, true, r.output);
});

test('store backup copies a consistent store while the daemon runs', async (t) => {
  const s = await withHistory(t);
  const file = join(s.dir, 'backup.db');
  const r = await cli(['store', 'backup', file], { config: s.config });
  assert.equal(r.code, 0, r.stderr);
  const db = new Database(file, { readonly: true });
  assert.deepEqual(db.pragma('quick_check'), [{ quick_check: 'ok' }]);
  assert.ok((db.prepare(`SELECT count(*) AS n FROM audit WHERE kind = 'agent.frozen'`).get() as { n: number }).n === 1);
  db.close();
  await s.daemon.stop();
});
