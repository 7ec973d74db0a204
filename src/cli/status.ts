// warden status, warden audit list|verify, warden debug SERVICE
import type { Command } from 'commander';
import type { ExitRecord, ResolvedConfig, ServiceSpec } from '../domain/types.js';
import { iso, systemClock } from '../lib/clock.js';
import { formatDuration } from '../lib/duration.js';
import type { Store } from '../store/store.js';
import { ProcessSupervisor, type ProcessRegistry } from '../kinds/process/supervisor.js';
import { instanceIdOf } from '../loop/shared.js';
import { apiGet } from '../runtime/api.js';
import { apiStatus, diagnosticsBundle, LOG_LINES, renderDiagnostics, type DamagedJson, type DiagnosticsBundle, type DiagnosticsInput, type StatusJson } from '../runtime/diagnostics.js';
import { isPodman, podmanLogSource } from '../kinds/container/driver.js';
import { HostedPodmanDriver } from '../kinds/container/hosts.js';
import { Transports } from '../transport/index.js';
import { runningDamage, type DamageNote } from '../daemon/damage.js';
import { lockHolder } from '../daemon/lock.js';
import { isCorruption } from '../store/integrity.js';
import { problemResources } from '../diagnosis/gather.js';
import { eventJson } from '../views/events.js';
import { auditFilter } from './events.js';
import { ago, brokenConfig, CliError, intOption, LIMIT_MAX, printJson, printTable, readConfig, storeCreated, withStore, type GlobalOpts } from './common.js';
import { alert, state } from './color.js';
import { hostLine } from '../views/hosts.js';
import { hostBundle, renderHostBundle } from '../runtime/hostdebug.js';

export function registerStatus(program: Command, globals: () => GlobalOpts): void {
  program.command('status')
    .description('summary state, the health of each service, open tickets, kill switch and mode')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const cfg = readConfig(globals());
      const fresh = !storeCreated(cfg.agent.dataDir);
      const now = Date.now();
      const json = await statusOf(cfg, fresh, now);
      const d = json.daemon;
      const code = statusExitCode(json);
      const exit = code === 0 ? null : new CliError('', code);
      if (o.json) {
        printJson(brokenConfig ? { ...json, configError: brokenConfig } : json);
        if (exit) throw exit;
        return;
      }
      process.stdout.write(`${cfg.agent.name}: ${state(json.summary)}   mode ${json.mode}${json.frozen ? `   ${alert('FROZEN')}` : ''}   daemon ${d.running ? `running (pid ${d.pid ?? '?'}, last pass ${ago(st(d.lastPassAt), now)})` : 'not running'}\n`);
      if (d.storeDamaged) process.stdout.write(`${alert(d.storeDamaged.reason)} (since ${d.storeDamaged.since ?? '?'}); health below is current, tickets are as of then\n`);
      if (d.stale) process.stdout.write(`${alert('STALE')}: what follows is as of ${d.stale.since ?? 'no pass'}, not current: ${d.stale.reason}\n`);
      else if (!d.running && !fresh) process.stdout.write(`${alert('STALE')}: what follows is as of the last pass${d.lastPassAt ? ` (${d.lastPassAt})` : ''}; no daemon watches now: start it with "warden run"\n`);
      // The daemon re-reads the file before every pass: while it does not validate, nothing acts.
      if (brokenConfig) process.stdout.write(`${alert('CONFIG BROKEN')}: ${brokenConfig}; Warden takes no action until it validates\n`);
      if (fresh) process.stdout.write('no observations yet: start the daemon with "warden run"\n');
      process.stdout.write('\n');
      printTable(json.services.map((x) => ({
        service: x.name, host: x.host, health: x.paused ? `${x.health} (paused)` : x.health, since: ago(st(x.since), now),
        pid: x.pid === null ? '-' : String(x.pid), uptime: x.uptimeMs === null ? '-' : formatDuration(Math.round(x.uptimeMs / 1000) * 1000),
        restarts: String(x.restarts), 'last check': ago(st(x.lastCheckAt), now), 'next check': inTime(st(x.nextCheckAt), now),
        ticket: x.ticket ?? '-', detail: x.detail,
      })), 'no services in the inventory', { health: state });
      if (json.subjects.length > 0) {
        process.stdout.write('\n');
        printTable(json.subjects.map((x) => ({
          subject: x.name, type: x.type, members: x.members.join(','), health: x.health, since: ago(st(x.since), now), ticket: x.ticket ?? '-', detail: x.detail,
        })), '', { health: state });
      }
      if (json.hosts) {
        // Present when Warden watches more than its own host: one line each, what the probe last read.
        process.stdout.write('\n');
        printTable(json.hosts.map((h) => ({
          host: h.name, transport: h.transport, reachable: h.reachable === null ? '-' : h.reachable ? 'yes' : h.verdict ?? 'no',
          read: ago(st(h.seenAt), now), ticket: h.ticket ?? '-', detail: hostLine(h),
        })), '', { reachable: (v) => (v === 'yes' || v === '-' ? v : alert(v)) });
      }
      for (const u of json.unmanaged ?? []) process.stdout.write(`unmanaged: ${u.service}${u.pid ? ` (pid ${u.pid})` : ''}: ${u.reason}\n`);
      for (const p of json.peers ?? []) if (p.reachable === false) process.stdout.write(`peer ${p.name} unreachable since ${p.since ?? '?'}: ${p.reason ?? ''}\n`);
      for (const u of json.alerts?.unmatched ?? []) process.stdout.write(`alert names no service: ${u.alert} (firing since ${u.startsAt}): ${u.reason}\n`);
      process.stdout.write(`\n${json.openTickets} open ticket(s)${json.openTickets ? ': warden tickets list' : ''}\n`);
      if (exit) throw exit;
    });

  const audit = program.command('audit').description('the append-only, hash-chained audit log');
  audit.command('list')
    .description('list audit records, oldest first')
    .option('--limit <n>', 'only the last n records', intOption(1, LIMIT_MAX), 50)
    .option('--subject <id>', 'only records about this ticket or action')
    .option('--service <name>', 'only records about this service (its tickets and actions included)')
    .option('--kind <kind>', 'only this kind, or every kind under it ("action" matches action.completed)')
    .option('--since <time>', 'only records at or after this ISO time, or this long ago (10m, 1h)')
    .option('--until <time>', 'only records at or before this ISO time, or this long ago')
    .option('--json', 'print JSON')
    .action((o: { limit: number; subject?: string; service?: string; kind?: string; since?: string; until?: string; json?: boolean }) => {
      const cfg = readConfig(globals());
      const filter = { limit: o.limit, ...(o.subject ? { subject: o.subject } : {}), ...auditFilter(o, Date.now()) };
      const recs = withStore(cfg, 'read', (s) => s.listAudit(filter));
      if (o.json) return printJson(recs.map(eventJson));
      printTable(recs.map((r) => ({ seq: String(r.seq), at: iso(r.at)!, actor: r.actor, kind: r.kind, subject: r.subject ?? '-', data: JSON.stringify(r.data).slice(0, 100) })), 'no audit records match');
    });
  audit.command('verify')
    .description('recompute the hash chain, and check that tickets, actions, the kill switch and pauses are in the state\n' +
      'the chain recorded; exits 1 and says where after any edit, deletion or reordering of records, or a row\n' +
      'changed by hand (what is and is not covered: docs/json.md)')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const cfg = readConfig(globals());
      const v = withStore(cfg, 'read', (s) => s.verifyAudit());
      const state = v.state ? `; state agrees: ${v.state.tickets} tickets, ${v.state.actions} actions, ${v.state.flags} flags` : '';
      if (o.json) printJson(v);
      else if (v.ok) process.stdout.write(`audit chain intact: ${v.records} records, head ${v.headHash ?? '-'}${state}\n`);
      else {
        process.stdout.write(`audit chain BROKEN (${v.records} records):\n`);
        for (const p of v.problems) process.stdout.write(`  ${p.seq > 0 ? `record ${p.seq}: ` : ''}${p.reason}\n`);
      }
      if (!v.ok) throw new CliError('', 1);
    });

  program.command('debug <name>')
    .description('diagnostics bundle of one service (state, checks, last exit, restarts, last 50 log lines, recent tickets and actions, ' +
      'and the host it runs on when that is reached over SSH), or of one host (what its probe last read: reachable, boot id, load, ' +
      'memory, disks and inodes, clock offset; its services, tickets and actions)')
    .option('--lines <n>', 'log lines (0 to 1000)', intOption(0, 1000), LOG_LINES)
    .option('--json', 'print JSON (exactly what GET /api/services/NAME/diagnostics returns)')
    .action(async (name: string, o: { lines: number; json?: boolean }) => {
      const cfg = readConfig(globals());
      if (!cfg.services.some((s) => s.name === name) && cfg.hosts.some((h) => h.name === name)) {
        const b = storeCreated(cfg.agent.dataDir) ? withStore(cfg, 'read', (s) => hostBundle(cfg, s, name)) : null;
        if (b === null) throw new CliError(`nothing is known of host ${name} yet: start the daemon with "warden run"`);
        if (o.json) printJson(b);
        else process.stdout.write(renderHostBundle(b));
        return;
      }
      const { bundle, note } = await debugBundle(cfg, name, o.lines);
      if (o.json) return printJson(bundle);
      if (note) process.stderr.write(`${note}\n`);
      process.stdout.write(renderDiagnostics(bundle as DiagnosticsBundle));
    });
}

/**
 * Exit codes like `systemctl is-active`, in both output forms: 3 when the daemon is down, its data
 * stale (nothing below is current) or its store damaged (it repairs nothing), 1 when it watches and
 * things are degraded or unstable.
 */
export function statusExitCode(s: Pick<StatusJson, 'summary' | 'daemon'>): 0 | 1 | 3 {
  if (!s.daemon.running || s.daemon.stale || s.daemon.storeDamaged) return 3;
  return s.summary === 'nominal' ? 0 : 1;
}

/**
 * The status from the daemon's API when it answers (it knows whether its own passes fail), else
 * from the store, with the lock's holder telling a daemon whose passes fail from one that is down.
 */
export async function statusOf(cfg: ResolvedConfig, fresh: boolean, now: number, env: NodeJS.ProcessEnv = process.env): Promise<StatusJson> {
  if (cfg.agent.api) {
    const answer = await apiGet(cfg.agent.api, '/api/status', { env, timeoutMs: 1000 });
    if (answer.ok) return answer.body as StatusJson;
  }
  const holder = lockHolder(cfg.agent.dataDir);
  const damaged = damagedJson(runningDamage(cfg.agent.dataDir, holder));
  if (fresh) return apiStatus({ config: cfg, store: null, now, holder });
  try {
    return withStore(cfg, 'read', (s) => apiStatus({ config: cfg, store: s, now, holder, damaged }));
  } catch (e) {
    // The daemon already said the store is damaged: say that, rather than fail on the bad page.
    if (damaged === null || !isCorruption(e)) throw e;
    return apiStatus({ config: cfg, store: null, now, holder, damaged });
  }
}

/**
 * The diagnostics bundle, from the daemon's API when it answers (live check results), otherwise
 * built here from the store by the same function the API uses, without checks.
 */
export async function debugBundle(cfg: ResolvedConfig, name: string, lines = LOG_LINES, env: NodeJS.ProcessEnv = process.env): Promise<{ bundle: unknown; note: string | null }> {
  const spec = cfg.services.find((s) => s.name === name);
  if (!spec) throw new CliError(`no service or host "${name}" in ${cfg.file}; services: ${cfg.services.map((s) => s.name).join(', ')}; hosts: ${cfg.hosts.map((h) => h.name).join(', ')}`);
  let note: string;
  if (cfg.agent.api) {
    const answer = await apiGet(cfg.agent.api, `/api/services/${encodeURIComponent(name)}/diagnostics?lines=${lines}`, { env });
    if (answer.ok) return { bundle: answer.body, note: null };
    note = `daemon not reachable: checks not shown (${answer.reason})`;
  } else {
    note = 'daemon API not configured (agent.api): checks not shown';
  }
  const damaged = damagedJson(runningDamage(cfg.agent.dataDir, lockHolder(cfg.agent.dataDir)));
  try {
    const live = await podmanObservation(cfg, spec, lines);
    const bundle = withStore(cfg, 'read', (s) => (live
      ? diagnosticsBundle({ config: cfg, spec, store: s, checks: null, health: null, now: Date.now(), resources: problemResources(cfg, { service: name, findings: [] }), ...live })
      : localDiagnostics(cfg, spec, s, lines, Date.now())));
    return { bundle: damaged ? { storeDamaged: damaged, ...bundle } : bundle, note };
  } catch (e) {
    // The daemon found the damage first: its sentence, rather than the bad page's error.
    if (damaged !== null && isCorruption(e)) throw new CliError(damaged.reason);
    throw e;
  }
}

/** Containers and pods are observed through podman from here too, on their host (one inspect, one logs call each). */
async function podmanObservation(cfg: ResolvedConfig, spec: ServiceSpec, lines: number): Promise<Pick<DiagnosticsInput, 'process' | 'logTail' | 'logSource' | 'pod'> | null> {
  if (!isPodman(spec)) return null;
  const transports = new Transports(cfg.agent.dataDir);
  transports.set(cfg.hosts);
  const driver = new HostedPodmanDriver({ clock: systemClock, onChange: () => undefined, onExit: () => undefined, onError: () => undefined, transport: (h) => transports.get(h) });
  try {
    driver.setServices([spec]);
    await driver.refresh();
    await driver.refreshLogs(spec);
    const process = driver.state(spec);
    return {
      process, logTail: driver.logTail(spec, lines), pod: driver.podJson(spec, process, lines),
      logSource: podmanLogSource(spec),
    };
  } finally {
    driver.dispose();
    await transports.closeAll();
  }
}

function damagedJson(note: DamageNote | null): DamagedJson | null {
  return note && { since: note.since, reason: note.reason };
}

/** Observes the service from this process (no live checks) and builds the bundle. */
export function localDiagnostics(cfg: ResolvedConfig, spec: ServiceSpec, store: Store, lines: number, now: number): DiagnosticsBundle {
  const resources = problemResources(cfg, { service: spec.name, findings: [] });
  if (spec.kind !== 'process') {
    // Only the daemon's driver observes other kinds; the store still tells health, tickets, actions.
    return diagnosticsBundle({ config: cfg, spec, store, process: null, checks: null, logTail: [], logSource: null, resources, health: null, now });
  }
  const sup = new ProcessSupervisor({ dataDir: cfg.agent.dataDir, instanceId: instanceIdOf(cfg), registry: readOnly(store), clock: systemClock, onExit: () => undefined });
  try {
    sup.adopt([spec]);
    return diagnosticsBundle({
      config: cfg, spec, store, process: sup.state(spec.name), checks: null,
      logTail: sup.logTail(spec.name, lines), logSource: sup.logFile(spec.name), resources, health: null, now,
    });
  } finally {
    sup.dispose();
  }
}

/** When something is due, for people: "in 3s", "now" once due, "-" when unknown. */
function inTime(ms: number | null, now: number): string {
  if (ms === null) return '-';
  const s = Math.round((ms - now) / 1000);
  return s > 0 ? `in ${s}s` : 'now';
}

function st(isoTime: string | null): number | null {
  return isoTime ? Date.parse(isoTime) : null;
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
