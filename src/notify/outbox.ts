// The durable outbox: every notification is a row per channel, written in the transaction that
// decided it (a pass that rolls back announces nothing; a crash after the commit loses nothing),
// then delivered off the loop by this worker: one attempt at a time per channel, each bounded by
// the channel's timeout on an AbortSignal, retried with exponential backoff and jitter until the
// channel's ttl, then dropped with an audit record. A channel that is down or hangs holds only its
// own rows: the loop never waits on a delivery. Pacing (resolve hold, digest, quiet hours, rate
// limit, reminders) is decided here, per channel, on monotonic time.
import { elapsed, type Instant, type MonoStamp } from '../domain/elapsed.js';
import type { NotifyChannel } from '../domain/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorText } from '../lib/errors.js';
import type { OutboxRow } from '../store/outbox.js';
import type { AuditRecord, Store } from '../store/store.js';
import { deliverOnce } from './channels.js';
import { isEscalation, isResolve, type DeliveryResult, type NotifyEvent } from './event.js';
import { quietUntil, routes } from './route.js';
import type { Draft } from './semantics.js';

/** Retries wait base·2^(n−1), capped, with equal jitter: a down receiver is not hammered. */
const RETRY_BASE_MS = 1000;
const RETRY_CAP_MS = 5 * 60_000;
/** The worker looks again at least this often (reminders, ttl, pruning). */
const SWEEP_MS = 30_000;
/** Settled rows are kept this long for "warden notify list". */
const KEEP_MS = 7 * 24 * 3600_000;
/** The last audit record turned into notifications: the outbox follows the audit log from here. */
export const AUDIT_CURSOR_FLAG = 'notify.auditSeq';
/** Audit records read per transaction while catching up. */
const TAIL_BATCH = 500;

export interface OutboxDeps {
  store: Store;
  clock: Clock;
  boot: () => string;
  agent: () => string;
  channels: () => readonly NotifyChannel[];
  /** A service's labels (routes match them). */
  labels: (service: string) => Readonly<Record<string, string>> | undefined;
  /** The notifications an audit record makes (semantics.ts, with the store's tickets and actions). */
  draftsOf: (r: AuditRecord) => Draft[];
  /** Whether the problem a reminder would be about is still unresolved. */
  stillOpen: (row: OutboxRow<NotifyEvent>) => boolean;
  /** notify.failed (rejected for good) and notify.dropped (ttl) records. */
  audit: (kind: 'notify.failed' | 'notify.dropped', subject: string | null, data: Record<string, unknown>) => void;
  log: (line: string) => void;
  /** A notification given up on (rejected or dropped): metrics. */
  onGivenUp?: (channel: string) => void;
  deliver?: (channel: NotifyChannel, event: NotifyEvent, signal: AbortSignal) => Promise<DeliveryResult>;
  random?: () => number;
}

export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class Outbox {
  /** Channels with an attempt in flight, and how to abort it. */
  private readonly inFlight = new Map<string, { done: Promise<void>; abort: AbortController }>();
  /** Per channel: no attempt before this monotonic time (after a failed attempt: the channel is down). */
  private readonly channelWait = new Map<string, number>();
  /** Per channel: monotonic times of recent deliveries (rate limit). */
  private readonly sent = new Map<string, number[]>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private running = false;
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: OutboxDeps) {}

  private instant(): Instant {
    return { wall: this.deps.clock.now(), mono: this.deps.clock.mono(), boot: this.deps.boot() };
  }

  /**
   * Records the notifications drafts make, one row per channel that gets each. Synchronous, so a
   * caller's transaction holds it: what it records commits (or rolls back) with the caller's writes.
   */
  enqueue(drafts: readonly Draft[], at: number = this.deps.clock.now()): void {
    if (drafts.length === 0) return;
    const now = this.instant();
    for (const d of drafts) {
      const event: NotifyEvent = { ...d, agent: this.deps.agent(), at: new Date(at).toISOString() };
      for (const ch of this.deps.channels()) this.place(ch, event, now);
    }
    // A timer, so it runs after the caller's transaction commits.
    this.kick();
  }

  /**
   * Follows the audit log: every record written since the cursor becomes its notifications, and
   * the cursor moves, in one transaction. Whoever wrote the record (a pass, a person's command, the
   * executor), and whenever Warden stopped, each decision is announced exactly once.
   */
  tail(): void {
    const { store } = this.deps;
    for (;;) {
      const more = store.transaction(() => {
        const after = Number(store.getFlag(AUDIT_CURSOR_FLAG) ?? '0');
        const records = store.listAudit({ afterSeq: after, first: TAIL_BATCH });
        if (records.length === 0) return false;
        for (const r of records) this.enqueue(this.deps.draftsOf(r), r.at);
        store.setFlag(AUDIT_CURSOR_FLAG, String(records[records.length - 1]!.seq));
        return records.length === TAIL_BATCH;
      });
      if (!more) return;
    }
  }

  /** A store never followed before starts at its head: history is not announced again. */
  private startCursor(): void {
    const { store } = this.deps;
    if (store.getFlag(AUDIT_CURSOR_FLAG) === null) store.setFlag(AUDIT_CURSOR_FLAG, String(store.auditHead()?.seq ?? 0));
  }

  /** Decides one event's fate on one channel, and writes it. */
  private place(ch: NotifyChannel, e: NotifyEvent, now: Instant): void {
    const table = this.deps.store.outbox;
    const last = e.key !== null ? table.lastOfKey<NotifyEvent>(ch.name, e.key) : null;
    const open = last !== null && !isResolve(last.kind);
    const base = { channel: ch.name, kind: e.kind, key: e.key, event: e, createdAt: now.wall, created: stamp(now), dueAt: now.wall, due: stamp(now) };
    // A resolve goes exactly where its problem went, whatever the filters say now. Warden's own
    // alarm may have gone from memory, unrecorded (the store was what failed): its end is routed.
    if (isResolve(e.kind) && e.key !== null && (last !== null || !e.key.startsWith('agent:'))) {
      if (!open) return;
      const hold = ch.resolveHoldMs;
      table.insert({ ...base, ...(hold > 0 ? { hold: 'resolve' as const, dueAt: now.wall + hold, due: { mono: now.mono + hold, boot: now.boot } } : {}) });
      return;
    }
    if (!routes(ch, e, e.service !== null ? this.deps.labels(e.service) : undefined)) return;
    if (last !== null && isResolve(last.kind) && last.state === 'pending' && last.attempts === 0 && e.key !== null) {
      // The problem came back before its resolve went out: to this channel it never ended.
      table.update(last.id, { state: 'suppressed', hold: null, note: `the problem came back (${e.kind}) before the resolve was sent` });
      if (e.kind === 'ticket.reopened') {
        table.insert({ ...base, state: 'suppressed', note: 'still open on this channel: its resolve was held back' });
        return;
      }
    }
    if (isEscalation(e) && e.key !== null) this.release(ch.name, e.key, now);
    const quiet = quietUntil(ch, e, now.wall);
    if (quiet !== null) {
      table.insert({ ...base, hold: 'quiet', dueAt: quiet, due: { mono: now.mono + (quiet - now.wall), boot: now.boot }, note: 'quiet hours' });
      return;
    }
    const digestEnd = this.digestEnd(ch, e, now);
    if (digestEnd !== null) {
      table.insert({ ...base, hold: 'digest', dueAt: digestEnd.wall, due: { mono: digestEnd.mono, boot: now.boot }, note: 'in a digest' });
      return;
    }
    table.insert(base);
  }

  /** An escalation passes quiet hours; what is held of the same problem goes with it, in order. */
  private release(channel: string, key: string, now: Instant): void {
    for (const r of this.deps.store.outbox.pending<NotifyEvent>()) {
      if (r.channel === channel && r.key === key && r.hold === 'quiet') this.deps.store.outbox.update(r.id, { hold: null, dueAt: now.wall, due: stamp(now), note: null });
    }
  }

  /**
   * When more than `digest.after` events reached the channel within `digest.window`, the rest of
   * the window is held for one digest message: the end of that window, or null to send now.
   */
  private digestEnd(ch: NotifyChannel, e: NotifyEvent, now: Instant): { wall: number; mono: number } | null {
    if (ch.digest === null || isEscalation(e) || isResolve(e.kind)) return null;
    const held = this.deps.store.outbox.pending<NotifyEvent>().find((r) => r.channel === ch.name && r.hold === 'digest');
    if (held) return { wall: held.dueAt, mono: held.due?.boot === now.boot ? held.due.mono : now.mono + (held.dueAt - now.wall) };
    if (this.deps.store.outbox.countSince(ch.name, now.wall - ch.digest.windowMs) < ch.digest.after) return null;
    return { wall: now.wall + ch.digest.windowMs, mono: now.mono + ch.digest.windowMs };
  }

  /**
   * Without the store (it is what fails): a best-effort send of Warden's own alarms, a few tries in
   * memory, so people still hear that Warden is in trouble.
   */
  sendDirect(drafts: readonly Draft[], tries = 3): void {
    const now = this.instant();
    const deliver = this.deps.deliver ?? deliverOnce;
    for (const d of drafts) {
      const event: NotifyEvent = { ...d, agent: this.deps.agent(), at: new Date(now.wall).toISOString() };
      for (const ch of this.deps.channels()) {
        if (!routes(ch, event, undefined)) continue;
        const once = async (n: number): Promise<void> => {
          const abort = new AbortController();
          const t = this.deps.clock.setTimeout(() => abort.abort(new Error(`timeout after ${ch.timeoutMs} ms`)), ch.timeoutMs);
          const res = await deliver(ch, event, abort.signal);
          this.deps.clock.clearTimeout(t);
          if (res.ok || !res.retryable || n >= tries) {
            if (!res.ok) this.deps.log(`notify ${ch.name}: ${event.kind} not delivered (store unavailable, not queued): ${res.error ?? ''}`);
            return;
          }
          await new Promise((r) => this.deps.clock.setTimeout(() => r(undefined), retryDelayMs(n, this.deps.random)));
          await once(n + 1);
        };
        once(1).catch((e: unknown) => this.deps.log(`notify ${ch.name}: ${errorText(e)}`));
      }
    }
  }

  start(): void {
    this.startCursor();
    this.running = true;
    this.kick();
  }

  /** Stops starting attempts; waits up to `graceMs` for those in flight, then aborts them. */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const flights = [...this.inFlight.values()];
    if (flights.length === 0) return;
    let t: TimerHandle | undefined;
    await Promise.race([Promise.allSettled(flights.map((f) => f.done)), new Promise((r) => { t = this.deps.clock.setTimeout(() => r(undefined), graceMs); })]);
    this.deps.clock.clearTimeout(t);
    for (const f of this.inFlight.values()) f.abort.abort(new Error('Warden is stopping'));
    await Promise.allSettled([...this.inFlight.values()].map((f) => f.done));
  }

  /** Look at the outbox now (new rows, a settled attempt). */
  kick(): void {
    this.wakeIn(0);
  }

  private wakeIn(ms: number): void {
    if (!this.running) return;
    const at = this.deps.clock.mono() + ms;
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.deps.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.work();
    }, ms);
  }

  /** One look: start what is due on every idle channel, then sleep until the next thing is due. */
  private work(): void {
    if (!this.running) return;
    let next = SWEEP_MS;
    try {
      this.tail();
      const now = this.instant();
      if (now.mono - this.lastSweep >= SWEEP_MS) this.sweep(now);
      const channels = new Map(this.deps.channels().map((c) => [c.name, c]));
      const byChannel = new Map<string, OutboxRow<NotifyEvent>[]>();
      for (const r of this.deps.store.outbox.pending<NotifyEvent>()) {
        const list = byChannel.get(r.channel) ?? [];
        list.push(r);
        byChannel.set(r.channel, list);
      }
      for (const [name, rows] of byChannel) {
        const ch = channels.get(name);
        if (ch === undefined) {
          // A channel removed from the config: nothing can deliver these any more.
          for (const r of rows) this.giveUp(r, 'dropped', `channel "${name}" is no longer configured`, now);
          continue;
        }
        next = Math.min(next, this.serve(ch, rows, now));
      }
    } catch (e) {
      this.deps.log(`notify outbox: ${errorText(e)}; trying again in ${SWEEP_MS / 1000}s`);
    }
    this.wakeIn(Math.max(0, next));
  }

  /** Starts the channel's next due row if it is idle; returns how long until it should be looked at again. */
  private serve(ch: NotifyChannel, rows: OutboxRow<NotifyEvent>[], now: Instant): number {
    if (this.inFlight.has(ch.name)) return SWEEP_MS;
    let next = SWEEP_MS;
    const digest = rows.filter((r) => r.hold === 'digest' && this.dueIn(r, now) <= 0);
    if (digest.length > 0) this.flushDigest(ch, digest, now);
    const waitChannel = (this.channelWait.get(ch.name) ?? 0) - now.mono;
    if (waitChannel > 0) return waitChannel;
    const waitRate = this.rateWait(ch, now.mono);
    const blockedKeys = new Set<string>();
    for (const r of rows) {
      if (r.hold === 'digest') continue;
      // A row held on purpose (quiet hours, a resolve hold) is not late: its ttl runs once it is tried.
      if (r.hold === null && elapsed(now, r.createdAt, r.created) >= ch.ttlMs) {
        this.giveUp(r, 'dropped', `not delivered within its ttl (${Math.round(ch.ttlMs / 1000)}s)${r.lastError ? `; last error: ${r.lastError}` : ''}`, now);
        continue;
      }
      // Messages about one problem go in the order they were made: a trigger before its resolve.
      if (r.key !== null && blockedKeys.has(r.key)) continue;
      const due = this.dueIn(r, now);
      if (due > 0) {
        if (r.key !== null) blockedKeys.add(r.key);
        next = Math.min(next, due);
        continue;
      }
      if (waitRate > 0) return Math.min(next, waitRate);
      this.attempt(ch, r);
      return SWEEP_MS;
    }
    return next;
  }

  /** Milliseconds until the row may be tried (≤ 0: now). */
  private dueIn(r: OutboxRow, now: Instant): number {
    return -elapsed(now, r.dueAt, r.due);
  }

  private rateWait(ch: NotifyChannel, mono: number): number {
    if (ch.rateLimit === null) return 0;
    const recent = (this.sent.get(ch.name) ?? []).filter((t) => mono - t < ch.rateLimit!.perMs);
    this.sent.set(ch.name, recent);
    return recent.length < ch.rateLimit.max ? 0 : recent[0]! + ch.rateLimit.perMs - mono;
  }

  /** The held rows of a digest window become one message, sent in their place. */
  private flushDigest(ch: NotifyChannel, rows: OutboxRow<NotifyEvent>[], now: Instant): void {
    const { store } = this.deps;
    const first = rows[0]!.event;
    const event: NotifyEvent = {
      kind: 'notify.digest', agent: first.agent, at: new Date(now.wall).toISOString(), subject: null, key: null,
      severity: rows.some((r) => r.event.severity === 'warning') ? 'warning' : 'info', service: null,
      summary: `${rows.length} more events: ${rows.map((r) => r.event.summary).join(' | ')}`.slice(0, 2000),
      data: { count: rows.length, events: rows.map((r) => ({ kind: r.kind, key: r.key, at: r.event.at, summary: r.event.summary })) },
    };
    store.transaction(() => {
      const id = store.outbox.insert({ channel: ch.name, kind: event.kind, key: null, event, createdAt: now.wall, created: stamp(now), dueAt: now.wall, due: stamp(now) });
      for (const r of rows) store.outbox.update(r.id, { state: 'digested', hold: null, settledAt: now.wall, note: `sent in digest #${id}` });
    });
  }

  private attempt(ch: NotifyChannel, r: OutboxRow<NotifyEvent>): void {
    const abort = new AbortController();
    const { clock } = this.deps;
    const timer = clock.setTimeout(() => abort.abort(new Error(`timeout after ${ch.timeoutMs} ms`)), ch.timeoutMs);
    const deliver = this.deps.deliver ?? deliverOnce;
    const done = deliver(ch, r.event, abort.signal)
      .catch((e: unknown): DeliveryResult => ({ ok: false, status: null, error: errorText(e), retryable: true }))
      .then((res) => {
        clock.clearTimeout(timer);
        // An attempt cut short by a stop is not counted: the next start tries it again.
        if (!this.running && abort.signal.aborted) return;
        this.settle(ch, r, res);
      })
      .catch((e: unknown) => this.deps.log(`notify ${ch.name}: ${errorText(e)}`))
      .finally(() => {
        this.inFlight.delete(ch.name);
        this.kick();
      });
    this.inFlight.set(ch.name, { done, abort });
  }

  private settle(ch: NotifyChannel, r: OutboxRow<NotifyEvent>, res: DeliveryResult): void {
    const now = this.instant();
    const attempts = r.attempts + 1;
    const { outbox } = this.deps.store;
    if (res.ok) {
      outbox.update(r.id, { state: 'delivered', hold: null, attempts, lastStatus: res.status, lastError: null, settledAt: now.wall });
      this.channelWait.delete(ch.name);
      const sent = this.sent.get(ch.name) ?? [];
      sent.push(now.mono);
      this.sent.set(ch.name, sent);
      return;
    }
    if (!res.retryable) {
      outbox.update(r.id, { attempts, lastStatus: res.status, lastError: res.error });
      this.giveUp({ ...r, attempts, lastError: res.error }, 'failed', res.error ?? 'rejected', now);
      return;
    }
    const wait = retryDelayMs(attempts, this.deps.random);
    outbox.update(r.id, { attempts, lastStatus: res.status, lastError: res.error, hold: null, dueAt: now.wall + wait, due: { mono: now.mono + wait, boot: now.boot } });
    // The channel is likely down: its other rows wait too, instead of each failing in turn.
    this.channelWait.set(ch.name, now.mono + wait);
    this.deps.log(`notify ${ch.name}: ${r.kind} attempt ${attempts} failed (${res.error ?? 'error'}); next in ${Math.round(wait / 100) / 10}s`);
  }

  private giveUp(r: OutboxRow<NotifyEvent>, state: 'failed' | 'dropped', why: string, now: Instant): void {
    this.deps.store.outbox.update(r.id, { state, hold: null, settledAt: now.wall, note: why });
    this.deps.log(`notify ${r.channel}: ${r.kind} ${state} after ${r.attempts} attempt(s): ${why}`);
    this.deps.onGivenUp?.(r.channel);
    try {
      this.deps.audit(state === 'failed' ? 'notify.failed' : 'notify.dropped', r.event.subject, {
        channel: r.channel, event: r.kind, key: r.key, attempts: r.attempts, error: r.lastError, reason: why, outboxId: r.id,
      });
    } catch (e) {
      this.deps.log(`audit notify.${state}: ${errorText(e)}`);
    }
  }

  /** Reminders for problems still unresolved, and forgetting old settled rows. */
  private sweep(now: Instant): void {
    this.lastSweep = now.mono;
    const { outbox } = this.deps.store;
    for (const ch of this.deps.channels()) {
      if (ch.repeatMs === null) continue;
      for (const last of outbox.lastOfEveryKey<NotifyEvent>(ch.name)) {
        // Only problems (tickets) are reminded of: Warden's own states have their own alarms.
        if (last.key === null || last.key.startsWith('agent:') || isResolve(last.kind) || last.state === 'pending') continue;
        if (elapsed(now, last.createdAt, last.created) < ch.repeatMs || !this.deps.stillOpen(last)) continue;
        const e = last.event;
        const since = typeof e.data.openedAt === 'string' ? e.data.openedAt : e.at;
        this.place(ch, {
          ...e, kind: 'ticket.reminder', at: new Date(now.wall).toISOString(),
          summary: `still unresolved since ${since}: ${e.summary.replace(/^still unresolved since \S+: /, '')}`,
          data: { ...e.data, remindsOf: last.kind === 'ticket.reminder' ? e.data.remindsOf : last.kind },
        }, now);
      }
    }
    outbox.prune(now.wall - KEEP_MS);
  }
}

function stamp(now: Instant): MonoStamp {
  return { mono: now.mono, boot: now.boot };
}
