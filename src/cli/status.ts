// warden status, warden audit list|verify, warden debug SERVICE
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import type { Health } from '../domain/types.js';
import { iso } from '../lib/clock.js';
import { readProcStat } from '../lib/proc.js';
import { dbPath, type Store } from '../store/store.js';
import type { ExitRecord } from '../domain/types.js';
import { ProcessSupervisor, type ProcessRegistry } from '../kinds/process/supervisor.js';
import { instanceIdOf } from '../loop/shared.js';
import { actionJson, ago, CliError, config, printJson, printTable, withStore, type GlobalOpts } from './common.js';

interface DaemonFlag { pid: number; lastPassAt: number; summary: string; mode: string }

export function registerStatus(program: Command, globals: () => GlobalOpts): void {
  program.command('status')
    .description('summary state, the health of each service, open tickets, kill switch and mode')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const cfg = config(globals());
      const fresh = !existsSync(dbPath(cfg.agent.dataDir));
      const data = fresh ? null : withStore(cfg, 'read', (s) => ({
        states: new Map(s.listServiceStates().map((st) => [st.name, st])),
        open: s.listTickets({ openOnly: true }),
        frozen: s.getFlag('frozen'),
        daemon: JSON.parse(s.getFlag('daemon') ?? 'null') as DaemonFlag | null,
      }));
      const now = Date.now();
      const daemonUp = !!data?.daemon && isAlive(data.daemon.pid) && now - data.daemon.lastPassAt < Math.max(5000, cfg.agent.intervalMs * 5);
      const services = cfg.services.map((svc) => {
        const st = data?.states.get(svc.name);
        return { name: svc.name, host: svc.host, health: (st?.health ?? 'unknown') as Health, since: iso(st?.since), detail: st?.detail ?? 'no observation yet' };
      });
      const json = {
        summary: data?.daemon?.summary ?? 'nominal',
        services,
        openTickets: data?.open.length ?? 0,
        frozen: data?.frozen !== null && data?.frozen !== undefined,
        mode: cfg.agent.mode,
        daemon: { running: daemonUp, pid: data?.daemon?.pid ?? null, lastPassAt: iso(data?.daemon?.lastPassAt) },
      };
      if (o.json) return printJson(json);
      process.stdout.write(`${cfg.agent.name}: ${json.summary}   mode ${json.mode}${json.frozen ? '   FROZEN' : ''}   daemon ${daemonUp ? `running (pid ${json.daemon.pid}, last pass ${ago(data?.daemon?.lastPassAt, now)})` : 'not running'}\n`);
      if (fresh) process.stdout.write('no observations yet: start the daemon with "warden run"\n');
      process.stdout.write('\n');
      printTable(services.map((s) => ({ service: s.name, host: s.host, health: s.health, since: ago(st(s.since), now), detail: s.detail })), 'no services in the inventory');
      process.stdout.write(`\n${json.openTickets} open ticket(s)${json.openTickets ? ': warden tickets list' : ''}\n`);
    });

  const audit = program.command('audit').description('the append-only, hash-chained audit log');
  audit.command('list')
    .description('list audit records, oldest first')
    .option('--limit <n>', 'only the last n records', '50')
    .option('--subject <id>', 'only records about this ticket or action')
    .option('--json', 'print JSON')
    .action((o: { limit: string; subject?: string; json?: boolean }) => {
      const cfg = config(globals());
      const recs = withStore(cfg, 'read', (s) => s.listAudit({ limit: Number(o.limit), ...(o.subject ? { subject: o.subject } : {}) }));
      if (o.json) return printJson(recs.map((r) => ({ ...r, at: iso(r.at) })));
      printTable(recs.map((r) => ({ seq: String(r.seq), at: iso(r.at)!, actor: r.actor, kind: r.kind, subject: r.subject ?? '-', data: JSON.stringify(r.data).slice(0, 100) })), 'the audit log is empty');
    });
  audit.command('verify')
    .description('recompute the hash chain; exits 1 and says where it breaks after any edit, deletion or reordering')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const cfg = config(globals());
      const v = withStore(cfg, 'read', (s) => s.verifyAudit());
      if (o.json) printJson(v);
      else if (v.ok) process.stdout.write(`audit chain intact: ${v.records} records, head ${v.headHash ?? '-'}\n`);
      else {
        process.stdout.write(`audit chain BROKEN (${v.records} records):\n`);
        for (const p of v.problems) process.stdout.write(`  record ${p.seq}: ${p.reason}\n`);
      }
      if (!v.ok) throw new CliError('', 1);
    });

  program.command('debug <service>')
    .description('diagnostics bundle of one service: state, checks, last exit, restarts, last 50 log lines, recent tickets and actions')
    .option('--lines <n>', 'log lines', '50')
    .option('--json', 'print JSON')
    .action((name: string, o: { lines: string; json?: boolean }) => {
      const cfg = config(globals());
      const spec = cfg.services.find((s) => s.name === name);
      if (!spec) throw new CliError(`no service "${name}" in ${cfg.file}; known: ${cfg.services.map((s) => s.name).join(', ')}`);
      const bundle = withStore(cfg, 'read', (s) => {
        const sup = new ProcessSupervisor({ dataDir: cfg.agent.dataDir, instanceId: instanceIdOf(cfg), registry: readOnly(s), clock: { now: Date.now }, onExit: () => undefined });
        const proc = s.getProcess(name);
        const running = proc ? readProcStat(proc.pid)?.startTime === proc.procStart : false;
        const exits = s.recentExits(name, 20);
        const state = s.listServiceStates().find((x) => x.name === name);
        const tickets = s.listTickets({ limit: 200 }).filter((t) => t.service === name || t.findings.some((f) => f.service === name)).slice(0, 5);
        const actions = s.listActions({ limit: 200 }).filter((a) => a.target === name).slice(0, 10);
        const bundle = {
          service: name, host: spec.host, kind: spec.kind,
          health: state?.health ?? 'unknown', since: iso(state?.since), detail: state?.detail ?? null,
          process: { running, pid: running ? proc!.pid : null, startedAt: running ? iso(proc!.startedAt) : null, state: running ? readProcStat(proc!.pid)?.state ?? null : null },
          lastExit: exits[0] ? { ...exits[0], at: iso(exits[0].at) } : null,
          restarts: actions.filter((a) => (a.type === 'restart' || a.type === 'start') && a.state === 'completed').length,
          exits: exits.map((e) => ({ ...e, at: iso(e.at) })),
          logFile: sup.logFile(name),
          log: sup.logTail(name, Number(o.lines)),
          tickets: tickets.map((t) => ({ id: t.id, status: t.status, cause: t.cause, openedAt: iso(t.openedAt), reason: t.reason })),
          actions: actions.map(actionJson),
        };
        sup.dispose();
        return bundle;
      });
      if (o.json) return printJson(bundle);
      const w = (l: string): boolean => process.stdout.write(`${l}\n`);
      w(`${bundle.host}/${bundle.service} (${bundle.kind}): ${bundle.health}${bundle.detail ? ` — ${bundle.detail}` : ''}`);
      w(`process   ${bundle.process.running ? `pid ${bundle.process.pid}, state ${bundle.process.state}, started ${bundle.process.startedAt}` : 'not running'}`);
      w(`last exit ${bundle.lastExit ? `${bundle.lastExit.signal ?? `code ${bundle.lastExit.code}`} at ${bundle.lastExit.at}` : 'none recorded'}   restarts by Warden: ${bundle.restarts}`);
      w(`tickets   ${bundle.tickets.map((t) => `${t.id} ${t.status} ${t.cause ?? ''}`).join('; ') || 'none'}`);
      w(`actions   ${bundle.actions.map((a) => `${String(a.id)} ${String(a.type)} ${String(a.state)}`).join('; ') || 'none'}`);
      w(`log (${bundle.logFile}, last ${bundle.log.length} lines):`);
      for (const l of bundle.log) w(`  ${l}`);
    });
}

function st(isoTime: string | null): number | null {
  return isoTime ? Date.parse(isoTime) : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A registry view for commands that must not change anything: writes stay in memory, so what the
 * supervisor learns (a process that died while nobody watched) still shows in this one look.
 */
export function readOnly(s: Pick<Store, 'getProcess' | 'recentExits'> | null): ProcessRegistry {
  const exits = new Map<string, ExitRecord[]>();
  const deleted = new Set<string>();
  return {
    getProcess: (n) => (deleted.has(n) || !s ? null : s.getProcess(n)),
    recentExits: (n, l) => [...(exits.get(n) ?? []), ...(s?.recentExits(n, l) ?? [])].slice(0, l ?? 50),
    putProcess: () => undefined,
    deleteProcess: (n) => { deleted.add(n); },
    addExit: (n, e) => { exits.set(n, [e, ...(exits.get(n) ?? [])]); },
  };
}
