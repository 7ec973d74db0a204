// Issue 8 point 3: corruption found while the daemon runs stops acting and keeps observing. The
// store the real daemon writes is damaged under it (a page of the tickets table overwritten with
// garbage), a service is killed, and Warden must start nothing while it goes on probing and says
// "store damaged" in status, /healthz, /metrics, debug, the log and one notification; a person's
// command that would act is refused; a restart then refuses the store.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { freePort } from '../../src/demo/lab.js';
import { cli, startLab, startsOf, statusJson, waitFor, WARDEN } from './harness.js';
import { startReceiver } from './receiver.js';

interface Status {
  summary: string;
  daemon: { running: boolean; lastPassAt: string | null; stale?: unknown; storeDamaged?: { since: string | null; reason: string } };
  services: { name: string; health: string; pid: number | null; lastCheckAt: string | null; detail: string }[];
}

const SENTENCE = /^store damaged: \S+\/warden\.db: is corrupt \(SQLITE_CORRUPT[^)]*\); acting stopped; restore a backup or run warden store recover$/;

/**
 * Overwrites one page of the running daemon's store with garbage so that its next read of the page
 * fails: every committed page is moved from the WAL into the database file first (a TRUNCATE
 * checkpoint, so no newer copy of the page is left in the WAL to be read instead), and an outside
 * write changes the WAL afterwards, so the daemon's connection drops its page cache at its next read.
 * `pick` chooses the page (a number, 1-based) from a connection to the store.
 */
function smash(db: string, pick: (c: Database.Database) => number): void {
  const c = new Database(db);
  try {
    for (;;) {
      const [r] = c.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (r?.busy === 0) break;
    }
    const page = pick(c);
    const pageSize = c.pragma('page_size', { simple: true }) as number;
    const fd = openSync(db, 'r+');
    try {
      writeSync(fd, randomBytes(pageSize), 0, pageSize, (page - 1) * pageSize);
    } finally {
      closeSync(fd);
    }
    c.prepare(`INSERT INTO flags (key, value) VALUES ('test:outside-write', '1') ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run();
  } finally {
    c.close();
  }
}

/** The tickets table's root page: with one ticket in it, its only page, which every pass reads. */
function ticketsRoot(c: Database.Database): number {
  return (c.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'tickets'`).get() as { rootpage: number }).rootpage;
}

/**
 * The audit table's first leaf page (its oldest records): no pass reads it again, and appends go to
 * the last leaf, so only a reader of old records (GET /api/events?after=0) finds the damage.
 */
function oldestAuditLeaf(c: Database.Database): number {
  const leaves = c.prepare(`SELECT pageno FROM dbstat WHERE name = 'audit' AND pagetype = 'leaf' ORDER BY path`).all() as { pageno: number }[];
  assert.ok(leaves.length >= 2, `the audit table spans ${leaves.length} leaf page(s); the test needs an old one besides the last`);
  return leaves[0]!.pageno;
}

interface Damage {
  pick: (c: Database.Database) => number;
  /** What makes the daemon read the bad page before web is killed (nothing: the kill's pass does). */
  trigger: (api: { base: string; auth: Record<string, string> }) => Promise<void>;
}

async function latchScenario(t: { after: (fn: () => unknown) => void }, damage: Damage): Promise<void> {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const port = await freePort();
  const tokenFile = join(tmpdir(), `warden-token-latch-${port}`);
  writeFileSync(tokenFile, 'latch-token\n', { mode: 0o600 });
  t.after(() => rmSync(tokenFile, { force: true }));
  const run = await startLab({ noWorker: true, notifyUrl: receiver.url, api: { port, tokenFile } });
  t.after(() => run.cleanup());
  const cfg = run.lab.configPath;
  const dataDir = join(run.lab.dir, 'data');
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: 'Bearer latch-token' };
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  };
  const degraded = (): typeof receiver.events => receiver.events.filter((e) => e.kind === 'agent.degraded');

  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);
  // A repaired incident first: the tickets table then has a row, which every pass reads.
  process.kill(run.pid('web'), 'SIGKILL');
  await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'resolved'), 20_000, 'first web repair');
  await run.waitSettled(['cache', 'web']);
  assert.equal(await metric('warden_store_damaged'), 0);

  const starts = startsOf(dataDir, 'web');
  const outputBefore = run.daemon.output.length;
  smash(join(dataDir, 'warden.db'), damage.pick);
  await damage.trigger({ base, auth });
  process.kill(run.pid('web'), 'SIGKILL');

  // /healthz says it, with the one sentence.
  const sick = await waitFor(async () => {
    const r = await fetch(`${base}/healthz`);
    return r.status === 503 && (await r.json() as { reason: string });
  }, 15_000, '/healthz to say the store is damaged');
  assert.match(sick.reason, SENTENCE);
  const sentence = sick.reason;

  // Observing goes on: passes complete, web is seen down and its check keeps running...
  const passes = await metric('warden_pass_duration_seconds_count');
  const first = await statusJson<Status>(cfg);
  await waitFor(async () => (await metric('warden_pass_duration_seconds_count')) >= passes + 4, 20_000, 'four more passes');
  const later = await waitFor(async () => {
    const s = await statusJson<Status>(cfg);
    const web = s.status.services.find((x) => x.name === 'web')!;
    return web.health !== 'healthy' && web.lastCheckAt !== first.status.services.find((x) => x.name === 'web')!.lastCheckAt && s;
  }, 15_000, 'web seen down, its check still probed');
  // ...and nothing is acted on: web is not started again.
  assert.equal(later.status.services.find((x) => x.name === 'web')!.pid, null, 'web stays down');
  assert.equal(startsOf(dataDir, 'web'), starts, 'no start of web after the damage');
  assert.doesNotMatch(run.daemon.output.slice(outputBefore), /action A\d+ \w+ web: executing/);
  assert.equal(later.status.services.find((x) => x.name === 'cache')!.health, 'healthy', 'healthy services still read healthy');

  // Status (from the daemon's memory, not the damaged store), exit 3 like a daemon that cannot work.
  assert.equal(later.code, 3);
  assert.equal(later.status.daemon.running, true);
  assert.equal(later.status.daemon.storeDamaged?.reason, sentence);
  const human = await cli(['status'], { config: cfg });
  assert.equal(human.code, 3);
  assert.ok(human.stdout.includes(sentence), human.stdout);

  assert.equal(await metric('warden_store_damaged'), 1);
  const debug = await cli(['debug', 'web'], { config: cfg });
  assert.equal(debug.code, 0, debug.stderr);
  assert.ok(debug.stdout.includes(sentence), debug.stdout);
  assert.equal(run.daemon.output.split(sentence).length - 1, 1, 'the log says it once');

  // One notification, with the same sentence; never "recovered" while latched.
  await waitFor(async () => degraded().length === 1, 10_000, 'agent.degraded delivered');
  assert.equal(degraded()[0]!.data.code, 'STORE_DAMAGED');
  assert.equal(degraded()[0]!.data.reason, sentence);

  // A person's command that would act is refused, clearly, and queues nothing.
  const restart = await cli(['restart', 'web'], { config: cfg });
  assert.notEqual(restart.code, 0);
  assert.ok(restart.stderr.includes(sentence), restart.stderr);
  await waitFor(async () => (await metric('warden_pass_duration_seconds_count')) >= passes + 6, 20_000, 'two more passes');
  assert.equal(startsOf(dataDir, 'web'), starts, 'the refused restart did not happen either');
  assert.equal(degraded().length, 1, 'one notification per incident');
  assert.equal(receiver.events.filter((e) => e.kind === 'agent.recovered').length, 0);

  // The latch holds until a restart, and the restart refuses the damaged store.
  await run.daemon.stop();
  const again = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const p = spawn(WARDEN, ['--config', cfg, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const seen = (d: Buffer): void => {
      output += d.toString();
      if (output.includes('online:')) p.kill('SIGTERM');
    };
    p.stdout.on('data', seen);
    p.stderr.on('data', seen);
    p.on('exit', (code) => resolve({ code, output }));
  });
  assert.notEqual(again.code, 0, again.output);
  assert.match(again.output, /warden\.db: is corrupt.*warden store recover/);
}

test('store damaged under a running daemon, found by its own pass: acting stops, observing goes on, everything says so', async (t) => {
  await latchScenario(t, { pick: ticketsRoot, trigger: async () => undefined });
});

test('store damaged where no pass reads, found by an API read: the loop stops acting all the same', async (t) => {
  await latchScenario(t, {
    pick: oldestAuditLeaf,
    async trigger({ base, auth }) {
      // Every audit record from the first: the stream reads the damaged page and ends.
      const ctl = new AbortController();
      const r = await fetch(`${base}/api/events?after=0`, { headers: auth, signal: ctl.signal });
      await waitFor(async () => (await fetch(`${base}/healthz`)).status === 503, 10_000, 'the damage found by the events stream').finally(() => ctl.abort());
      void r.body?.cancel().catch(() => undefined);
    },
  });
});
