// Read models shared by the HTTP API and the CLI: the diagnostics bundle of one service and the
// status summary. One builder each, so `warden debug NAME --json` and
// `GET /api/services/NAME/diagnostics` (and `warden status --json` and `GET /api/status`) cannot
// drift apart: they are the same function over the same inputs.
import type {
  Action, AlertFacts, CheckSpec, CheckState, ExitRecord, Health, Millis, ProbeResult, ProcessState, ResolvedConfig, ServiceSpec, Summary, Ticket,
  TicketStatus,
} from '../domain/types.js';
import { iso } from '../lib/clock.js';
import { parsePause, PAUSE_PREFIX } from '../domain/pause.js';
import type { Store } from '../store/store.js';
import { probeTarget } from '../probes/index.js';
import { alertsJson, alertsOn, type AlertsJson } from '../views/alerts.js';
import { peersJson, type PeerJson } from '../views/peers.js';
import { hostLine, hostsJson, oneHostJson, type HostJson } from '../views/hosts.js';
import { renderPod, type PodJson } from './pod.js';
import type { EvidencePiece, HostResources } from '../diagnosis/pieces.js';
import { serviceEvidence } from './evidence.js';

export const TICKET_STATUSES: readonly TicketStatus[] = [
  'open', 'diagnosing', 'awaiting_approval', 'remediating', 'verifying', 'resolved', 'escalated', 'held',
];

/** Log lines in a bundle unless asked otherwise (the pod-diagnostics convention). */
export const LOG_LINES = 50;
const TICKETS_SHOWN = 5;
const ACTIONS_SHOWN = 10;
const EXITS_SHOWN = 20;
/** How far back tickets and actions are scanned for this service (newest first). */
const SCAN = 500;

export interface HealthRecord {
  health: Health;
  reason: string;
  since: Millis | null;
}

export interface DiagnosticsInput {
  config: ResolvedConfig;
  spec: ServiceSpec;
  store: Pick<Store, 'listTickets' | 'listActions' | 'listServiceStates' | 'flagsWithPrefix' | 'getProcess'>;
  /** null when the service's kind cannot be observed from here (the CLI without the daemon). */
  process: ProcessState | null;
  /** Live check states from the daemon's scheduler; null when not observed live. */
  checks: CheckState[] | null;
  logTail: string[];
  /** Where the log lines came from (a file path, "journal"); null when unknown. */
  logSource?: string | null;
  /** Live health; null reads the last health the daemon persisted. */
  health: HealthRecord | null;
  now: Millis;
  /** The running daemon found its store damaged (daemon/damage.ts): acting stopped. */
  damaged?: DamagedJson | null;
  /** A kind pod's containers, each with its log tail (runtime/pod.ts); absent for other kinds. */
  pod?: PodJson | null;
  /** The resources of the service's host, read where it runs (diagnosis/gather.ts); absent: not read. */
  resources?: HostResources | null;
}

/** Store damage the running daemon found: since when, and the sentence that says it. */
export interface DamagedJson { since: string | null; reason: string }

export interface CheckJson {
  id: string;
  type: string;
  /** What is probed: the address, URL or argv. */
  target: string;
  intervalMs: number;
  timeoutMs: number;
  healthy: boolean | null;
  since: string | null;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** The check's latency bound (`slowerThan`), when it has one. */
  slowerThanMs?: number;
  /**
   * `value`: what the probe measured (a file's field, free space, PromQL samples), when it measured
   * something; `slowerThanMs`: set when the answer came, but later than the bound (a slow failure).
   */
  last: { ok: boolean; message: string; latencyMs: number; timedOut: boolean; at: string | null; value?: ProbeResult['value']; slowerThanMs?: number } | null;
}

export interface ExitJson {
  at: string | null;
  code: number | null;
  signal: string | null;
  uptimeMs: number | null;
  byWarden?: boolean;
}

export interface TicketSummaryJson {
  id: string;
  /** The service (or subject, or host) the ticket is about, as in every other ticket JSON. */
  service: string;
  status: string;
  state: string;
  cause: string | null;
  rootCause: Ticket['rootCause'];
  occurrences: number;
  openedAt: string | null;
  resolvedAt: string | null;
  reason: string | null;
  findings: { kind: string; service: string; reason: string; dependencyDown?: string }[];
}

export interface ActionSummaryJson {
  id: string;
  ticketId: string | null;
  type: string;
  target: string;
  service: string;
  state: string;
  attempts: number;
  requestedBy: string;
  createdAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

export interface DiagnosticsBundle {
  /** Present while the running daemon's store is damaged: it observes but does not act. */
  storeDamaged?: DamagedJson;
  service: string;
  host: string;
  /** Alerts from Alertmanager firing on it, when any: labels, annotations, startsAt, generatorURL. */
  alerts?: AlertFacts[];
  kind: string;
  unit: string | null;
  generatedAt: string | null;
  health: Health;
  since: string | null;
  detail: string | null;
  /** Set while a person has paused the service. */
  paused: PauseJson | null;
  process: {
    running: boolean;
    pid: number | null;
    startedAt: string | null;
    /** /proc state letter (R, S, T, Z, ...). */
    state: string | null;
    spawnError: string | null;
    failing: string | null;
    facts: Record<string, string | number | null>;
  } | null;
  checks: CheckJson[] | null;
  lastExit: ExitJson | null;
  /** Repairs that (re)started the process: completed restarts, and starts made for a ticket. */
  restarts: number;
  exits: ExitJson[];
  logSource: string | null;
  log: string[];
  tickets: TicketSummaryJson[];
  actions: ActionSummaryJson[];
  /**
   * The evidence pieces about this service under the ids a diagnosis cites them by
   * (diagnosis/pieces.ts): `untrusted` marks text the service wrote, not Warden.
   */
  evidence: EvidencePiece[];
  /** A pod's state and its containers (kind pod only). */
  pod?: PodJson;
  /** The host it runs on, when Warden reaches that host over SSH: what the host monitor last read. */
  hostFacts?: HostJson;
}

function exitJson(e: ExitRecord): ExitJson {
  return { at: iso(e.at), code: e.code, signal: e.signal, uptimeMs: e.uptimeMs, ...(e.byWarden ? { byWarden: true } : {}) };
}

function checkJson(spec: CheckSpec, st: CheckState | undefined): CheckJson {
  return {
    id: spec.id, type: spec.probe.type, target: probeTarget(spec.probe), intervalMs: spec.intervalMs, timeoutMs: spec.timeoutMs,
    ...(spec.slowerThanMs !== undefined ? { slowerThanMs: spec.slowerThanMs } : {}),
    healthy: st?.healthy ?? null, since: iso(st?.since),
    consecutiveFailures: st?.consecutiveFailures ?? 0, consecutiveSuccesses: st?.consecutiveSuccesses ?? 0,
    last: st?.last ? {
      ok: st.last.ok, message: st.last.message, latencyMs: st.last.latencyMs, timedOut: st.last.timedOut, at: iso(st.last.at),
      ...(st.last.value !== undefined ? { value: st.last.value } : {}),
      ...(st.last.slowerThanMs !== undefined ? { slowerThanMs: st.last.slowerThanMs } : {}),
    } : null,
  };
}

export function ticketSummary(t: Ticket): TicketSummaryJson {
  return {
    id: t.id, service: t.service, status: t.status, state: t.status, cause: t.cause, rootCause: t.rootCause, occurrences: t.occurrences,
    openedAt: iso(t.openedAt), resolvedAt: iso(t.resolvedAt), reason: t.reason,
    findings: t.findings.map((f) => ({ kind: f.kind, service: f.service, reason: f.reason, ...(f.dependencyDown ? { dependencyDown: f.dependencyDown } : {}) })),
  };
}

export function actionSummary(a: Action): ActionSummaryJson {
  return {
    id: a.id, ticketId: a.ticketId, type: a.type, target: a.target, service: a.target, state: a.state, attempts: a.attempts,
    requestedBy: a.requestedBy, createdAt: iso(a.createdAt), finishedAt: iso(a.finishedAt), error: a.error,
  };
}

/** A first deployment start is not a restart; a start that repaired a dead service is. */
function isRestart(a: Action): boolean {
  return a.state === 'completed' && (a.type === 'restart' || (a.type === 'start' && a.ticketId !== null));
}

/** The diagnostics bundle of one service: plain JSON, ISO timestamps, the same for API and CLI. */
export function diagnosticsBundle(input: DiagnosticsInput): DiagnosticsBundle {
  const { spec, store, process: proc } = input;
  const name = spec.name;
  const persisted = store.listServiceStates().find((x) => x.name === name && x.host === spec.host);
  const health: HealthRecord | null = input.health ?? (persisted ? { health: persisted.health, reason: persisted.detail, since: persisted.since } : null);
  const tickets = store.listTickets({ limit: SCAN }).filter((t) => t.service === name || t.findings.some((f) => f.service === name));
  const actions = store.listActions({ limit: SCAN }).filter((a) => a.target === name);
  const exits = (proc?.exits ?? []).slice(0, EXITS_SHOWN);
  const checkStates = new Map((input.checks ?? []).map((c) => [c.id, c]));
  return {
    ...(input.damaged ? { storeDamaged: input.damaged } : {}),
    service: name,
    host: spec.host,
    kind: spec.kind,
    unit: spec.unit,
    generatedAt: iso(input.now),
    health: health?.health ?? 'unknown',
    since: iso(health?.since),
    detail: health?.reason ?? null,
    paused: pausesOf(store).get(name) ?? null,
    ...alertsOn(input.config, store, name, input.now),
    process: proc && {
      running: proc.running,
      pid: proc.running ? proc.pid : null,
      startedAt: proc.running ? iso(proc.startedAt) : null,
      state: proc.running ? proc.procState : null,
      spawnError: proc.spawnError,
      failing: proc.failing ?? null,
      facts: proc.facts ?? {},
    },
    checks: input.checks === null ? null : spec.checks.map((c) => checkJson(c, checkStates.get(c.id))),
    lastExit: exits[0] ? exitJson(exits[0]) : null,
    restarts: actions.filter(isRestart).length,
    exits: exits.map(exitJson),
    logSource: input.logSource ?? null,
    log: input.logTail,
    tickets: tickets.slice(0, TICKETS_SHOWN).map(ticketSummary),
    actions: actions.slice(0, ACTIONS_SHOWN).map(actionSummary),
    evidence: serviceEvidence({
      config: input.config, spec, process: proc, checks: input.checks, logTail: input.logTail, tickets, actions,
      recordedStart: store.getProcess(name)?.argv ?? null, resources: input.resources ?? null, now: input.now,
    }),
    ...(input.pod ? { pod: input.pod } : {}),
    ...hostFactsOf(input.config, store, spec.host),
  };
}

function hostFactsOf(config: ResolvedConfig, store: DiagnosticsInput['store'], host: string): Pick<DiagnosticsBundle, 'hostFacts'> {
  const h = config.hosts.find((x) => x.name === host)?.transport === 'ssh' ? oneHostJson(config, store, host) : null;
  return h ? { hostFacts: h } : {};
}

/** For people: what `warden debug NAME` prints without --json. */
export function renderDiagnostics(b: DiagnosticsBundle): string {
  const out: string[] = [];
  if (b.storeDamaged) out.push(b.storeDamaged.reason);
  const exitText = (e: ExitJson): string => `${e.signal ? `signal ${e.signal}` : `code ${e.code ?? '?'}`} at ${e.at ?? '?'}${e.uptimeMs !== null ? ` after ${e.uptimeMs} ms` : ''}${e.byWarden ? ' (stopped by Warden)' : ''}`;
  out.push(`${b.host}/${b.service} (${b.kind}${b.unit ? ` ${b.unit}` : ''}): ${b.health}${b.detail ? ` — ${b.detail}` : ''}${b.since ? ` (since ${b.since})` : ''}`);
  if (b.paused) out.push(`PAUSED    by ${b.paused.by}${b.paused.until ? ` until ${b.paused.until}` : ' until resumed'}${b.paused.reason ? `: ${b.paused.reason}` : ''}; Warden does not act on it`);
  const p = b.process;
  if (p === null) out.push('process   not observed from here');
  else {
    out.push(`process   ${p.running ? `pid ${p.pid ?? '?'}, state ${p.state ?? '?'}, started ${p.startedAt ?? '?'}` : 'not running'}${p.spawnError ? `; start failed: ${p.spawnError}` : ''}${p.failing ? `; failing: ${p.failing}` : ''}`);
    const facts = Object.entries(p.facts);
    if (facts.length > 0) out.push(`facts     ${facts.map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
  }
  if (b.checks === null) out.push('checks    not shown (needs the running daemon)');
  else if (b.checks.length === 0) out.push('checks    none configured');
  else {
    out.push('checks');
    for (const c of b.checks) {
      const verdict = c.healthy === null ? 'pending' : c.healthy ? 'healthy' : 'UNHEALTHY';
      const last = c.last ? `${c.last.ok ? 'ok' : 'FAIL'}${c.last.timedOut ? ' (timed out)' : ''}: ${c.last.message} (${c.last.latencyMs} ms, at ${c.last.at ?? '?'})` : 'no result yet';
      out.push(`  ${c.id.padEnd(12)} ${c.type} ${c.target}: ${verdict}, ${c.consecutiveFailures} failures / ${c.consecutiveSuccesses} successes in a row; last ${last}`);
    }
  }
  if (b.pod) out.push(...renderPod(b.pod));
  if (b.hostFacts) out.push(`host      ${b.hostFacts.name} (${b.hostFacts.transport} ${b.hostFacts.address ?? ''}): ${b.hostFacts.reachable === false ? 'UNREACHABLE ' : ''}${hostLine(b.hostFacts)}`);
  out.push(`last exit ${b.lastExit ? exitText(b.lastExit) : 'none recorded'}   restarts by Warden: ${b.restarts}`);
  out.push('tickets');
  if (b.tickets.length === 0) out.push('  none');
  for (const t of b.tickets) {
    out.push(`  ${t.id} ${t.status}${t.cause ? ` ${t.cause}` : ''}${t.rootCause && t.rootCause.service !== b.service ? ` (root cause ${t.rootCause.service})` : ''}, opened ${t.openedAt ?? '?'}${t.reason ? ` — ${t.reason}` : ''}`);
    for (const f of t.findings) out.push(`    - ${f.service}: ${f.kind}${f.dependencyDown ? ` (dependency_down: ${f.dependencyDown})` : ''} — ${f.reason}`);
  }
  out.push('actions');
  if (b.actions.length === 0) out.push('  none');
  for (const a of b.actions) out.push(`  ${a.id} ${a.type} ${a.target} ${a.state} (attempts ${a.attempts}, ${a.createdAt ?? '?'})${a.error ? ` — ${a.error}` : ''}`);
  out.push('evidence (the ids a diagnosis cites)');
  for (const p of b.evidence) if (p.kind !== 'log') out.push(`  ${p.id}  ${p.text}`);
  const logIds = b.evidence.filter((p) => p.kind === 'log');
  const cited = logIds.length > 0 ? `, cited as ${logIds[0]!.id} to ${logIds.at(-1)!.id}` : '';
  out.push(`log (${b.logSource ?? 'source unknown'}, last ${b.log.length} lines${cited}):`);
  for (const l of b.log) out.push(`  ${l}`);
  return `${out.join('\n')}\n`;
}

// ------------------------------------------------------------------------------ status

/** What the daemon writes to the `daemon` flag at most once a second. */
export interface DaemonFlag { pid: number; lastPassAt: Millis; summary: Summary; mode: string }

/** Flag key prefix of a service a reload removed and left running; its value is an UnmanagedFlag. */
export const UNMANAGED_PREFIX = 'unmanaged:';
export interface UnmanagedFlag { pid: number | null; since: Millis; reason: string }

export interface StatusJson {
  summary: Summary;
  services: {
    name: string; service: string; host: string; health: Health; since: string | null; detail: string;
    /** Set while a person has paused the service (Warden observes it but does not act on it). */
    paused: PauseJson | null;
    /** The running process Warden started (process kind), with when it started and for how long. */
    pid: number | null;
    startedAt: string | null;
    uptimeMs: number | null;
    /** Completed repairs that (re)started it, as `debug` counts them. */
    restarts: number;
    /** The latest check result and when the next is due; null without the daemon's live checks. */
    lastCheckAt: string | null;
    nextCheckAt: string | null;
    /** The open ticket it belongs to (as root cause or symptom), newest first; null when none. */
    ticket: string | null;
  }[];
  /** Each subject (docs/subjects.md): its health as its invariants say, and its open ticket. */
  subjects: { name: string; type: string; members: string[]; health: Health; since: string | null; detail: string; ticket: string | null }[];
  openTickets: number;
  /** Services removed from the inventory and left running (present when there are any). */
  unmanaged?: { service: string; pid: number | null; since: string | null; reason: string }[];
  /** Alerts from Alertmanager, when any are held: how many fire on services, and those naming none. */
  alerts?: AlertsJson;
  /** The peer Wardens this one watches, when any are configured. */
  peers?: PeerJson[];
  /**
   * Every host of the inventory, when it has more than Warden's own: what the host monitor last
   * read of each, and its ticket and findings (views/hosts.ts).
   */
  hosts?: HostJson[];
  frozen: boolean;
  mode: string;
  /**
   * `stale` only when a daemon runs but its passes do not complete: what is shown is not current.
   * `storeDamaged` when it found its store damaged: it keeps observing (health is current, tickets
   * are as of the damage) and acts on nothing until restarted.
   */
  daemon: { running: boolean; pid: number | null; lastPassAt: string | null; stale?: { since: string | null; reason: string }; storeDamaged?: DamagedJson };
}

/** A pause as shown by status, debug and the API. */
export interface PauseJson { by: string; reason: string | null; since: string | null; until: string | null }

/** The pauses the store holds, by service (an expired one shows until the next pass ends it). */
export function pausesOf(store: Pick<Store, 'flagsWithPrefix'> | null): Map<string, PauseJson> {
  const out = new Map<string, PauseJson>();
  for (const [service, value] of store?.flagsWithPrefix(PAUSE_PREFIX) ?? []) {
    const p = parsePause(value);
    if (p) out.set(service, { by: p.by, reason: p.reason, since: iso(p.at), until: iso(p.until?.wall) });
  }
  return out;
}

export function failureText(f: PassFailure): string {
  return `reconcile passes fail since ${new Date(f.since).toISOString()} (${f.failures} in a row): ${f.reason}`;
}

/**
 * Whether the loop is progressing: a pass within this budget. The daemon passes at least every
 * interval; several missed intervals (or 5 s, whichever is longer) mean it is stuck or gone.
 */
export function progressBudgetMs(intervalMs: number): number {
  return Math.max(5000, intervalMs * 5);
}

export function loopProgressing(lastPassAt: Millis | null | undefined, now: Millis, intervalMs: number): boolean {
  return lastPassAt != null && lastPassAt > 0 && now - lastPassAt < progressBudgetMs(intervalMs);
}

/** Passes are failing (daemon/self.ts): what /healthz, the watchdog and status need of it. */
export interface PassFailure { since: Millis; failures: number; reason: string }

/**
 * The verdict /healthz and the systemd watchdog both give, with the reason for people. Store
 * damage (`damaged`, its sentence) fails /healthz; the watchdog leaves it out, since a daemon that
 * still observes should not be killed into a restart that refuses the store.
 */
export function progressVerdict(running: boolean, lastPassAt: Millis, now: Millis, intervalMs: number, failing: PassFailure | null = null, damaged: string | null = null): { ok: boolean; reason: string } {
  if (!running) return { ok: false, reason: 'the daemon is not running (starting, draining or stopped)' };
  if (damaged !== null) return { ok: false, reason: damaged };
  if (failing) return { ok: false, reason: failureText(failing) };
  if (!loopProgressing(lastPassAt, now, intervalMs)) {
    return { ok: false, reason: lastPassAt > 0 ? `no reconcile pass for ${now - lastPassAt} ms (budget ${progressBudgetMs(intervalMs)} ms)` : 'no reconcile pass yet' };
  }
  return { ok: true, reason: `last pass ${now - lastPassAt} ms ago` };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The reads status and debug make: the store's, or the daemon's memory while the store is damaged. */
export type ReadSide = Pick<Store, 'listServiceStates' | 'listTickets' | 'getFlag' | 'flagsWithPrefix' | 'getProcess' | 'listActions'>;

export interface StatusInput {
  config: ResolvedConfig;
  /** null when nothing has run with this data directory yet. */
  store: ReadSide | null;
  /** The daemon's live check states of a service (the API); absent when read from the store. */
  checks?: (service: string) => CheckState[];
  now: Millis;
  /** The daemon answering for itself (the API); otherwise liveness is read from the daemon flag. */
  live?: { pid: number; lastPassAt: Millis; summary: Summary; failing?: PassFailure | null } | null;
  /**
   * The data directory's lock holder (daemon/lock.ts lockHolder), when the caller probed it: then a
   * live holder whose heartbeat is old is a daemon whose passes fail, not a daemon that is down.
   */
  holder?: { pid: number } | null;
  /** The running daemon found its store damaged (daemon/damage.ts). */
  damaged?: DamagedJson | null;
}

function unmanagedOf(store: Pick<Store, 'flagsWithPrefix'> | null): Pick<StatusJson, 'unmanaged'> {
  const flags = [...(store?.flagsWithPrefix(UNMANAGED_PREFIX) ?? [])];
  if (flags.length === 0) return {};
  return { unmanaged: flags.map(([service, v]) => {
    const f = JSON.parse(v) as UnmanagedFlag;
    return { service, pid: f.pid, since: iso(f.since), reason: f.reason };
  }) };
}

/** `warden status --json` and `GET /api/status`: the shape DESIGN.md promises, plus `daemon`. */
export function apiStatus(input: StatusInput): StatusJson {
  const { config: cfg, store, now } = input;
  const states = new Map((store?.listServiceStates() ?? []).map((s) => [`${s.host}/${s.name}`, s]));
  const flag = input.live ?? (JSON.parse(store?.getFlag('daemon') ?? 'null') as DaemonFlag | null);
  const pauses = pausesOf(store);
  const open = store?.listTickets({ openOnly: true }) ?? [];
  const actions = store?.listActions({ limit: SCAN }) ?? [];
  let running = input.live ? true : !!flag && pidAlive(flag.pid) && loopProgressing(flag.lastPassAt, now, cfg.agent.intervalMs);
  let pid = flag?.pid ?? null;
  let stale: { since: string | null; reason: string } | undefined;
  if (input.damaged) {
    // Not stale: the daemon observes on; what it cannot do (act, record) the sentence says.
    running = true;
    pid = input.live?.pid ?? input.holder?.pid ?? pid;
  } else if (input.live?.failing) {
    stale = { since: iso(input.live.failing.since), reason: failureText(input.live.failing) };
  } else if (!input.live && input.holder) {
    running = true;
    pid = input.holder.pid;
    if (!loopProgressing(flag?.lastPassAt, now, cfg.agent.intervalMs)) {
      const last = flag?.lastPassAt ?? null;
      stale = {
        since: iso(last),
        reason: `the daemon (pid ${pid}) holds the data directory but has recorded no completed pass ${last ? `for ${Math.round((now - last) / 1000)} s` : 'yet'}: its passes fail or it is stuck (see its log, or /healthz)`,
      };
    }
  }
  return {
    summary: flag?.summary ?? 'nominal',
    services: cfg.services.map((svc) => {
      const st = states.get(`${svc.host}/${svc.name}`);
      const proc = svc.kind === 'process' ? store?.getProcess(svc.name) ?? null : null;
      const alive = proc !== null && pidAlive(proc.pid);
      const checks = input.checks?.(svc.name) ?? null;
      const last = checks ? Math.max(0, ...checks.map((c) => c.last?.at ?? 0)) : 0;
      const every = Math.min(...svc.checks.map((c) => c.intervalMs));
      return {
        name: svc.name, service: svc.name, host: svc.host, health: st?.health ?? 'unknown', since: iso(st?.since), detail: st?.detail ?? 'no observation yet',
        paused: pauses.get(svc.name) ?? null,
        pid: alive ? proc.pid : null, startedAt: alive ? iso(proc.startedAt) : null, uptimeMs: alive ? Math.max(0, now - proc.startedAt) : null,
        restarts: actions.filter((a) => a.target === svc.name && isRestart(a)).length,
        lastCheckAt: last > 0 ? iso(last) : null,
        nextCheckAt: last > 0 && Number.isFinite(every) ? iso(last + every) : null,
        ticket: open.find((t) => t.service === svc.name || t.findings.some((f) => f.service === svc.name))?.id ?? null,
      };
    }),
    subjects: cfg.subjects.map((sub) => {
      const st = states.get(`${sub.host}/${sub.name}`);
      return {
        name: sub.name, type: sub.type, members: [...sub.members], health: st?.health ?? 'unknown', since: iso(st?.since), detail: st?.detail ?? 'no observation yet',
        ticket: open.find((t) => t.service === sub.name)?.id ?? null,
      };
    }),
    openTickets: open.length,
    ...unmanagedOf(store),
    ...alertsJson(cfg, store, now),
    ...peersJson(cfg, store),
    ...(cfg.hosts.some((h) => h.transport !== 'local') ? { hosts: hostsJson(cfg, store, open) } : {}),
    frozen: (store?.getFlag('frozen') ?? null) !== null,
    // The running daemon's mode (its heartbeat says it), not the file's, which may differ until a reload.
    mode: !input.live && running && flag && 'mode' in flag && typeof flag.mode === 'string' ? flag.mode : cfg.agent.mode,
    daemon: { running, pid, lastPassAt: iso(flag?.lastPassAt), ...(stale ? { stale } : {}), ...(input.damaged ? { storeDamaged: input.damaged } : {}) },
  };
}
