// `node dist/bench/pass.js [--services N] [--passes K]`: the CPU cost of one reconcile decision over
// a large inventory (DESIGN: ≤ 50 ms CPU per pass over 10,000 services, RSS ≤ 200 MB). It times
// decide() — detection, ticket transitions, diagnosis, planning, policy — on a world where every
// service is healthy (the steady state) and on one where 1 % of them are down with dependents
// failing (an incident). Baseline in the same run: a bare loop over the same world that only reads
// each service's health fields, i.e. the least any pass must do.
import { parseArgs } from 'node:util';
import { decide, type DecideInput } from '../src/domain/decide.js';
import { ALLOW_ALL, BOOT, dead, M0, makeConfig, running, service, T0, worldOf, type ServiceView } from '../src/testing/domain.js';
import type { Action, ResolvedConfig, Ticket, World } from '../src/domain/types.js';
import { stats } from './lib.js';

const { values: argv } = parseArgs({ options: { services: { type: 'string' }, passes: { type: 'string' } } });
const N = Number(argv.services ?? 10_000);
const K = Number(argv.passes ?? 30);

/** N services in groups of 10: one backing store and nine dependents on it. */
function inventory(n: number): ResolvedConfig {
  const services = Array.from({ length: n }, (_, i) => {
    const group = Math.floor(i / 10);
    return i % 10 === 0 ? service(`db-${group}`) : service(`app-${i}`, { dependsOn: [`db-${group}`] });
  });
  return makeConfig({ services, rules: [ALLOW_ALL] });
}

function input(config: ResolvedConfig, world: World, tickets: Ticket[], actions: Action[]): DecideInput {
  return {
    config, world, now: T0, mono: M0, boot: BOOT, tickets, actions, frozen: false, started: [], limitResets: {}, recentlyResolved: [],
    nextIds: { T: 1, A: 1 }, answers: [], diagnosing: new Set(),
  };
}

function cpuMs(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

const config = inventory(N);
const healthy = worldOf(config, T0);
const broken: Record<string, ServiceView> = {};
for (let g = 0; g < N / 10; g += 100) {
  broken[`db-${g}`] = { process: dead() };
  for (let i = 1; i < 10; i++) broken[`app-${g * 10 + i}`] = { process: running(), checks: 'failing' };
}
const incident = worldOf(config, T0, broken);

const floor = (w: World): void => {
  let n = 0;
  for (const s of Object.values(w.services)) if (s.process.running && s.checks.every((c) => c.healthy)) n++;
  if (n < 0) throw new Error('unreachable');
};

const runs = { floor: [] as number[], steady: [] as number[], incident: [] as number[] };
for (let i = 0; i < K; i++) {
  runs.floor.push(cpuMs(() => floor(healthy)));
  runs.steady.push(cpuMs(() => decide(input(config, healthy, [], []))));
  runs.incident.push(cpuMs(() => decide(input(config, incident, [], []))));
}
const rssMb = process.memoryUsage().rss / 2 ** 20;
const need = (v: number[]): NonNullable<ReturnType<typeof stats>> => stats(v)!;
const s = { floor: need(runs.floor), steady: need(runs.steady), incident: need(runs.incident) };
const tickets = decide(input(config, incident, [], [])).tickets.length;
process.stdout.write(`reconcile decision over ${N} services, ${K} passes each (CPU ms per pass)\n`);
for (const [k, v] of Object.entries(s)) process.stdout.write(`${k.padEnd(9)} p50 ${v.p50.toFixed(2)}  p99 ${v.p99.toFixed(2)}  max ${v.max.toFixed(2)}\n`);
process.stdout.write(`incident: ${tickets} tickets (one per broken store, dependents attached)\n`);
process.stdout.write(`steady/floor p50 ${(s.steady.p50 / s.floor.p50).toFixed(1)}×; RSS ${rssMb.toFixed(0)} MB\n`);
process.stdout.write(`target ≤ 50 ms CPU per pass: steady ${s.steady.p50 <= 50 ? 'met' : 'NOT MET'}, incident ${s.incident.p50 <= 50 ? 'met' : 'NOT MET'}; RSS ≤ 200 MB: ${rssMb <= 200 ? 'met' : 'NOT MET'}\n`);
