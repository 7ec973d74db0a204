// The exactly-once soak: kill -9 of Warden at each step of a restart (before spawn, between spawn
// and record, after record), round-robin, N times, on one lab; after each, a fresh Warden resumes.
// Counts duplicates (a trial that started the worker more than once) and misses (none), and prints
// them with the machine. Figures go to docs/benchmarks.md.
// Usage: node dist/bench/crash-soak.js [--trials N (default 200)]
import { parseArgs } from 'node:util';
import { FAULT_POINTS, type FaultPoint } from '../src/lib/fault.js';
import { crashTrial, deploy, makeOnceLab, type TrialResult } from '../test/e2e/exactly-once.js';
import { Janitor, machine } from './lib.js';

const { values: argv } = parseArgs({ options: { trials: { type: 'string' } } });
const trials = argv.trials === undefined ? 200 : Number(argv.trials);
if (!Number.isInteger(trials) || trials < 1) {
  process.stderr.write(`crash-soak: --trials needs a positive integer, got ${argv.trials}\n`);
  process.exit(2);
}

const janitor = new Janitor();
const lab = await makeOnceLab();
janitor.onCleanup(() => lab.cleanup());
const began = performance.now();
await deploy(lab);

const per = new Map<FaultPoint, { trials: number; duplicates: number; misses: number; notCompleted: number; errors: number }>(
  FAULT_POINTS.map((p) => [p, { trials: 0, duplicates: 0, misses: 0, notCompleted: 0, errors: 0 }]),
);
const bad: (TrialResult | { point: FaultPoint; error: string })[] = [];
for (let i = 0; i < trials; i++) {
  const point = FAULT_POINTS[i % FAULT_POINTS.length]!;
  const tally = per.get(point)!;
  tally.trials += 1;
  try {
    const r = await crashTrial(lab, point);
    if (r.newStarts > 1 || r.aliveAfter > 1) tally.duplicates += 1;
    if (r.newStarts < 1) tally.misses += 1;
    if (r.actionState !== 'completed' || r.attempts !== 1 || r.executions !== 1 || r.faultedBy !== 'SIGKILL') tally.notCompleted += 1;
    if (r.newStarts !== 1 || r.aliveAfter !== 1 || r.actionState !== 'completed' || r.attempts !== 1 || r.executions !== 1 || r.faultedBy !== 'SIGKILL') bad.push(r);
  } catch (e) {
    tally.errors += 1;
    bad.push({ point, error: e instanceof Error ? e.message : String(e) });
    // Start the next trial from a settled lab again.
    await deploy(lab).catch(() => undefined);
  }
  process.stderr.write(`\rtrial ${i + 1}/${trials}`);
}
const seconds = Math.round((performance.now() - began) / 1000);
process.stderr.write('\n');

const total = { duplicates: 0, misses: 0, notCompleted: 0, errors: 0 };
console.log('crash point    trials  duplicates  misses  not completed once  errors');
for (const [point, t] of per) {
  console.log(`${point.padEnd(14)} ${String(t.trials).padStart(6)}  ${String(t.duplicates).padStart(10)}  ${String(t.misses).padStart(6)}  ${String(t.notCompleted).padStart(18)}  ${String(t.errors).padStart(6)}`);
  total.duplicates += t.duplicates; total.misses += t.misses; total.notCompleted += t.notCompleted; total.errors += t.errors;
}
console.log(`duplicates = ${total.duplicates} over ${trials} trials (${total.misses} misses, ${total.notCompleted} not completed in one attempt, ${total.errors} errors) in ${seconds} s`);
for (const b of bad) console.log(`  ${JSON.stringify(b)}`);
console.log(`machine: ${JSON.stringify(machine())}`);
janitor.killAll();
process.exitCode = total.duplicates + total.misses + total.notCompleted + total.errors === 0 ? 0 : 1;
