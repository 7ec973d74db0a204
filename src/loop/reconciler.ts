// The reconciler: observe (outside any write transaction) → apply people's queued commands (their
// own transaction) → in one transaction: read, decide, commit → hand back the effects to run after
// the commit. The daemon and `reconcile --once` read the store through the same readDecideInput,
// so they cannot disagree.
import { applyQueued, endSettled, FROZEN_FLAG, LIMIT_RESET_PREFIX, parseFreeze, parseLimitReset, settleFreeze, settlePauses, type Command, type CommandResult } from '../app/commands.js';
import type { PolicySource } from './policysource.js';
import { windowStates } from './windows.js';
import { BACKOFF_RESET_PREFIX, backoffLookbackMs } from '../domain/backoff.js';
import { subjects } from '../subjects/index.js';
import { detect, type Detection } from '../domain/detect.js';
import { decide, type DecideInput, type DecideOutput, type DiagnoseRequest, type DiagnosisAnswer } from '../domain/decide.js';
import { decideSettled } from '../domain/settle.js';
import type { Instant } from '../domain/elapsed.js';
import { activePauses, PAUSE_PREFIX } from '../domain/pause.js';
import { removals, type Removal } from '../domain/inventory.js';
import type { Action, ResolvedConfig, Ticket, World } from '../domain/types.js';
import type { Store } from '../store/store.js';

/** The decision's input as the store holds it now (a null store: nothing has run yet). */
export function readDecideInput(
  store: Store | null,
  config: ResolvedConfig,
  world: World,
  instant: Instant,
  answers: readonly DiagnosisAnswer[] = [],
  diagnosing: ReadonlySet<string> = new Set(),
  policyError: string | null = null,
): DecideInput {
  const now = instant.wall;
  const tickets = store?.listTickets({ openOnly: true }) ?? [];
  const actions = new Map<string, Action>();
  for (const a of store?.listActions({ states: ['scheduled', 'proposed', 'validated', 'awaiting_approval', 'executing'] }) ?? []) actions.set(a.id, a);
  for (const t of tickets) {
    for (const id of t.actionIds) {
      if (actions.has(id)) continue;
      const a = store?.getAction(id);
      if (a) actions.set(id, a);
    }
  }
  // Repairs are read back as far as the rate limits and the restart backoff streaks need.
  const longest = Math.max(0, ...config.policy.limits.map((l) => l.windowMs),
    ...config.services.map((s) => (s.restartBackoff ? backoffLookbackMs(s.restartBackoff) : 0)));
  const detection = detect(config, world, tickets, subjects);
  const resets = (prefix: string): Record<string, Instant> => {
    const out: Record<string, Instant> = {};
    for (const [service, value] of store?.flagsWithPrefix(prefix) ?? []) {
      const at = parseLimitReset(value);
      if (at) out[service] = at;
    }
    return out;
  };
  const paused = activePauses(store?.flagsWithPrefix(PAUSE_PREFIX) ?? new Map<string, string>(), instant);
  return {
    config, world, now, mono: instant.mono, boot: instant.boot, tickets, actions: [...actions.values()],
    paused: new Set(paused.keys()),
    ...frozenNow(store, instant),
    policyError,
    windows: windowStates(config.policy.windows, now),
    started: store?.startedRepairsSince({ wall: now - longest, mono: instant.mono - longest, boot: instant.boot }) ?? [],
    subjectRules: subjects,
    limitResets: resets(LIMIT_RESET_PREFIX),
    backoffResets: resets(BACKOFF_RESET_PREFIX),
    recentlyResolved: recentlyResolved(store, detection, tickets),
    detection,
    nextIds: store?.nextIds() ?? { T: 1, A: 1 },
    answers,
    diagnosing,
  };
}

/** The kill switch as of now: a freeze whose --for ran out no longer holds (settleFreeze lifts it). */
function frozenNow(store: Store | null, instant: Instant): Pick<DecideInput, 'frozen' | 'freeze'> {
  const f = parseFreeze(store?.getFlag(FROZEN_FLAG) ?? null);
  const on = f !== null && (f.until === null || instant.wall < f.until);
  return { frozen: on, freeze: on ? f : null };
}

/**
 * The latest ticket of each problem that has no open ticket, when it is resolved: the ones that may
 * reopen (decide measures the reopen window on monotonic time, so no clock filters them here).
 */
function recentlyResolved(store: Store | null, detection: Detection, open: readonly Ticket[]): Ticket[] {
  if (!store) return [];
  const openFps = new Set(open.map((t) => t.fingerprint));
  return detection.problems
    .filter((p) => !openFps.has(p.fingerprint))
    .map((p) => store.latestTicketByFingerprint(p.fingerprint))
    .filter((t): t is Ticket => t !== null && t.status === 'resolved');
}

export interface PassResult {
  world: World;
  now: number;
  out: DecideOutput;
  /** Open tickets and unfinished actions after this pass (no second read of the store). */
  open: Ticket[];
  /** Validated and scheduled actions: those that may wait for a time. */
  pending: Action[];
  /** People's commands applied at the start of this pass. */
  commands: { id: number; cmd: Command; result: CommandResult }[];
  /** Services paused during this pass (absent: none). */
  paused?: ReadonlySet<string>;
  /**
   * Something is under way or wrong (findings, open tickets, unfinished actions, effects asked
   * for): the next interval tick must pass again. When false, nothing can change without an event.
   */
  busy: boolean;
}

export interface ReconcilerDeps {
  store: Store;
  config: () => ResolvedConfig;
  /** Now, on the wall clock (records) and the monotonic clock with its boot (durations). */
  now: () => Instant;
  /**
   * The world now; called outside the write transaction (reads /proc, the check scheduler).
   * `touched` names the services events changed (null: observe every service afresh).
   */
  observe: (touched: readonly string[] | null) => World;
  /** Tickets a diagnoser is working on right now. */
  diagnosing: () => ReadonlySet<string>;
  /** More to write in the pass's transaction (health states, the heartbeat): one commit per pass. */
  persistAlso?: (out: DecideOutput, now: number) => void;
  /** A diagnoser that answers at once (see Diagnoser.diagnoseNow): its answers are applied in the asking pass. */
  diagnoseNow?: (req: DiagnoseRequest) => DiagnosisAnswer;
  /** Re-reads and validates the policy before every pass (absent: the config as loaded). */
  policy?: PolicySource;
}

export class Reconciler {
  private answers: DiagnosisAnswer[] = [];

  constructor(private readonly deps: ReconcilerDeps) {}

  /** A diagnoser's answer: applied by the next pass (if its evidence is still current). */
  answer(a: DiagnosisAnswer): void {
    this.answers = [...this.answers.filter((x) => x.ticketId !== a.ticketId), a];
  }

  /** A reload removed services: their stop actions (domain/inventory.ts decides) are committed now. */
  retire(prev: ResolvedConfig, next: ResolvedConfig): Removal[] {
    const { store } = this.deps;
    const instant = this.deps.now();
    const ctx = { now: instant.wall, actor: next.agent.name, stamp: { mono: instant.mono, boot: instant.boot } };
    return store.transaction(() => {
      const ids = store.nextIds();
      const rs = removals(prev, next, () => `A${ids.A++}`, ctx);
      for (const r of rs) {
        if (!('stop' in r)) continue;
        store.putAction(r.stop.next);
        store.auditBatch(r.stop.audit.map((i) => ({ at: instant.wall, actor: next.agent.name, kind: i.kind, subject: i.subject, data: i.data })));
      }
      store.useIds(ids);
      return rs;
    });
  }

  pass(touched: readonly string[] | null = null): PassResult {
    const { store } = this.deps;
    const read = this.deps.policy?.read(this.deps.config()) ?? { config: this.deps.config(), error: null };
    const config = read.config;
    const world = this.deps.observe(touched);
    const answers = this.answers;
    // People's commands first, committed on their own: a freeze or a hold takes effect even when
    // the decision below fails (store trouble, a bug).
    // Pauses whose --for ran out end here too, so the decision below acts on the service again.
    const { commands, pauses } = store.transaction(() => {
      const now = this.deps.now();
      settleFreeze(store, now, config.agent.name);
      return { commands: applyQueued(store, now, config), pauses: settlePauses(store, now, config.agent.name) };
    });
    const result = store.transaction(() => {
      const instant = this.deps.now();
      const now = instant.wall;
      const input = readDecideInput(store, config, world, instant, answers, this.deps.diagnosing(), read.error);
      const now_ = this.deps.diagnoseNow;
      const out = now_ ? decideSettled(input, now_) : decide(input);
      for (const t of out.tickets) store.putTicket(t);
      for (const a of out.actions) store.putAction(a);
      if (out.nextIds.T !== input.nextIds.T || out.nextIds.A !== input.nextIds.A) store.useIds(out.nextIds);
      store.auditBatch(out.audit.map((i) => ({ at: now, actor: config.agent.name, kind: i.kind, subject: i.subject, data: i.data })));
      this.deps.persistAlso?.(out, now);
      endSettled(store, instant, config.agent.name, (svc) => out.detection.health[svc]?.health === 'healthy');
      const open = [...new Map([...input.tickets, ...out.tickets].map((t) => [t.id, t])).values()].filter((t) => t.status !== 'resolved');
      const acts = new Map(input.actions.map((a) => [a.id, a]));
      for (const a of out.actions) acts.set(a.id, a);
      // What waits for a time (a retry, a backoff, a schedule): the loop wakes for it.
      const pending = [...acts.values()].filter((a) => a.state === 'validated' || a.state === 'scheduled');
      const unfinished = [...acts.values()].some((a) => a.state !== 'completed' && a.state !== 'failed' && a.state !== 'cancelled');
      const busy = open.length > 0 || unfinished || out.execute.length > 0 || out.diagnose.length > 0
        || out.detection.findings.length > 0 || out.detection.neverStarted.length > 0
        || [...pauses.values()].some((p) => p.until !== null); // a pause's deadline ends it in a pass
      return { world, now, out, open, pending, commands, busy, paused: new Set(pauses.keys()) };
    });
    // Committed: these answers are used (or stale); newer ones may have arrived meanwhile.
    this.answers = this.answers.filter((a) => !answers.includes(a));
    return result;
  }
}
