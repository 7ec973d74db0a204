// Runs catalog actions exactly once: the action's state is durable before the effect starts and
// after it ends; one action per target at a time, its target held until the effect has really
// ended; an attempt that times out is aborted, and retried only if the world shows its effect did
// not happen; retries back off exponentially with jitter.
import type { ActionContext, ActionKind, ResumeVerdict } from '../actions/catalog.js';
import type { HostActionContext, HostActionKind } from '../actions/host.js';
import { actionKind } from '../actions/index.js';
import { lookup } from '../plugins/plugin.js';
import { subjects } from '../subjects/index.js';
import { transitionAction, type ActionEvent } from '../domain/action.js';
import { evaluatePolicy, type Refusal } from '../domain/policy.js';
import type { Action, Health, ResolvedConfig } from '../domain/types.js';
import type { ServiceDriver } from '../kinds/driver.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { backoffMs } from '../lib/backoff.js';
import { WardenError, errorText, isFdShortage } from '../lib/errors.js';
import { actionTimeoutOverrideMs } from '../lib/fault.js';
import type { Store } from '../store/store.js';

export interface ExecutorDeps {
  store: Store;
  /** The driver for a service's kind. */
  driverFor: (spec: ResolvedConfig['services'][number]) => ServiceDriver;
  clock: Clock;
  /** The kernel's boot id: monotonic stamps compare only within it. */
  boot: string;
  config: () => ResolvedConfig;
  /** The spec of a service a reload removed and is stopping (no longer in config()). */
  retired?: (name: string) => ResolvedConfig['services'][number] | undefined;
  /** A host of the inventory, for host actions (host.reboot): how it is reached, what was last read. */
  host?: (name: string) => Omit<HostActionContext, 'action'> | undefined;
  actor: string;
  /** Called when an action settled (or changed state) so the loop can take the next decision. */
  onSettled: (action: Action) => void;
  log: (line: string) => void;
  /**
   * Why no new action may start (the store was found damaged: daemon/self.ts), or null. Actions
   * already executing finish; nothing new starts, whoever asked for it.
   */
  halted?: () => string | null;
  /** A subject's guard refused an action as it was about to run (blast radius): for metrics. */
  refused?: (r: Refusal) => void;
}

/** How long an aborted effect may take to wind down before its action is failed; its target stays
 *  busy until it has ended all the same. */
export const ABORT_GRACE_MS = 30_000;

export class Executor {
  private readonly running = new Map<string, Promise<void>>();
  private readonly busyTargets = new Set<string>();

  constructor(private readonly deps: ExecutorDeps) {}

  get inFlight(): ReadonlySet<string> {
    return new Set(this.running.keys());
  }

  /** Starts an action in the background if it is still runnable; returns at once. */
  run(actionId: string): void {
    if (this.running.has(actionId)) return;
    const halted = this.deps.halted?.() ?? null;
    if (halted !== null) {
      this.deps.log(`action ${actionId} not started: ${halted}`);
      return;
    }
    const a = this.deps.store.getAction(actionId);
    if (!a || a.state !== 'validated' || this.busyTargets.has(a.target)) return;
    if (this.deps.store.getFlag('frozen') !== null) return;
    this.launch(a, false);
  }

  /** After a restart of Warden: re-verify every action found `executing`; never blindly re-run. */
  resume(): Action[] {
    const found = this.deps.store.listActions({ states: ['executing'] });
    for (const a of found) {
      const bound = this.bind(a);
      if (typeof bound === 'string') {
        this.finish(a, { type: 'fail', error: bound });
        continue;
      }
      const verdict = bound.resume();
      this.deps.log(`action ${a.id} ${a.type} ${a.target} was executing when Warden stopped: ${verdict.detail} → ${verdict.outcome}`);
      const next = this.apply(a, { type: 'resume', outcome: verdict.outcome, detail: verdict.detail });
      if (next.state === 'executing') this.launch(next, true);
    }
    return found;
  }

  /** Waits up to `graceMs` for in-flight actions to reach a durable state. */
  async drain(graceMs: number): Promise<boolean> {
    const all = Promise.allSettled([...this.running.values()]).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); });
    const done = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return done;
  }

  private context(a: Action): ActionContext | null {
    const cfg = this.deps.config();
    const spec = cfg.services.find((s) => s.name === a.target) ?? this.deps.retired?.(a.target);
    if (!spec) return null;
    const subject = cfg.subjects.find((s) => s.members.includes(a.target));
    const ctx: ActionContext = {
      spec, action: a, driver: this.deps.driverFor(spec), dataDir: cfg.agent.dataDir, ...(subject ? { subject } : {}),
      cause: a.ticketId === null ? null : this.deps.store.getTicket(a.ticketId)?.cause ?? null,
      // A workflow's steps: each record durable before the next step, through the state machine.
      record: (r) => { ctx.action = this.apply(ctx.action, { type: 'step', record: r }); },
      refusal: (type) => {
        const v = evaluatePolicy(this.deps.config().policy.rules, type, spec.name, spec.host);
        return v.allowed ? null : v.reason;
      },
    };
    return ctx;
  }

  /** The action with its catalog entry and what it acts on (a service, or a host), or why it cannot run. */
  private bind(a: Action): Bound | string {
    const kind = knownKind(a);
    if (typeof kind === 'string') return kind;
    if (isHostKind(kind)) {
      const host = this.deps.host?.(a.target);
      if (!host) return `host ${a.target} no longer in the inventory`;
      const ctx: HostActionContext = { ...host, action: a };
      return { ctx, run: (signal) => kind.run(ctx, signal), resume: () => kind.resume(ctx), timeoutMs: () => kind.timeoutMs(ctx) };
    }
    const ctx = this.context(a);
    if (!ctx) return 'service no longer in the inventory';
    return { ctx, run: (signal) => this.guarded(kind, ctx, signal), resume: () => kind.resume(ctx), timeoutMs: () => kind.timeoutMs(ctx) };
  }

  private launch(a: Action, resumed: boolean): void {
    this.busyTargets.add(a.target);
    const effects: Promise<unknown>[] = [];
    const p = this.attempt(a, resumed, effects)
      .catch((e: unknown) => this.deps.log(`action ${a.id}: internal error: ${String(e)}`))
      // The target stays busy until every effect this launch began has really ended.
      .then(async () => { await Promise.allSettled(effects); })
      .finally(() => {
        this.running.delete(a.id);
        this.busyTargets.delete(a.target);
        // The store may fail here (damaged, full): that must not become an unhandled rejection.
        let now: Action | null = null;
        try {
          now = this.deps.store.getAction(a.id);
        } catch (e) {
          this.deps.log(`action ${a.id}: cannot read its outcome back: ${errorText(e)}`);
        }
        if (now) this.deps.onSettled(now);
      });
    this.running.set(a.id, p);
  }

  private async attempt(a: Action, resumed: boolean, effects: Promise<unknown>[]): Promise<void> {
    const bound = this.bind(a);
    if (typeof bound === 'string') { this.finish(a, { type: 'fail', error: bound }); return; }
    if (!resumed) {
      // Durable before the effect: a crash from here on finds the action `executing` and re-verifies it.
      a = this.apply(a, { type: 'start' });
      bound.ctx.action = a;
      this.deps.log(`action ${a.id} ${a.type} ${a.target}: executing (attempt ${a.attempts}/${a.maxAttempts})`);
    }
    const r = await this.perform(bound, effects);
    // The action as the effect left it (a workflow records its steps on it as it goes).
    a = bound.ctx.action;
    if (r.ok) {
      this.finish(a, { type: 'complete', detail: r.detail });
    } else {
      const err = r.error as Error & { retryable?: boolean };
      if (r.aborted) {
        // The effect has ended (or will never be waited for again): look at the world before
        // deciding, since an attempt cut short may well have done its work.
        const verdict = r.ended ? bound.resume() : { outcome: 'unknown' as const, detail: `the effect did not end within ${ABORT_GRACE_MS} ms of being aborted` };
        this.deps.log(`action ${a.id} ${a.type} ${a.target}: ${err.message}; ${verdict.detail} → ${verdict.outcome}`);
        if (verdict.outcome === 'completed') { this.finish(a, { type: 'complete', detail: `${verdict.detail} (${err.message})` }); return; }
        if (verdict.outcome === 'unknown') { this.finish(a, { type: 'fail', error: `${err.message}; ${verdict.detail}` }); return; }
      }
      // A descriptor shortage passes: retried (with capped backoff) however often, never a failure.
      const retryable = err.retryable !== false && (a.attempts < a.maxAttempts || isFdShortage(err));
      if (retryable) {
        this.apply(a, { type: 'retry', error: err.message, backoffMs: backoffMs(a.attempts) });
        this.deps.log(`action ${a.id} ${a.type} ${a.target}: attempt ${a.attempts} failed (${err.message}); retrying after backoff`);
      } else {
        this.finish(a, { type: 'fail', error: err.message });
      }
    }
  }

  /**
   * Runs one attempt's effect under its timeout (monotonic, the injected clock's): on timeout the
   * effect is aborted and waited for until it has really ended, at most ABORT_GRACE_MS more.
   */
  private async perform(bound: Bound, effects: Promise<unknown>[]): Promise<Outcome> {
    const { clock } = this.deps;
    const { action: a } = bound.ctx;
    const ac = new AbortController();
    let timeoutMs: number;
    try {
      timeoutMs = actionTimeoutOverrideMs() ?? bound.timeoutMs();
    } catch (error) {
      return { ok: false, error, aborted: false, ended: true };
    }
    const effect = bound.run(ac.signal).then(
      (detail): Outcome => ({ ok: true, detail }),
      (error: unknown): Outcome => ({ ok: false, error, aborted: ac.signal.aborted, ended: true }),
    );
    effects.push(effect);
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const first = await Promise.race([effect, timedOut]);
    clock.clearTimeout(timer);
    if (first !== 'timeout') return first;
    const reason = new WardenError('ACTION_TIMEOUT', `${a.type} ${a.target} timed out after ${timeoutMs} ms`, { retryable: true });
    ac.abort(reason);
    const grace = new Promise<'gone'>((resolve) => {
      timer = clock.setTimeout(() => resolve('gone'), ABORT_GRACE_MS);
    });
    const after = await Promise.race([effect, grace]);
    clock.clearTimeout(timer);
    // Whatever the effect said after the abort, the attempt as such timed out.
    if (after === 'gone') return { ok: false, error: reason, aborted: true, ended: false };
    if (after.ok) return after;
    this.deps.log(`action ${a.id} ${a.type} ${a.target}: aborted effect ended: ${errorText(after.error)}`);
    return { ok: false, error: reason, aborted: true, ended: true };
  }

  /**
   * The effect, after the target's subject (if any) has had its say against the system as it is
   * now: a refusal fails the attempt without retry — it is part of the action, not only of the policy.
   */
  private async guarded(kind: ActionKind, ctx: ActionContext, signal: AbortSignal): Promise<string> {
    if (ctx.subject) {
      const plugin = lookup('subject', subjects, ctx.subject.type);
      const host = ctx.subject.host;
      const health = (service: string): Health => {
        const h = this.deps.config().services.find((x) => x.name === service)?.host ?? host;
        return this.deps.store.listServiceStates().find((x) => x.name === service && x.host === h)?.health ?? 'unknown';
      };
      const refusal = plugin.guard ? await plugin.guard({ ...ctx, subject: ctx.subject, health }, signal) : null;
      if (refusal !== null) {
        const a = ctx.action;
        this.deps.refused?.({ by: 'blast_radius', type: a.type, target: a.target, ticketId: a.ticketId });
        throw new WardenError('ACTION_REFUSED', `refused by subject ${ctx.subject.name}: ${refusal}`, { retryable: false });
      }
    }
    return kind.run(ctx, signal);
  }

  /** The one way the executor changes an action: its state machine, persisted with its audit. */
  private apply(a: Action, e: ActionEvent): Action {
    const { store, clock, actor } = this.deps;
    const now = clock.now();
    const { next, audit } = transitionAction(a, e, { now, actor, stamp: { mono: clock.mono(), boot: this.deps.boot } });
    store.transaction(() => {
      store.putAction(next);
      for (const i of audit) store.audit({ at: now, actor, kind: i.kind, subject: i.subject, data: i.data });
    });
    return next;
  }

  private finish(a: Action, e: Extract<ActionEvent, { type: 'complete' | 'fail' }>): void {
    const next = this.apply(a, e);
    const detail = e.type === 'complete' ? e.detail : null;
    this.deps.log(`action ${a.id} ${a.type} ${a.target}: ${next.state}${detail ? ` (${detail})` : ''}${next.error ? ` — ${next.error}` : ''}`);
  }
}

type Outcome =
  | { ok: true; detail: string }
  /** `aborted`: the attempt timed out; `ended`: its effect has settled since. */
  | { ok: false; error: unknown; aborted: boolean; ended: boolean };

/** An action bound to what it acts on: one shape for service and host actions alike. */
interface Bound {
  ctx: { action: Action };
  run(signal: AbortSignal): Promise<string>;
  resume(): ResumeVerdict;
  timeoutMs(): number;
}

function isHostKind(kind: ActionKind | HostActionKind): kind is HostActionKind {
  return 'on' in kind && kind.on === 'host';
}

/** The action's catalog entry, or why there is none (a subject's action whose plugin is gone). */
function knownKind(a: Action): ActionKind | HostActionKind | string {
  try {
    return actionKind(a.type);
  } catch (e) {
    return errorText(e);
  }
}

