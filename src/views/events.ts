// Following the audit log as it grows: one reader shared by `warden events -f` (polling the store
// read-only, with or without a daemon) and the API's Server-Sent Events stream (the daemon's own
// store). The store is the only source, so both see exactly what was committed, in seq order.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditIntent } from '../domain/audit.js';
import { iso } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import { WardenError } from '../lib/errors.js';
import { describe } from '../loop/events.js';
import { Store, type AuditListFilter, type AuditRecord } from '../store/store.js';

/** What a follower may select on; seq, limit and subject stay with the caller. */
export type EventFilter = Pick<AuditListFilter, 'service' | 'kind' | 'since' | 'until'>;

/** Anything that lists audit records (a Store, or a store reopened as needed). */
export interface AuditSource {
  listAudit(f: AuditListFilter): AuditRecord[];
}

/** How often a follower looks for new records: well under a second, cheap for SQLite. */
export const FOLLOW_POLL_MS = 200;

export class TimeArgError extends WardenError {
  constructor(message: string) {
    super('BAD_TIME', message, { retryable: false });
  }
}

/** "2024-05-01T10:00:00Z" (any Date.parse form with a date), or a duration ago: "10m", "1h30m". */
export function parseTimeArg(text: string, now: number, name = 'time'): number {
  if (/^\d+(?:\.\d+)?(?:ms|s|m|h|d)/.test(text)) {
    try {
      return now - parseDuration(text);
    } catch {
      // Not a duration after all: fall through to the date forms.
    }
  }
  const at = Date.parse(text);
  if (/\d{4}-\d{2}-\d{2}/.test(text) && Number.isFinite(at)) return at;
  throw new TimeArgError(`${name}: expected an ISO time (2024-05-01T10:00:00Z) or a duration ago (10m, 1h), got ${JSON.stringify(text)}`);
}

/** A filter from options as people give them (`--service`, `?since=10m`); bad times throw TimeArgError. */
export function eventFilterOf(q: { service?: string | undefined; kind?: string | undefined; since?: string | undefined; until?: string | undefined }, now: number, prefix = ''): EventFilter {
  return {
    ...(q.service ? { service: q.service } : {}), ...(q.kind ? { kind: q.kind } : {}),
    ...(q.since ? { since: parseTimeArg(q.since, now, `${prefix}since`) } : {}),
    ...(q.until ? { until: parseTimeArg(q.until, now, `${prefix}until`) } : {}),
  };
}

/** The public JSON form of one audit record (as `warden audit list --json` prints it). */
export function eventJson(r: AuditRecord): Record<string, unknown> {
  return { ...r, at: iso(r.at) };
}

/** One line for people: the time, then the sentence the daemon's log uses. */
export function eventLine(r: AuditRecord): string {
  // Records are written only from AuditIntents, so their kind is an AuditKind.
  const intent: AuditIntent = { kind: r.kind as AuditIntent['kind'], subject: r.subject, data: r.data };
  return `${iso(r.at)} #${r.seq} ${describe(intent)}`;
}

export interface FollowOptions {
  /** Yield records with a seq above this one. */
  afterSeq: number;
  filter?: EventFilter;
  pollMs?: number;
  /** Ends the iteration (quietly) when it fires. */
  signal: AbortSignal;
  /** A poll that failed (store missing, locked, being replaced); following goes on. */
  onError?: (err: unknown) => void;
}

/** Every record after `afterSeq`, then each new one as it is committed, until the signal fires. */
export async function* followAudit(source: AuditSource, o: FollowOptions): AsyncGenerator<AuditRecord> {
  let after = o.afterSeq;
  while (!o.signal.aborted) {
    let batch: AuditRecord[] = [];
    try {
      batch = source.listAudit({ ...o.filter, afterSeq: after });
    } catch (err) {
      o.onError?.(err);
    }
    for (const r of batch) {
      if (o.signal.aborted) return;
      after = r.seq;
      yield r;
    }
    try {
      await sleep(o.pollMs ?? FOLLOW_POLL_MS, undefined, { signal: o.signal });
    } catch {
      return; // aborted
    }
  }
}

/**
 * The store of a data directory for a reader outside the daemon: opened read-only when first
 * needed, and opened again after a failure, so following survives a daemon that stops, restarts
 * or has not created its store yet.
 */
export class ReopeningStore implements AuditSource {
  private store: Store | null = null;

  constructor(private readonly dataDir: string) {}

  listAudit(f: AuditListFilter): AuditRecord[] {
    this.store ??= Store.open(this.dataDir, { readonly: true });
    try {
      return this.store.listAudit(f);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  head(): number {
    this.store ??= Store.open(this.dataDir, { readonly: true });
    return this.store.auditHead()?.seq ?? 0;
  }

  close(): void {
    try {
      this.store?.close();
    } finally {
      this.store = null;
    }
  }
}

/**
 * The streams a server is running, so stopping it ends each one cleanly (a last chunk, not a reset
 * connection) before the sockets close.
 */
export class Followers {
  private readonly ctl = new AbortController();
  private readonly running = new Set<Promise<unknown>>();

  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  /** Runs one stream; `stop()` waits for it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    const done = (): void => { this.running.delete(p); };
    p.then(done, done);
    return p;
  }

  async stop(): Promise<void> {
    this.ctl.abort();
    await Promise.allSettled([...this.running]);
  }
}
