// `warden demo [SCENARIO]`: the whole loop on a lab of real processes. A scenario brings its lab up
// (the default: web → redis cache and a worker; `etcd`: a 3-member cluster in network namespaces;
// `ratelimiter`: three limiter nodes on one Redis), starts Warden on it, injects one fault at a
// time, and prints what happened to each: time to detect, root cause, action, time to recover
// (verified), outcome. Exits 0 only if every fault was handled as expected.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Action, Cause, ResolvedConfig, Ticket } from '../domain/types.js';
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
  /** Stops what the lab runs besides Warden's services; Warden's are killed by the scenario's `services`.
   *  `store` is null when the lab's config did not load and no Warden ran. */
  teardown(store: Store | null, dataDir: string): Promise<void>;
}

/** What a fault should lead to. `actions` must each complete on the ticket, and nothing else may run. */
export interface Expect {
  /** The ticket's service (a subject's name for a cluster problem). */
  service: string;
  /** The root cause's service when it is not the ticket's own (a subject's ticket whose root is a member). */
  root?: string;
  cause: Cause;
  /** `type target` of every action expected to complete, in any order; [] for none. */
  actions: string[];
  /** `none`: a control run, no ticket and no action may appear while it is observed. */
  status: 'resolved' | 'escalated' | 'none';
  /** How many of the daemon's passes a control run is observed for. */
  observePasses?: number;
  /** Run once the ticket is diagnosed and the daemon has made a few more passes (a partition healed). */
  heal?: () => Promise<void>;
}

/** What an injector may use besides the stage: the store Warden writes, the daemon itself. */
export interface FaultRun {
  store: Store;
  daemon: Daemon;
}

export interface DemoFault<S extends Stage> {
  name: string;
  /** Injects the fault, and says what to expect (computed then: which member leads, say). */
  inject(stage: S, pid: (svc: string) => number, run: FaultRun): Promise<Expect> | Expect;
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
  /** What was expected, and the facts the eval metrics are computed from. */
  expect: Pick<Expect, 'service' | 'root' | 'cause' | 'actions' | 'status'>;
  ticket: { id: string; service: string; rootService: string | null; cause: Cause | null; status: string } | null;
  /** Tickets the fault opened (more than one: the incident was split). */
  tickets: number;
  /** Warden's own actions during the fault (a person's are not counted), as `type target state`. */
  actions: string[];
  /** Warden's actions on a service other than the expected root cause (all of them on a control run). */
  needless: number;
}

export async function runScenario<S extends Stage>(scenario: Scenario<S>, opts: { log?: (l: string) => void; keep?: boolean } = {}): Promise<FaultResult[]> {
  const say = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const stage = await scenario.setup();
  let cfg: ResolvedConfig;
  try {
    cfg = loadConfig(stage.configPath);
  } catch (e) {
    // Nothing of Warden's ran, but the lab may have (helpers, mounts): undo it before saying why.
    await stage.teardown(null, join(stage.dir, 'data'));
    if (!opts.keep) rmSync(stage.dir, { recursive: true, force: true });
    throw e;
  }
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
      const { result: r, expect } = await runFault(fault, stage, { store, daemon, agent: cfg.agent.name }, scenario.faultTimeoutMs ?? 30_000);
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

async function runFault<S extends Stage>(fault: DemoFault<S>, stage: S, run: FaultRun & { agent: string }, timeoutMs: number): Promise<{ result: FaultResult; expect: Expect }> {
  const { store, daemon } = run;
  const before = new Set(store.listTickets({ limit: 1000 }).map((t) => `${t.id}:${t.occurrences}`));
  const actionsBefore = new Set(store.listActions({ limit: 10_000 }).map((a) => a.id));
  const pid = (svc: string): number => {
    const p = store.getProcess(svc);
    if (!p) throw new Error(`${svc} is not running`);
    return p.pid;
  };
  const t0 = Date.now();
  const expect = await fault.inject(stage, pid, run);
  let ticket: Ticket | undefined;
  const freshAll = (): Ticket[] => store.listTickets({ limit: 1000 }).filter((t) => !before.has(`${t.id}:${t.occurrences}`));
  // The expected service's ticket; when Warden blamed another service, the ticket it did open.
  const fresh = (): Ticket | undefined => { const all = freshAll(); return all.find((t) => t.service === expect.service) ?? all[0]; };
  let done = false;
  if (expect.status === 'none') {
    // A control run: watched for some passes; any ticket or action of Warden's is a false positive.
    await morePasses(daemon, expect.observePasses ?? 3, timeoutMs);
    ticket = fresh();
    done = true;
  } else {
    if (expect.heal) {
      // The fault stays until its ticket names the expected cause (or the time is up) and a few
      // more passes have shown that Warden leaves it be.
      const diagnosed = await waitFor(() => fresh()?.cause === expect.cause, timeoutMs, 'the ticket diagnosed', { everyMs: 20 }).then(() => true, () => false);
      if (diagnosed) await morePasses(daemon, 3, timeoutMs);
      await expect.heal();
    }
    done = await waitFor(() => {
      ticket = fresh();
      return !!ticket && (ticket.status === 'resolved' || ticket.status === 'escalated');
    }, timeoutMs, 'the ticket to close', { everyMs: 20 }).then(() => true, () => false);
  }
  // A person's actions (a deploy) are part of the scenario, not Warden's doing.
  const newActions = store.listActions({ limit: 10_000 }).filter((a) => !actionsBefore.has(a.id) && a.requestedBy === run.agent);
  const t = ticket;
  const detectMs = t ? firstSeen(store, t, t0) - t0 : null;
  const endAt = t?.status === 'resolved' ? t.resolvedAt : t?.updatedAt ?? null;
  const own = newActions.filter((a) => a.ticketId === t?.id);
  const needless = newActions.filter((a) => expect.status === 'none' || (a.target !== (expect.root ?? expect.service) && !expect.actions.includes(`${a.type} ${a.target}`)));
  const tickets = freshAll();
  const problems: string[] = [];
  if (expect.status === 'none') {
    if (t) problems.push(`false positive: ticket ${t.id} (${t.service}: ${t.cause ?? 'undiagnosed'})`);
  } else if (!t) problems.push('no ticket opened');
  else {
    if (!done) problems.push(`ticket still ${t.status}`);
    if (t.status !== expect.status) problems.push(`expected ${expect.status}, got ${t.status}`);
    const root = expect.root ?? expect.service;
    if (t.rootCause?.service !== root) problems.push(`expected root cause ${root}, got ${t.rootCause?.service ?? 'none'}`);
    if (t.cause !== expect.cause) problems.push(`expected cause ${expect.cause}, got ${t.cause}`);
    for (const want of expect.actions) {
      if (!own.some((a) => `${a.type} ${a.target}` === want && a.state === 'completed')) problems.push(`expected ${want}`);
    }
  }
  if (needless.length > 0) problems.push(`unexpected actions: ${summarizeActions(needless)}`);
  if (tickets.length > 1) problems.push(`${tickets.length} tickets for one fault`);
  const result: FaultResult = {
    fault: fault.name,
    detectMs,
    rootCause: t?.rootCause ? `${t.rootCause.service}: ${t.rootCause.cause}` : '-',
    action: summarizeActions(own),
    recoverMs: t?.status === 'resolved' && endAt ? endAt - t0 : null,
    outcome: t ? `${t.status}${t.status === 'escalated' ? ` (${t.reason ?? ''})` : ''}` : 'no ticket',
    ok: problems.length === 0,
    why: problems.join('; '),
    expect: { service: expect.service, ...(expect.root !== undefined ? { root: expect.root } : {}), cause: expect.cause, actions: expect.actions, status: expect.status },
    ticket: t ? { id: t.id, service: t.service, rootService: t.rootCause?.service ?? null, cause: t.cause, status: t.status } : null,
    tickets: tickets.length,
    actions: newActions.map((a) => `${a.type} ${a.target} ${a.state}`),
    needless: needless.length,
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
