// `warden demo`: the whole loop on a lab of real processes. Starts Warden on the lab, injects one
// fault at a time, and prints what happened to each: time to detect, root cause, action, time to
// recover (verified), outcome. Exits 0 only if every fault was handled as expected.
import { rmSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import type { Action, Cause, Ticket } from '../domain/types.js';
import { Daemon } from '../daemon/daemon.js';
import { Store } from '../store/store.js';
import { waitFor } from '../lib/wait.js';
import { killLab, makeLab, type Lab } from './lab.js';

interface Fault {
  name: string;
  /** The service whose ticket we expect, its cause, the action type, the final status. */
  expect: { service: string; cause: Cause; action: string; status: 'resolved' | 'escalated'; maxRestartsOf?: Record<string, number> };
  inject: (lab: Lab, pid: (svc: string) => number) => void;
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

const FAULTS: Fault[] = [
  {
    name: 'kill -9 web',
    expect: { service: 'web', cause: 'process_exited', action: 'restart web', status: 'resolved' },
    inject: (_l, pid) => process.kill(pid('web'), 'SIGKILL'),
  },
  {
    name: 'SIGSTOP web (hang)',
    expect: { service: 'web', cause: 'process_hung', action: 'restart web', status: 'resolved' },
    inject: (_l, pid) => process.kill(pid('web'), 'SIGSTOP'),
  },
  {
    name: 'kill -9 cache (dependency)',
    expect: { service: 'cache', cause: 'process_exited', action: 'restart cache', status: 'resolved', maxRestartsOf: { web: 0 } },
    inject: (_l, pid) => process.kill(pid('cache'), 'SIGKILL'),
  },
  {
    name: 'crash loop worker',
    expect: { service: 'worker', cause: 'crash_loop', action: 'restart worker', status: 'escalated' },
    inject: (lab, pid) => {
      writeFileSync(lab.poisonFile, 'garbage');
      process.kill(pid('worker'), 'SIGKILL');
    },
  },
];

export async function runDemo(opts: { log?: (l: string) => void; keep?: boolean } = {}): Promise<FaultResult[]> {
  const say = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const lab = await makeLab();
  const cfg = loadConfig(lab.configPath);
  say(`lab in ${lab.dir}: cache (redis-server :${lab.ports.cache}) ← web (node :${lab.ports.web}), worker`);
  const daemon = new Daemon(cfg, { log: (l) => say(`  │ ${l}`) });
  await daemon.start();
  const store = Store.open(cfg.agent.dataDir);
  const results: FaultResult[] = [];
  try {
    await waitFor(() => allHealthy(store, ['cache', 'web', 'worker']), 20_000, 'the lab to come up healthy', { everyMs: 20 });
    say('lab is up and healthy\n');
    for (const fault of FAULTS) {
      say(`━━ fault: ${fault.name}`);
      results.push(await runFault(fault, lab, store));
      const r = results.at(-1)!;
      say(`━━ ${r.ok ? 'handled' : 'NOT handled'}: ${r.outcome}${r.ok ? '' : ` (${r.why})`}\n`);
      if (fault.expect.status === 'resolved') await waitFor(() => allHealthy(store, ['cache', 'web']), 15_000, 'the lab to settle', { everyMs: 20 }).catch(() => undefined);
    }
  } finally {
    await daemon.stop(5_000);
    killLab(store, cfg.agent.dataDir);
    store.close();
    if (!opts.keep) rmSync(lab.dir, { recursive: true, force: true });
  }
  return results;
}

async function runFault(fault: Fault, lab: Lab, store: Store): Promise<FaultResult> {
  const before = new Set(store.listTickets({ limit: 1000 }).map((t) => `${t.id}:${t.occurrences}`));
  const actionsBefore = new Set(store.listActions({ limit: 10_000 }).map((a) => a.id));
  const pid = (svc: string): number => {
    const p = store.getProcess(svc);
    if (!p) throw new Error(`${svc} is not running`);
    return p.pid;
  };
  const t0 = Date.now();
  fault.inject(lab, pid);
  let ticket: Ticket | undefined;
  const done = await waitFor(() => {
    ticket = store.listTickets({ limit: 1000 }).find((t) => t.service === fault.expect.service && !before.has(`${t.id}:${t.occurrences}`));
    return !!ticket && (ticket.status === 'resolved' || ticket.status === 'escalated');
  }, 30_000, 'the ticket to close', { everyMs: 20 }).then(() => true, () => false);
  const newActions = store.listActions({ limit: 10_000 }).filter((a) => !actionsBefore.has(a.id));
  const t = ticket;
  const detectMs = t ? firstSeen(store, t, t0) - t0 : null;
  const endAt = t?.status === 'resolved' ? t.resolvedAt : t?.updatedAt ?? null;
  const own = newActions.filter((a) => a.ticketId === t?.id);
  const action = summarizeActions(own);
  const problems: string[] = [];
  if (!t) problems.push('no ticket opened');
  else {
    if (!done) problems.push(`ticket still ${t.status}`);
    if (t.status !== fault.expect.status) problems.push(`expected ${fault.expect.status}, got ${t.status}`);
    if (t.cause !== fault.expect.cause) problems.push(`expected cause ${fault.expect.cause}, got ${t.cause}`);
    if (!own.some((a) => `${a.type} ${a.target}` === fault.expect.action && a.state === 'completed')) problems.push(`expected ${fault.expect.action}`);
    const others = newActions.filter((a) => a.target !== fault.expect.service);
    if (others.length > 0) problems.push(`unexpected actions: ${summarizeActions(others)}`);
  }
  const tickets = store.listTickets({ limit: 1000 }).filter((x) => !before.has(`${x.id}:${x.occurrences}`));
  if (tickets.length > 1) problems.push(`${tickets.length} tickets for one fault`);
  return {
    fault: fault.name,
    detectMs,
    rootCause: t?.rootCause ? `${t.rootCause.service}: ${t.rootCause.cause}` : '-',
    action,
    recoverMs: t?.status === 'resolved' && endAt ? endAt - t0 : null,
    outcome: t ? `${t.status}${t.status === 'escalated' ? ` (${t.reason ?? ''})` : ''}` : 'no ticket',
    ok: problems.length === 0,
    why: problems.join('; '),
  };
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

function allHealthy(store: Store, names: string[]): boolean {
  const states = new Map(store.listServiceStates().map((s) => [s.name, s.health]));
  return names.every((n) => states.get(n) === 'healthy') && store.listTickets({ openOnly: true }).every((t) => t.status === 'escalated' || t.status === 'held');
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
