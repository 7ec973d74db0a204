// Test fixtures for the pure decision functions: a small inventory (cache ← web ← worker), world
// builders, and a driver that steps `decide` pass by pass the way the daemon does — keeping tickets
// and actions between passes in memory, with a fake clock. Not imported by production code.
import { subjects } from '../subjects/index.js';
import { diagnose } from '../diagnosis/rules.js';
import type { DecideInput, DecideOutput, DiagnosisAnswer } from '../domain/decide.js';
import { decideSettled } from '../domain/settle.js';
import type { MonoStamp } from '../domain/elapsed.js';
import type { WindowState } from '../domain/guardrails.js';
import type {
  Action, CheckSpec, CheckState, ExitRecord, Millis, Mode, PolicyRule, ProcessState,
  RateLimit, ResolvedConfig, RunbookSpec, ServiceObservation, ServiceSpec, SubjectSpec, Ticket, World,
} from '../domain/types.js';
import { TERMINAL_ACTION_STATES } from '../domain/types.js';
import { transitionAction, type ActionEvent } from '../domain/action.js';

/** A fixed, round start time: 2025-01-01T00:00:00.000Z. */
export const T0: Millis = Date.UTC(2025, 0, 1);
/** Monotonic time at T0 (milliseconds since an imaginary boot), and that boot's id. */
export const M0 = 5_000_000;
export const BOOT = 'boot-1';

// ---------------------------------------------------------------- configuration

export function tcpCheck(port: number, over: Partial<CheckSpec> = {}): CheckSpec {
  return {
    id: 'tcp#0', probe: { type: 'tcp', address: `127.0.0.1:${port}` }, intervalMs: 500, timeoutMs: 300,
    failures: 2, successes: 1, ...over,
  };
}

export function runbook(name: string, causes: RunbookSpec['for'], over: Partial<RunbookSpec> = {}): RunbookSpec {
  return { name, argv: ['./runbooks/' + name + '.sh'], cwd: '/srv/lab', env: {}, timeoutMs: 60_000, for: causes, ...over };
}

/** A stable port per name, so two configs built alike are deep-equal. */
const portOf = (name: string): number => 7000 + ([...name].reduce((n, c) => n + c.charCodeAt(0), 0) % 1000);

export function service(name: string, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name, host: 'local', kind: 'process', start: ['node', `${name}.js`], unit: null, cwd: '/srv/lab', env: {},
    stopSignal: 'SIGTERM', stopGraceMs: 5000, dependsOn: [], checks: [tcpCheck(portOf(name))], runbooks: [],
    logMaxBytes: 1 << 20, logKeep: 3, ...over,
  } as ServiceSpec; // an override may change the kind, so the variant is asserted
}

export interface ConfigOptions {
  mode?: Mode;
  /** Add `worker`, which depends on `web`. */
  worker?: boolean;
  /** Replace the default inventory entirely. */
  services?: ServiceSpec[];
  /** Subjects over the inventory (src/subjects/). */
  subjects?: SubjectSpec[];
  /** Per-service overrides of the default inventory (runbooks, checks, ...). */
  override?: Record<string, Partial<ServiceSpec>>;
  rules?: PolicyRule[];
  limits?: RateLimit[];
  approvalTtlMs?: number;
  people?: ResolvedConfig['people'];
  agent?: Partial<ResolvedConfig['agent']>;
  /** Further policy keys (tiers, windows, cooldown, concurrency). */
  policy?: Partial<ResolvedConfig['policy']>;
}

export const ALLOW_ALL: PolicyRule = {
  match: { service: '*', host: '*' }, allow: ['start', 'restart', 'stop', 'run-runbook'], approval: 'none',
};

/** cache ← web ← (worker): web depends on cache, worker on web. Execute mode, restarts limited to 3 per 10m. */
export function makeConfig(o: ConfigOptions = {}): ResolvedConfig {
  const services = o.services ?? [
    service('cache'),
    service('web', { dependsOn: ['cache'] }),
    ...(o.worker ? [service('worker', { dependsOn: ['web'] })] : []),
  ];
  for (const s of services) Object.assign(s, o.override?.[s.name] ?? {});
  return {
    file: '/srv/lab/warden.yaml',
    subjects: o.subjects ?? [],
    agent: {
      name: 'otto', mode: o.mode ?? 'execute', dataDir: '/srv/lab/.warden', intervalMs: 1000, resyncMs: 10_000,
      verifyStableMs: 500, verifyDeadlineMs: 30_000, crashLoopWindowMs: 60_000, crashLoopExits: 3,
      reopenWindowMs: 600_000, flapThreshold: 3, api: null, lab: false, prometheus: 'http://127.0.0.1:9090', ...o.agent,
    },
    hosts: [{ name: 'local', transport: 'local' }],
    services,
    policy: {
      rules: o.rules ?? [ALLOW_ALL],
      limits: o.limits ?? [{ action: 'restart', per: 'service', max: 3, windowMs: 600_000 }],
      approvalTtlMs: o.approvalTtlMs ?? 3_600_000,
      ...o.policy,
    },
    people: o.people ?? [],
    notify: [],
  };
}

// ---------------------------------------------------------------- world: processes

export function exitAt(at: Millis, how: { code?: number | null; signal?: string | null; uptimeMs?: number | null; byWarden?: boolean } = {}): ExitRecord {
  const e: ExitRecord = { at, code: how.code ?? (how.signal ? null : 1), signal: how.signal ?? null, uptimeMs: how.uptimeMs ?? 5000 };
  if (how.byWarden) e.byWarden = true;
  return e;
}

/** Alive and scheduled normally (procState 'S'). */
export function running(over: Partial<ProcessState> = {}): ProcessState {
  return { running: true, pid: 4242, startedAt: T0 - 60_000, startedMono: M0 - 60_000, procState: 'S', spawnError: null, exits: [], ...over };
}

/** Alive but SIGSTOP-ed (procState 'T'): the mark of a hung process. */
export function stopped(over: Partial<ProcessState> = {}): ProcessState {
  return running({ procState: 'T', ...over });
}

/** Gone after running: by default one exit (SIGKILL) just before T0. Pass `exits` newest first. */
export function dead(exits: ExitRecord[] = [exitAt(T0 - 1, { signal: 'SIGKILL' })]): ProcessState {
  return { running: false, pid: null, startedAt: null, procState: null, spawnError: null, exits };
}

/** Declared but never ran under this Warden: no process, no exit history. */
export function neverRan(): ProcessState {
  return { running: false, pid: null, startedAt: null, procState: null, spawnError: null, exits: [] };
}

/** The start command itself failed (ENOENT, EACCES, ...). */
export function spawnFailed(error = 'spawn node ENOENT'): ProcessState {
  return { ...neverRan(), spawnError: error };
}

// ---------------------------------------------------------------- world: checks

export type CheckVerdict = 'healthy' | 'failing' | 'timedOut' | 'pending';

export function checkState(id: string, verdict: CheckVerdict, at: Millis = T0, type: CheckState['type'] = 'tcp', mono?: number): CheckState {
  const s = checkStateAt(id, verdict, at, type);
  if (mono !== undefined && s.last !== null) s.last.mono = mono;
  return s;
}

function checkStateAt(id: string, verdict: CheckVerdict, at: Millis, type: CheckState['type']): CheckState {
  switch (verdict) {
    case 'pending':
      return { id, type, healthy: null, consecutiveFailures: 0, consecutiveSuccesses: 0, last: null, since: null };
    case 'healthy':
      return {
        id, type, healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 3,
        last: { ok: true, message: 'connected in 1 ms', latencyMs: 1, timedOut: false, at }, since: at - 10_000,
      };
    case 'failing':
      return {
        id, type, healthy: false, consecutiveFailures: 2, consecutiveSuccesses: 0,
        last: { ok: false, message: 'connect ECONNREFUSED 127.0.0.1:7001', latencyMs: 1, timedOut: false, at }, since: at - 500,
      };
    case 'timedOut':
      return {
        id, type, healthy: false, consecutiveFailures: 2, consecutiveSuccesses: 0,
        last: { ok: false, message: 'timed out after 300 ms', latencyMs: 300, timedOut: true, at }, since: at - 500,
      };
  }
}

/** What one service looks like: its process, and its checks (all one verdict, or explicit). */
export interface ServiceView {
  process: ProcessState;
  checks?: CheckVerdict | CheckState[];
}

/**
 * The world at `at`. Services not listed are running with every check passing; a listed process
 * without `checks` has passing checks when running and failing ones otherwise.
 */
export function worldOf(config: ResolvedConfig, at: Millis, views: Record<string, ProcessState | ServiceView> = {}, mono?: number): World {
  const services: Record<string, ServiceObservation> = {};
  for (const s of config.services) {
    const v = views[s.name];
    const view: ServiceView = v === undefined ? { process: running() } : 'process' in v ? v : { process: v };
    const checks = Array.isArray(view.checks)
      ? view.checks
      : s.checks.map((c) => checkState(c.id, (view.checks as CheckVerdict | undefined) ?? (view.process.running ? 'healthy' : 'failing'), at, c.probe.type, mono));
    services[s.name] = { name: s.name, host: s.host, process: view.process, checks };
  }
  return mono === undefined ? { at, services } : { at, mono, services };
}

// ---------------------------------------------------------------- the driver

export interface PassOptions {
  /** Log tail per service for this pass (default: empty). */
  logs?: Record<string, string[]>;
}

/**
 * Steps `decide` the way the daemon does: the store keeps tickets and actions between passes,
 * changed ones are put back, rate limits count started actions, ids come from a counter, and the
 * clock only moves when the test says so. The executor's part (executing → completed | failed) and a
 * person's part (approve, reject) are explicit methods.
 */
export class Driver {
  /** Wall time: moves with advance(), and alone with stepWall(). */
  now: Millis;
  /** Monotonic time of the boot `boot`: moves only with advance(). */
  mono = M0;
  boot = BOOT;
  frozen = false;
  /** Maintenance windows as of now (what the reconciler reads from their cron expressions). */
  windows: WindowState[] = [];
  /** Why the policy as now written does not validate (null: it does). */
  policyError: string | null = null;
  /** Services a person paused (what the store's `paused:` flags say). */
  paused = new Set<string>();
  /** When each action started on monotonic time (the store keeps this beside the action). */
  readonly starts = new Map<string, MonoStamp>();
  /** What `warden tickets resolve` records: the rate-limit count of a service restarts then. */
  readonly limitResets: Record<string, { wall: Millis; mono: number; boot: string }> = {};
  /** Where each service's restart streak last ended by health (what the daemon keeps as flags). */
  readonly backoffResets: Record<string, { wall: Millis; mono: number; boot: string }> = {};
  readonly tickets = new Map<string, Ticket>();
  readonly actions = new Map<string, Action>();
  readonly passes: DecideOutput[] = [];
  logs: Record<string, string[]> = {};
  private readonly counters = { T: 1, A: 1 };

  constructor(public config: ResolvedConfig, now: Millis = T0) {
    this.now = now;
  }

  advance(ms: number): this {
    this.now += ms;
    this.mono += ms;
    return this;
  }

  /** Steps only the wall clock, as NTP or `date -s` would. */
  stepWall(ms: number): this {
    this.now += ms;
    return this;
  }

  /** The host reboots: a new boot id, monotonic time restarts, the wall clock moves on by `ms`. */
  reboot(ms = 60_000, boot = `boot-${Number(this.boot.replace(/\D+/g, '')) + 1}`): this {
    this.now += ms;
    this.mono = 10_000;
    this.boot = boot;
    return this;
  }

  /** The world now, built from `views` (see worldOf). */
  world(views: Record<string, ProcessState | ServiceView> = {}): World {
    return worldOf(this.config, this.now, views, this.mono);
  }

  /** The input the daemon would hand to `decide` now. */
  input(world: World, answers: DiagnosisAnswer[] = []): DecideInput {
    const open = [...this.tickets.values()].filter((t) => t.status !== 'resolved');
    const acts = new Map<string, Action>();
    for (const a of this.actions.values()) if (!TERMINAL_ACTION_STATES.includes(a.state)) acts.set(a.id, a);
    for (const t of open) for (const id of t.actionIds) { const a = this.actions.get(id); if (a) acts.set(id, a); }
    return {
      config: this.config, world, now: this.now, mono: this.mono, boot: this.boot,
      tickets: open.map((t) => structuredClone(t)),
      actions: [...acts.values()].map((a) => structuredClone(a)),
      frozen: this.frozen,
      windows: this.windows,
      policyError: this.policyError,
      started: [...this.actions.values()].filter((a) => a.ticketId !== null && a.startedAt != null)
        .map((a) => {
          const stamp = this.starts.get(a.id);
          return { target: a.target, type: a.type, startedAt: a.startedAt!, ...(stamp ? { stamp } : {}) };
        }),
      subjectRules: subjects,
      limitResets: { ...this.limitResets },
      backoffResets: { ...this.backoffResets },
      recentlyResolved: [...this.tickets.values()].filter((t) => t.status === 'resolved').map((t) => structuredClone(t)),
      nextIds: { ...this.counters },
      answers,
      diagnosing: new Set(),
      paused: new Set(this.paused),
    };
  }

  /**
   * One reconcile pass over `views` (or a ready-made world); persists what changed. Diagnosis is an
   * effect: the rules diagnoser answers at once, as it does in the daemon, and the pass it wakes
   * runs at the same instant; the returned output covers both.
   */
  pass(views: Record<string, ProcessState | ServiceView> | World = {}, opts: PassOptions = {}): DecideOutput {
    const world = isWorld(views) ? views : this.world(views);
    const logs = opts.logs ?? this.logs;
    const out = decideSettled(this.input(world), (r) => ({
      ticketId: r.ticketId, key: r.key,
      diagnosis: diagnose({ config: this.config, world, problem: r.problem, now: this.now, mono: this.mono, boot: this.boot, logTail: logs[r.problem.service] ?? [] }),
    }));
    for (const t of out.tickets) this.tickets.set(t.id, structuredClone(t));
    for (const a of out.actions) this.actions.set(a.id, structuredClone(a));
    Object.assign(this.counters, out.nextIds);
    Object.assign(this.backoffResets, out.backoffResets);
    this.passes.push(out);
    return out;
  }

  // -------------------------------------------------------------- the executor's and people's part

  action(id: string): Action {
    const a = this.actions.get(id);
    if (!a) throw new Error(`no action ${id}`);
    return a;
  }

  ticket(id: string): Ticket {
    const t = this.tickets.get(id);
    if (!t) throw new Error(`no ticket ${id}`);
    return t;
  }

  /** The only ticket in the store (fails the test if there is not exactly one). */
  onlyTicket(): Ticket {
    const all = [...this.tickets.values()];
    if (all.length !== 1) throw new Error(`expected exactly one ticket, found ${all.length}: ${all.map((t) => `${t.id} ${t.service}`).join(', ')}`);
    return all[0]!;
  }

  actionsOf(ticketId: string | null): Action[] {
    return [...this.actions.values()].filter((a) => a.ticketId === ticketId);
  }

  /** Applies an event through the action machine, as the executor and the commands do. */
  private act(id: string, e: ActionEvent, actor = this.config.agent.name): Action {
    const { next } = transitionAction(this.action(id), e, { now: this.now, actor, stamp: { mono: this.mono, boot: this.boot } });
    this.actions.set(id, next);
    return next;
  }

  /** The executor picks the action up: durable `executing` before the effect. */
  startAction(id: string): Action {
    const a = this.act(id, { type: 'start' });
    this.starts.set(id, { mono: this.mono, boot: this.boot });
    return a;
  }

  completeAction(id: string): Action {
    return this.act(id, { type: 'complete', detail: null });
  }

  failAction(id: string, error: string): Action {
    return this.act(id, { type: 'fail', error });
  }

  /** Runs everything the last pass asked to execute, to completion. Returns the ids run. */
  executeAll(out: DecideOutput = this.lastPass()): string[] {
    for (const id of out.execute) { this.startAction(id); this.completeAction(id); }
    return out.execute;
  }

  /** `warden actions approve`: awaiting_approval → validated. */
  approve(id: string, who = 'alice', roles: string[] = []): Action {
    return this.act(id, { type: 'approve', by: who, roles }, who);
  }

  /** `warden actions reject`: awaiting_approval → cancelled. */
  reject(id: string, who = 'alice', reason?: string): Action {
    return this.act(id, { type: 'reject', by: who, reason: reason ?? null }, who);
  }

  lastPass(): DecideOutput {
    const out = this.passes.at(-1);
    if (!out) throw new Error('no pass yet');
    return out;
  }
}

function isWorld(v: unknown): v is World {
  return typeof v === 'object' && v !== null && 'at' in v && 'services' in v && typeof (v as World).at === 'number';
}
