// Warden's health as Warden itself sees it (DESIGN rule 10): the pass guard reports every pass's
// outcome here, and /healthz, the watchdog, status, metrics and notifications all read this one
// verdict, so a Warden whose passes fail cannot look healthy anywhere. Store damage found while
// running is latched here too: it stops acting until a restart (which then refuses the store).
import type { Clock } from '../lib/clock.js';
import { errorText } from '../lib/errors.js';
import { damageOf } from '../store/integrity.js';
import type { Damage } from '../store/watch.js';
import { damageText, type StoreDamage } from './damage.js';

/** Passes are failing: since when, how many in a row, and the latest reason. */
export interface SelfProblem {
  /** Wall time of the first failure of this incident (for records and display). */
  since: number;
  failures: number;
  /** A stable code: WardenError's, SQLite's (SQLITE_FULL, SQLITE_CORRUPT), a Node errno, or INTERNAL. */
  code: string;
  reason: string;
}

export type SelfEvent =
  | { kind: 'agent.degraded'; summary: string; data: { since: string; code: string; reason: string; file?: string; what?: string } }
  | { kind: 'agent.recovered'; summary: string; data: { since: string; failures: number; failingMs: number; code: string; reason: string } };

export interface SelfHealthDeps {
  clock: Clock;
  /** Once per change of state: the start of an incident and its end, never once per pass. */
  onChange: (e: SelfEvent) => void;
  /** Called for every failed pass (the pass-failure counter). */
  onFailure?: () => void;
  log: (line: string) => void;
  /** The store's database file: a pass failing with SQLite's corruption codes names it. */
  storeFile?: string;
  /** Once, when store damage is latched (after the log line and the notification). */
  onLatched?: (d: StoreDamage, text: string) => void;
}

export class SelfHealth {
  private current: SelfProblem | null = null;
  private startedMono = 0;
  private latched: (StoreDamage & { text: string }) | null = null;
  private latchedReason = '';

  constructor(private readonly deps: SelfHealthDeps) {}

  /** null while passes succeed. */
  get problem(): SelfProblem | null {
    return this.current;
  }

  /** Store damage found while running, with the sentence that says it; null while none was found. */
  get damage(): (StoreDamage & { text: string }) | null {
    return this.latched;
  }

  /**
   * A store operation failed because the store is damaged: latched until Warden restarts. Acting
   * stops; a failing-passes incident under way ends in this one, which is never "recovered".
   */
  storeDamaged(d: Damage): void {
    if (this.latched !== null) return;
    const since = this.deps.clock.now();
    const text = damageText(d);
    this.latched = { ...d, since, text };
    this.latchedReason = text;
    this.current = null;
    this.deps.log(text);
    this.deps.onChange({ kind: 'agent.degraded', summary: text, data: { since: new Date(since).toISOString(), code: 'STORE_DAMAGED', reason: text, file: d.file, what: d.what } });
    this.deps.onLatched?.(this.latched, text);
  }

  passSucceeded(): void {
    const p = this.current;
    if (p === null) return;
    this.current = null;
    const failingMs = Math.round(this.deps.clock.mono() - this.startedMono);
    const summary = `reconcile passes succeed again after ${p.failures} failed pass(es) in ${failingMs} ms (last reason: ${p.reason})`;
    this.deps.log(summary);
    this.deps.onChange({ kind: 'agent.recovered', summary, data: { since: new Date(p.since).toISOString(), failures: p.failures, failingMs, code: p.code, reason: p.reason } });
  }

  passFailed(passId: number, err: unknown): void {
    this.deps.onFailure?.();
    const damage = this.deps.storeFile === undefined ? null : damageOf(err, this.deps.storeFile);
    if (damage) this.storeDamaged(damage);
    if (this.latched !== null) {
      // Latched: the one notification has gone out; another reason for a pass to fail is logged once.
      const reason = damage === null ? describeFailure(err).reason : this.latched.text;
      if (reason !== this.latchedReason) this.deps.log(`pass ${passId} failed: ${reason}`);
      this.latchedReason = reason;
      return;
    }
    const { code, reason } = describeFailure(err);
    const p = this.current;
    if (p !== null) {
      p.failures += 1;
      // One log line per new reason, not one per pass: the log of a long outage stays readable.
      if (p.code !== code || p.reason !== reason) this.deps.log(`pass ${passId} failed (${p.failures} in a row): ${reason}`);
      p.code = code;
      p.reason = reason;
      return;
    }
    const since = this.deps.clock.now();
    this.startedMono = this.deps.clock.mono();
    this.current = { since, failures: 1, code, reason };
    const summary = `reconcile passes fail: ${reason}`;
    this.deps.log(`pass ${passId} failed: ${reason}`);
    this.deps.onChange({ kind: 'agent.degraded', summary, data: { since: new Date(since).toISOString(), code, reason } });
  }
}

/**
 * One line a person can act on, with the stack only when WARDEN_DEBUG asks for it. `during` says
 * whether a running daemon's pass failed (it retries by itself) or its start did (start it again).
 */
export function describeFailure(err: unknown, during: 'pass' | 'start' = 'pass'): { code: string; reason: string } {
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' && raw !== '' ? raw : 'INTERNAL';
  // SQLITE_IOERR_WRITE gets SQLITE_IOERR's hint.
  const hint = Object.entries(HINTS).find(([k]) => code === k || code.startsWith(`${k}_`))?.[1];
  const then = during === 'start' ? 'then start Warden again' : `Warden resumes by itself once ${FD_SHORT.has(code) ? 'descriptors are free' : 'it can write'}`;
  const debug = process.env.WARDEN_DEBUG && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return { code, reason: `${code}: ${errorText(err)}${hint ? ` (${hint}; ${then})` : ''}${debug}` };
}

const FULL = 'the data directory\'s filesystem is full: free space there';
const FD_SHORT = new Set(['EMFILE', 'ENFILE']);
const HINTS: Record<string, string> = {
  SQLITE_FULL: FULL,
  ENOSPC: FULL,
  SQLITE_CORRUPT: 'the store is corrupt: copy the data directory aside, then restore warden.db from a backup',
  SQLITE_NOTADB: 'warden.db is not a SQLite database: copy the data directory aside, then restore warden.db from a backup',
  SQLITE_READONLY: 'the store cannot be written: check the data directory\'s permissions and mount',
  EACCES: 'check the data directory\'s permissions',
  EMFILE: 'Warden is out of file descriptors: see what holds them in /proc/<pid>/fd, or raise its limit (LimitNOFILE=, ulimit -n)',
  ENFILE: 'the system is out of file descriptors (fs.file-max): find what holds them',
  EROFS: 'the data directory is on a read-only filesystem',
  SQLITE_IOERR: 'the store\'s disk fails: check the kernel log',
};
