// `npm run bench`: how fast Warden notices and repairs a broken `kind: process` service, against
// two baselines measured in the same run on the same web service:
//   floor  — a bare Node parent restarting its child on the 'exit' event (the kernel/runtime floor);
//   poller — a Monit-style supervisor looking at the pid once a second (`set daemon 1`).
// Figures are reported as p50/p99/min/max and as ratios to the baselines (see docs/benchmarks.md).
// Usage: node dist/bench/run.js [--trials N] [--in-process] [--keep] [--out FILE (default bench/results/latest.json)]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, LAB, requireRedis, ROOT } from '../src/demo/lab.js';
import { Baseline, trivialExitFloor, type BaselineTrial } from './baselines.js';
import { Janitor, machine, stats, type Stats } from './lib.js';
import { WardenUnderTest, type WardenTrial } from './warden.js';

const { values: argv } = parseArgs({
  options: {
    trials: { type: 'string' },
    'in-process': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const trials = argv.trials === undefined ? 50 : Number(argv.trials);
if (!Number.isInteger(trials) || trials < 1) {
  process.stderr.write(`bench: --trials needs a positive integer, got ${argv.trials}\n`);
  process.exit(2);
}
// Hangs and the 1 s poller take seconds per trial: fewer of them (20 at the default 50).
const slowTrials = Math.max(1, Math.round(trials * 0.4));
const N = { kill: trials, hang: slowTrials, floor: trials, poller: slowTrials };

const say = (s: string): boolean => process.stderr.write(s);

interface Results {
  kill: WardenTrial[];
  hang: WardenTrial[];
  floor: BaselineTrial[];
  poller: BaselineTrial[];
  sleepExit: number[];
}

/**
 * Everything runs side by side and the trials are interleaved round by round (Warden kill, floor
 * kill, poller kill, Warden hang), so whatever else loads the machine meanwhile weighs on Warden and
 * on its baselines alike: the ratios stay honest even when the absolute figures move.
 */
async function measure(janitor: Janitor, w: WardenUnderTest): Promise<Results> {
  const r: Results = { kill: [], hang: [], floor: [], poller: [], sleepExit: [] };
  say(`floor: kill -9 → exit event of a trivial process (sleep), ${N.floor} trials\n`);
  r.sleepExit = await trivialExitFloor(janitor, N.floor);

  // The baselines get their own redis-server (web's /healthz pings it), as the lab's web has one.
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore', detached: true });
  janitor.track(redis.pid, true);
  const web = join(LAB, 'web.mjs');
  const floor = new Baseline(janitor, 'on-exit', web, await freePort(), redisPort);
  const poller = new Baseline(janitor, 'poll', web, await freePort(), redisPort, 1000);
  try {
    say(`starting the floor and poller supervisors, and ${argv['in-process'] ? 'the Daemon in-process' : './bin/warden run'} on the lab… `);
    await floor.start();
    await poller.start();
    await w.start();
    say(`up (lab ${w.lab.dir})\n`);
    const rounds = Math.max(N.kill, N.hang, N.floor, N.poller);
    say(`${rounds} rounds (W = warden kill, f = floor, p = poller, H = warden hang):\n`);
    const t0 = Date.now();
    for (let i = 0; i < rounds; i++) {
      if (i < N.kill) { r.kill.push(await w.trial('kill')); await w.ready(); say('W'); }
      if (i < N.floor) { r.floor.push(await floor.trial(250)); say('f'); }
      // Random pause up to a whole cycle: the kill lands at a random phase of the 1 s poll.
      if (i < N.poller) { r.poller.push(await poller.trial(1000)); say('p'); }
      if (i < N.hang) { r.hang.push(await w.trial('hang')); await w.ready(); say('H'); }
      say(i % 10 === 9 ? ` ${i + 1}\n` : ' ');
    }
    say(`\n${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    return r;
  } finally {
    floor.stop();
    poller.stop();
    try { process.kill(-redis.pid!, 'SIGKILL'); } catch { /* gone */ }
    janitor.untrack(redis.pid!);
    // The lab directory goes with the janitor's clean-up (unless --keep), whatever way the run ends.
    await w.stop();
    if (argv.keep && w.labDir !== null) say(`lab kept in ${w.labDir}\n`);
  }
}

const pick = <T>(xs: T[], f: (x: T) => number | null): number[] => xs.map(f).filter((v): v is number => v !== null && Number.isFinite(v));
/** a/b to three significant digits. */
const ratio = (a: Stats | null, b: Stats | null, k: 'p50' | 'p99'): number | null => (a && b && b[k] > 0 ? Number((a[k] / b[k]).toPrecision(3)) : null);

async function main(): Promise<void> {
  requireRedis();
  const janitor = new Janitor();
  const started = new Date();
  const box = machine();
  say(`bench: ${box.cpuModel}, ${box.nproc} CPUs, ${box.memoryGiB} GiB, ${box.kernel}, node ${box.node}\n`);
  try {
    const w = new WardenUnderTest(janitor, argv['in-process'], argv.keep);
    const base = await measure(janitor, w);
    const { kill, hang } = base;
    const loadEnd = machine().loadavg;
    const check = w.checkSpec;
    const stableMs = w.cfg.agent.verifyStableMs;

    const m = {
      'warden.kill.exitObserved': stats(pick(kill, (t) => t.exitObservedMs)),
      'warden.kill.ticketOpened': stats(pick(kill, (t) => t.ticketOpenedMs)),
      'warden.kill.actionExecuting': stats(pick(kill, (t) => t.actionExecutingMs)),
      'warden.kill.respawned': stats(pick(kill, (t) => t.actionCompletedMs)),
      'warden.kill.serving': stats(pick(kill, (t) => t.servingMs)),
      'warden.kill.healthySeen': stats(pick(kill, (t) => t.healthySeenMs)),
      'warden.kill.verified': stats(pick(kill, (t) => t.verifiedMs)),
      'warden.kill.verifiedMinusStable': stats(pick(kill, (t) => t.verifiedMs - stableMs)),
      'warden.hang.ticketOpened': stats(pick(hang, (t) => t.ticketOpenedMs)),
      'warden.hang.respawned': stats(pick(hang, (t) => t.actionCompletedMs)),
      'warden.hang.serving': stats(pick(hang, (t) => t.servingMs)),
      'warden.hang.verified': stats(pick(hang, (t) => t.verifiedMs)),
      'floor.kill.exitEvent.sleep': stats(base.sleepExit),
      'floor.kill.exitEvent': stats(pick(base.floor, (t) => t.detectMs)),
      'floor.kill.respawned': stats(pick(base.floor, (t) => t.respawnMs)),
      'floor.kill.serving': stats(pick(base.floor, (t) => t.servingMs)),
      'poller.kill.detected': stats(pick(base.poller, (t) => t.detectMs)),
      'poller.kill.serving': stats(pick(base.poller, (t) => t.servingMs)),
    };
    const ratios = {
      'exit observed by the daemon / floor exit event': { p50: ratio(m['warden.kill.exitObserved'], m['floor.kill.exitEvent'], 'p50'), p99: ratio(m['warden.kill.exitObserved'], m['floor.kill.exitEvent'], 'p99') },
      'detect (ticket opened) / floor exit event': { p50: ratio(m['warden.kill.ticketOpened'], m['floor.kill.exitEvent'], 'p50'), p99: ratio(m['warden.kill.ticketOpened'], m['floor.kill.exitEvent'], 'p99') },
      'detect (ticket opened) / poller detect': { p50: ratio(m['warden.kill.ticketOpened'], m['poller.kill.detected'], 'p50'), p99: ratio(m['warden.kill.ticketOpened'], m['poller.kill.detected'], 'p99') },
      'kill→serving / floor kill→serving': { p50: ratio(m['warden.kill.serving'], m['floor.kill.serving'], 'p50'), p99: ratio(m['warden.kill.serving'], m['floor.kill.serving'], 'p99') },
      'kill→serving / poller kill→serving': { p50: ratio(m['warden.kill.serving'], m['poller.kill.serving'], 'p50'), p99: ratio(m['warden.kill.serving'], m['poller.kill.serving'], 'p99') },
    };
    const hungBound = 2 * check.intervalMs + check.timeoutMs;
    const met = (v: number | undefined, max: number): boolean => v !== undefined && v <= max;
    const targets = [
      { figure: 'dead process: detect (ticket opened) p50', target: '≤ 50 ms', value: m['warden.kill.ticketOpened']?.p50, met: met(m['warden.kill.ticketOpened']?.p50, 50) },
      { figure: 'dead process: detect (ticket opened) p99', target: '≤ 250 ms', value: m['warden.kill.ticketOpened']?.p99, met: met(m['warden.kill.ticketOpened']?.p99, 250) },
      { figure: 'kill → serving again p50', target: '≤ 100 ms', value: m['warden.kill.serving']?.p50, met: met(m['warden.kill.serving']?.p50, 100) },
      { figure: 'kill → verified healthy p50', target: '≤ 1000 ms', value: m['warden.kill.verified']?.p50, met: met(m['warden.kill.verified']?.p50, 1000) },
      { figure: 'hung: detect (ticket opened) p99', target: `≤ 2 × ${check.intervalMs} + ${check.timeoutMs} = ${hungBound} ms`, value: m['warden.hang.ticketOpened']?.p99, met: met(m['warden.hang.ticketOpened']?.p99, hungBound) },
      { figure: 'hung → serving again p50', target: '≤ 1000 ms', value: m['warden.hang.serving']?.p50, met: met(m['warden.hang.serving']?.p50, 1000) },
    ];

    const rows: [string, Stats | null][] = Object.entries(m);
    const fmt = (v: number): string => (Math.abs(v) < 10 ? v.toFixed(2) : v.toFixed(0));
    const head = ['figure (ms after the fault)', 'n', 'p50', 'p99', 'min', 'max'];
    const body = rows.map(([k, s]) => [k, String(s?.n ?? 0), ...(s ? [s.p50, s.p99, s.min, s.max].map(fmt) : ['-', '-', '-', '-'])]);
    const width = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
    const out = [line(head), width.map((x) => '─'.repeat(x)).join('  '), ...body.map(line), ''];
    const times = (x: number | null): string => (x === null ? '-' : x < 1 ? `${x}× (${Number((1 / x).toPrecision(3))}× faster)` : `${x}×`);
    for (const [k, r] of Object.entries(ratios)) out.push(`ratio ${k}: p50 ${times(r.p50)}, p99 ${times(r.p99)}`);
    out.push('');
    for (const t of targets) out.push(`${t.met ? 'met    ' : 'NOT MET'}  ${t.figure}: ${t.value ?? '-'} ms (target ${t.target})`);
    const causes = new Map<string, number>();
    for (const t of [...kill, ...hang]) causes.set(`${t.fault}: ${t.cause ?? '-'} → ${t.actions.join(', ') || 'no action'}`, (causes.get(`${t.fault}: ${t.cause ?? '-'} → ${t.actions.join(', ') || 'no action'}`) ?? 0) + 1);
    out.push('', `diagnoses: ${[...causes].map(([k, n]) => `${k} ×${n}`).join('; ')}`);
    process.stdout.write(`\n${out.join('\n')}\n`);

    const result = {
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      command: `node dist/bench/run.js${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: box,
      loadavgAtEnd: loadEnd,
      warden: argv['in-process'] ? 'Daemon class in the bench process' : './bin/warden run (separate process)',
      trials: N,
      lab: { checkIntervalMs: check.intervalMs, checkTimeoutMs: check.timeoutMs, checkFailures: check.failures, verifyStableMs: stableMs, passIntervalMs: w.cfg.agent.intervalMs },
      metrics: m,
      ratios,
      targets,
      diagnoses: Object.fromEntries(causes),
      raw: { warden: { kill, hang }, floor: base.floor, poller: base.poller, sleepExitMs: base.sleepExit },
    };
    const file = resolve(argv.out ?? join(ROOT, 'bench', 'results', 'latest.json'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    say(`wrote ${file}\n`);
  } finally {
    janitor.killAll();
  }
}

main().then(() => { process.exitCode = 0; }, (e: unknown) => {
  process.stderr.write(`\nbench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
