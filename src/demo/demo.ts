// `warden demo [SCENARIO]`: the whole loop on a lab of real processes. A scenario brings its lab up
// (the default: web → redis cache and a worker; `etcd`: a 3-member cluster in network namespaces;
// `ratelimiter`: three limiter nodes on one Redis), starts Warden on it, injects one fault at a
// time, and prints what happened to each: time to detect, root cause, action, time to recover
// (verified), outcome. Exits 0 only if every fault was handled as expected.
import { rmSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import type { Action, Cause, Ticket } from '../domain/types.js';
import { Daemon } from '../daemon/daemon.js';
import { Store } from '../store/store.js';
import { waitFor } from '../lib/wait.js';

/** A lab brought up for a scenario: its config, what must be healthy between faults, its teardown. */
export interface Stage {
  configPath: string;
  /** One line for people: what runs. */
  describe: string;
  /** Services (and subjects) that must be healthy before each fault. */
  healthy: string[];
  /** What else must hold before a fault, asked of the system itself (every etcd member answers). */
  ready?: () => Promise<boolean>;
  /** Lab directory to remove at the end (unless --keep). */
  dir: string;
  /** Stops what the lab runs besides Warden's services; Warden's are killed by the scenario's `services`. */
  teardown(store: Store, dataDir: string): Promise<void>;
}

/** What a fault should lead to. `actions` must each complete on the ticket, and nothing else may run. */
export interface Expect {
  /** The ticket's service (a subject's name for a cluster problem). */
  service: string;
  cause: Cause;
  /** `type target` of every action expected to complete, in any order; [] for none. */
  actions: string[];
  status: 'resolved' | 'escalated';
  /** Run once the ticket is diagnosed and the daemon has made a few more passes (a partition healed). */
  heal?: () => Promise<void>;
}

export interface DemoFault<S extends Stage> {
  name: string;
  /** Injects the fault, and says what to expect (computed then: which member leads, say). */
  inject(stage: S, pid: (svc: string) => number): Promise<Expect> | Expect;
}

export interface Scenario<S extends Stage = Stage> {
  name: string;
  description: string;
  /** Refuses early with why when the machine cannot run it (not root, a binary missing). */
  setup(): Promise<S>;
  faults: DemoFault<S>[];
  /** How long one fault may take to close. */
  faultTimeoutMs?: number;
}

export interface FaultResult {
  fault: string;
  detectMs: number | null;
  rootCause: string;
  action: string;
  recoverMs: number | null;
  outcome: string;
  ok: boolean;
  why: string;
}

export async function runScenario<S extends Stage>(scenario: Scenario<S>, opts: { log?: (l: string) => void; keep?: boolean } = {}): Promise<FaultResult[]> {
  const say = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const stage = await scenario.setup();
  const cfg = loadConfig(stage.configPath);
  say(`lab in ${stage.dir}: ${stage.describe}`);
  const daemon = new Daemon(cfg, { log: (l) => say(`  │ ${l}`) });
  const store = Store.open(cfg.agent.dataDir);
  const results: FaultResult[] = [];
  try {
    await daemon.start();
    await waitFor(() => settled(store, stage), 60_000, 'the lab to come up healthy', { everyMs: 20 });
    say('lab is up and healthy\n');
    for (const fault of scenario.faults) {
      say(`━━ fault: ${fault.name}`);
      const { result: r, expect } = await runFault(fault, stage, store, daemon, scenario.faultTimeoutMs ?? 30_000);
      results.push(r);
      say(`━━ ${r.ok ? 'handled' : 'NOT handled'}: ${r.outcome}${r.ok ? '' : ` (${r.why})`}\n`);
      // A fault left to people (escalated) stays; after one Warden mended, the lab is whole again.
      if (expect?.status === 'resolved') await waitFor(() => settled(store, stage), 30_000, 'the lab to settle', { everyMs: 20 }).catch(() => undefined);
    }
  } finally {
    await daemon.stop(5_000);
    await stage.teardown(store, cfg.agent.dataDir);
    store.close();
    if (!opts.keep) rmSync(stage.dir, { recursive: true, force: true });
  }
  return results;
}

async function runFault<S extends Stage>(fault: DemoFault<S>, stage: S, store: Store, daemon: Daemon, timeoutMs: number): Promise<{ result: FaultResult; expect: Expect }> {
  const before = new Set(store.listTickets({ limit: 1000 }).map((t) => `${t.id}:${t.occurrences}`));
  const actionsBefore = new Set(store.listActions({ limit: 10_000 }).map((a) => a.id));
  const pid = (svc: string): number => {
    const p = store.getProcess(svc);
    if (!p) throw new Error(`${svc} is not running`);
    return p.pid;
  };
  const t0 = Date.now();
  const expect = await fault.inject(stage, pid);
  let ticket: Ticket | undefined;
  const fresh = (): Ticket | undefined => store.listTickets({ limit: 1000 }).find((t) => t.service === expect.service && !before.has(`${t.id}:${t.occurrences}`));
  if (expect.heal) {
    // The fault stays until its ticket is diagnosed and a few more passes have shown Warden leaves it be.
    const diagnosed = await waitFor(() => fresh()?.cause ?? undefined, timeoutMs, 'the ticket diagnosed', { everyMs: 20 }).then(() => true, () => false);
    if (diagnosed) await morePasses(daemon, 3, timeoutMs);
    await expect.heal();
  }
  const done = await waitFor(() => {
    ticket = fresh();
    return !!ticket && (ticket.status === 'resolved' || ticket.status === 'escalated');
  }, timeoutMs, 'the ticket to close', { everyMs: 20 }).then(() => true, () => false);
  const newActions = store.listActions({ limit: 10_000 }).filter((a) => !actionsBefore.has(a.id));
  const t = ticket;
  const detectMs = t ? firstSeen(store, t, t0) - t0 : null;
  const endAt = t?.status === 'resolved' ? t.resolvedAt : t?.updatedAt ?? null;
  const own = newActions.filter((a) => a.ticketId === t?.id);
  const problems: string[] = [];
  if (!t) problems.push('no ticket opened');
  else {
    if (!done) problems.push(`ticket still ${t.status}`);
    if (t.status !== expect.status) problems.push(`expected ${expect.status}, got ${t.status}`);
    if (t.cause !== expect.cause) problems.push(`expected cause ${expect.cause}, got ${t.cause}`);
    for (const want of expect.actions) {
      if (!own.some((a) => `${a.type} ${a.target}` === want && a.state === 'completed')) problems.push(`expected ${want}`);
    }
    const others = newActions.filter((a) => !expect.actions.includes(`${a.type} ${a.target}`));
    if (others.length > 0) problems.push(`unexpected actions: ${summarizeActions(others)}`);
  }
  const tickets = store.listTickets({ limit: 1000 }).filter((x) => !before.has(`${x.id}:${x.occurrences}`));
  if (tickets.length > 1) problems.push(`${tickets.length} tickets for one fault`);
  const result = {
    fault: fault.name,
    detectMs,
    rootCause: t?.rootCause ? `${t.rootCause.service}: ${t.rootCause.cause}` : '-',
    action: summarizeActions(own),
    recoverMs: t?.status === 'resolved' && endAt ? endAt - t0 : null,
    outcome: t ? `${t.status}${t.status === 'escalated' ? ` (${t.reason ?? ''})` : ''}` : 'no ticket',
    ok: problems.length === 0,
    why: problems.join('; '),
  };
  return { result, expect };
}

/** Waits for n more of the daemon's passes to complete. */
async function morePasses(daemon: Daemon, n: number, timeoutMs: number): Promise<void> {
  const seen = new Set<number>([daemon.lastPassAt]);
  await waitFor(() => seen.add(daemon.lastPassAt).size > n, timeoutMs, `${n} more passes`, { everyMs: 10 }).catch(() => undefined);
}

/** When the fault was first noticed: the ticket's opening or reopening, from the audit log. */
function firstSeen(store: Store, t: Ticket, since: number): number {
  const recs = store.listAudit({ subject: t.id }).filter((r) => (r.kind === 'ticket.opened' || r.kind === 'ticket.reopened') && r.at >= since);
  return recs[0]?.at ?? t.openedAt;
}

function summarizeActions(actions: Action[]): string {
  if (actions.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const a of actions) counts.set(`${a.type} ${a.target}`, (counts.get(`${a.type} ${a.target}`) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');
}

/** The stage's services healthy, no ticket open but those left to people, and the stage ready. */
async function settled(store: Store, stage: Stage): Promise<boolean> {
  const states = new Map(store.listServiceStates().map((s) => [s.name, s.health]));
  const calm = stage.healthy.every((n) => states.get(n) === 'healthy') && store.listTickets({ openOnly: true }).every((t) => t.status === 'escalated' || t.status === 'held');
  return calm && (await stage.ready?.() ?? true);
}

export function formatResults(results: FaultResult[]): string {
  const rows = results.map((r) => ({
    fault: r.fault,
    detect: r.detectMs == null ? '-' : `${r.detectMs} ms`,
    'root cause': r.rootCause,
    action: r.action,
    recovered: r.recoverMs == null ? '-' : `${r.recoverMs} ms`,
    outcome: r.ok ? `ok: ${r.outcome}` : `FAILED: ${r.why}`,
  }));
  const cols = Object.keys(rows[0] ?? {}) as (keyof (typeof rows)[number])[];
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(width[i]!)).join(' │ ').trimEnd();
  return [line(cols.map(String)), width.map((w) => '─'.repeat(w)).join('─┼─'), ...rows.map((r) => line(cols.map((c) => r[c])))].join('\n');
}
