// The log collector for real: services write into FIFOs, a detached collector process stamps and
// rotates, and it keeps doing so while no Warden runs.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceSpec } from '../../domain/types.js';
import { systemClock } from '../../lib/clock.js';
import { waitFor } from '../../lib/wait.js';
import { readProcStat } from '../../lib/proc.js';
import { MemoryProcessRegistry } from './memory-registry.js';
import { RotatingLog, splitStamp } from './logd.js';
import { ProcessSupervisor } from './supervisor.js';
import { collectorPids } from './collector.js';

const node = process.execPath;

function spec(name: string, script: string, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name, host: 'local', kind: 'process', start: [node, '-e', script], unit: null, cwd: tmpdir(), env: {}, stopSignal: 'SIGTERM',
    stopGraceMs: 2000, dependsOn: [], checks: [], runbooks: [], logMaxBytes: 1_000_000, logKeep: 2, ...over,
  } as ServiceSpec;
}

/** A data directory and supervisors on it; services and the collector are killed afterwards. */
function lab(t: TestContext): { dir: string; logs: string; errors: unknown[]; make(): ProcessSupervisor; track(pid: number): void } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-logd-'));
  const registry = new MemoryProcessRegistry();
  const pids: number[] = [];
  const sups: ProcessSupervisor[] = [];
  const errors: unknown[] = [];
  t.after(() => {
    for (const s of sups) s.dispose();
    for (const pid of [...pids, ...collectorsOf(dir)]) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir, logs: join(dir, 'logs'), errors,
    make: () => {
      const s = new ProcessSupervisor({ dataDir: dir, instanceId: 't', registry, clock: systemClock, pollMs: 20, onExit: () => {}, onError: (e) => errors.push(e) });
      sups.push(s);
      return s;
    },
    track: (pid) => pids.push(pid),
  };
}

const collectorsOf = (dir: string): number[] => collectorPids(join(dir, 'logs'));

const STAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

test('RotatingLog stamps lines, cuts long ones, and rotates by renaming within maxBytes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-rot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'svc.log');
  let now = Date.UTC(2026, 10, 30, 2, 45);
  const log = new RotatingLog(file, { maxBytes: 1000, keep: 2 }, () => now);
  for (let i = 0; i < 200; i++) {
    log.writeLines([`line ${i}`]);
    now += 1;
    // Within maxBytes at every moment, not only after a rotation pass.
    assert.ok(statSync(file).size <= 1000, `live file ${statSync(file).size} bytes after line ${i}`);
  }
  log.close();
  assert.deepEqual(readdirSync(dir).sort(), ['svc.log', 'svc.log.1', 'svc.log.2']);
  const oldest = splitStamp(readFileSync(`${file}.2`, 'utf8').split('\n')[0]!);
  assert.equal(typeof oldest.at, 'number');
  assert.match(oldest.text, /^line \d+$/);
  assert.ok(readFileSync(file, 'utf8').trimEnd().split('\n').every((l) => STAMPED.test(l)), 'every line stamped');

  // A line longer than a file holds is cut into stamped pieces; together they are the line.
  const long = new RotatingLog(join(dir, 'long.log'), { maxBytes: 1000, keep: 10 }, () => now);
  const text = Array.from({ length: 5000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  long.writeLines([text]);
  long.close();
  const pieces = ['long.log.5', 'long.log.4', 'long.log.3', 'long.log.2', 'long.log.1', 'long.log']
    .filter((f) => existsSync(join(dir, f))).flatMap((f) => readFileSync(join(dir, f), 'utf8').trimEnd().split('\n'));
  assert.ok(pieces.every((p) => STAMPED.test(p) && p.length <= 1000));
  assert.equal(pieces.map((p) => splitStamp(p).text).join(''), text);
  assert.deepEqual(splitStamp('no stamp here'), { at: null, text: 'no stamp here' });
});

test('RotatingLog counts what a full disk refused and does not throw', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-rot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // /dev/full: every write fails with ENOSPC.
  const log = new RotatingLog('/dev/full', { maxBytes: 1 << 30, keep: 0 });
  assert.doesNotThrow(() => log.writeLines(['lost']));
  assert.doesNotThrow(() => log.writeLines(['lost too']));
  log.close();
});

test('a service logs stamped lines through the collector, which outlives Warden', async (t) => {
  const l = lab(t);
  const sup = l.make();
  const svc = spec('ticker', "let i=0;setInterval(()=>console.log('tick '+(i++)),10)");
  const { pid } = await sup.start(svc);
  l.track(pid);
  await waitFor(() => sup.logTail('ticker', 1000).some((x) => x.endsWith(' tick 3')), 20_000, 'ticks in the log');
  const first = sup.logTail('ticker', 100)[0]!;
  assert.match(first, /Z \[warden\] starting: /);
  assert.ok(sup.logTail('ticker', 50).every((x) => STAMPED.test(x)));

  // Warden goes away: the service and the collector keep going, and the log keeps growing.
  sup.dispose();
  const size = statSync(join(l.logs, 'ticker.log')).size;
  await waitFor(() => statSync(join(l.logs, 'ticker.log')).size > size + 200, 20_000, 'the log growing without Warden');
  assert.equal(collectorsOf(l.dir).length, 1);

  // The collector dies; the pipe holds what the service writes meanwhile, and a new Warden's
  // collector reads it: no tick is lost.
  const killed = collectorsOf(l.dir);
  for (const c of killed) process.kill(c, 'SIGKILL');
  // Gone for good (reaped), not only exiting: an exiting process can still hold its socket.
  await waitFor(() => killed.every((c) => readProcStat(c) === null), 20_000, 'the collector gone');
  const next = l.make();
  next.configureLogs([svc]);
  // The daemon tends the collector on a timer; so does this wait.
  await waitFor(() => { next.tendLogs(); return collectorsOf(l.dir).length === 1; }, 20_000, 'a new collector');
  const ticksNow = (): number[] => next.logTail('ticker', 10_000).flatMap((x) => /tick (\d+)$/.exec(x)?.[1] ?? []).map(Number);
  const before = Math.max(...ticksNow());
  await waitFor(() => Math.max(...ticksNow()) > before + 20, 20_000, 'ticks after the new collector');
  const ticks = ticksNow();
  assert.deepEqual(ticks, ticks.map((_, i) => ticks[0]! + i), 'no tick lost or repeated');
  assert.deepEqual(l.errors, []);
});

test('a service that dies at once leaves its last words, and a partial line is written', async (t) => {
  const l = lab(t);
  const sup = l.make();
  const { pid } = await sup.start(spec('crasher', "console.error('Error: listen EADDRINUSE: address already in use :::8080'); process.exit(1)"));
  l.track(pid);
  await waitFor(() => sup.logTail('crasher', 5).some((x) => x.includes('EADDRINUSE')), 20_000, 'the error in the log');

  const { pid: p2 } = await sup.start(spec('prompt', "process.stdout.write('password: '); setInterval(()=>{},1000)"));
  l.track(p2);
  await waitFor(() => sup.logTail('prompt', 5).some((x) => x.endsWith(' password: ')), 20_000, 'the partial line');
});

test('a burst far past maxSize keeps every file within its bound and the service unblocked', async (t) => {
  const l = lab(t);
  const sup = l.make();
  const svc = spec('burst', "const s='y'.repeat(199)+'\\n';let n=0;(function w(){while(n<150000){n++;if(!process.stdout.write(s))return process.stdout.once('drain',w);}console.log('done')})()", {
    logMaxBytes: 200_000, logKeep: 2,
  });
  sup.configureLogs([svc]);
  const { pid } = await sup.start(svc);
  l.track(pid);
  const log = join(l.logs, 'burst.log');
  let maxLive = 0;
  let maxTotal = 0;
  // 30 MB written; sampled all along.
  await waitFor(() => {
    const sizes = ['', '.1', '.2', '.3'].map((x) => (existsSync(log + x) ? statSync(log + x).size : 0));
    maxLive = Math.max(maxLive, sizes[0]!);
    maxTotal = Math.max(maxTotal, sizes.reduce((a, b) => a + b, 0));
    return sup.logTail('burst', 1)[0]?.endsWith(' done');
  }, 60_000, 'the burst written');
  assert.ok(maxLive <= 200_000, `live file reached ${maxLive} bytes`);
  assert.ok(maxTotal <= 3 * 200_000, `files together reached ${maxTotal} bytes`);
  assert.equal(existsSync(`${log}.3`), false);
});

test('pieces are cut by bytes on character boundaries: no file passes maxBytes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-rot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'utf8.log');
  const log = new RotatingLog(file, { maxBytes: 300, keep: 50 });
  const text = 'é€😀'.repeat(200);
  log.writeLines([text]);
  log.close();
  const files = readdirSync(dir).filter((f) => f.startsWith('utf8.log'));
  assert.ok(files.every((f) => statSync(join(dir, f)).size <= 300), files.map((f) => statSync(join(dir, f)).size).join(' '));
  const pieces = files.sort((a, b) => Number(b.split('.')[2] ?? 0) - Number(a.split('.')[2] ?? 0))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').trimEnd().split('\n'));
  assert.equal(pieces.map((p) => splitStamp(p).text).join(''), text, 'no character split or lost');
});

test("a crash's last words without a newline do not swallow Warden's next note", async (t) => {
  const l = lab(t);
  const sup = l.make();
  const svc = spec('abrupt', "process.stdout.write('FATAL: no newline at end'); process.exitCode = 3");
  await sup.start(svc);
  await waitFor(() => sup.state('abrupt').exits.length === 1, 20_000, 'the exit');
  const again = await sup.start(svc);
  l.track(again.pid);
  await waitFor(() => sup.logTail('abrupt', 10).filter((x) => /Z \[warden\] starting: /.test(x)).length === 2, 20_000, 'two start notes, each on its own line');
  assert.ok(sup.logTail('abrupt', 10).some((x) => x.endsWith(' FATAL: no newline at end')));
});

test('a collector told to stop lets go of Warden, and Warden starts another', async (t) => {
  const l = lab(t);
  const sup = l.make();
  const svc = spec('steady', "let i=0;setInterval(()=>console.log('n '+(i++)),20)");
  const { pid } = await sup.start(svc);
  l.track(pid);
  sup.configureLogs([svc]);
  const [first] = collectorsOf(l.dir);
  process.kill(first!, 'SIGTERM');
  await waitFor(() => { sup.tendLogs(); return collectorsOf(l.dir).some((c) => c !== first); }, 20_000, 'a new collector');
  const lines = (): number => sup.logTail('steady', 10_000).length;
  const before = lines();
  await waitFor(() => lines() > before + 10, 20_000, 'lines after the new collector');
});

test('a pipe made anew under the same name is read, not the gone one', async (t) => {
  const l = lab(t);
  const sup = l.make();
  const svc = spec('renewed', "console.log('hello from '+process.pid); setInterval(()=>{},1000)");
  const first = await sup.start(svc);
  l.track(first.pid);
  await sup.stop(svc);
  rmSync(join(l.logs, 'renewed.pipe'));
  const second = await sup.start(svc);
  l.track(second.pid);
  await waitFor(() => sup.logTail('renewed', 10).some((x) => x.endsWith(`hello from ${second.pid}`)), 20_000, 'the new run read');
});
