// The record of the faults `warden chaos` injected and has not reverted yet: one flag per fault
// (`chaos:<id>`, so the store's schema stays as it is), each injection and revert audited with the
// person as actor. The fault itself is injected and reverted by the CLI (src/cli/chaos.ts), with
// the person's own privileges; only its record goes through here, like every person's command, so
// with a daemon running it is the daemon that writes it.
import type { AuditIntent } from '../domain/audit.js';
import type { ChaosKind, Revert } from '../chaos/faults.js';
import { WardenError } from '../lib/errors.js';
import type { Store } from '../store/store.js';

export const CHAOS_PREFIX = 'chaos:';

export interface ChaosRecord {
  id: string;
  kind: ChaosKind;
  /** The service or subject named on the command line. */
  target: string;
  /** The service acted on (for kill-leader, the leader found). */
  service: string;
  detail: string;
  revert: Revert;
  /** ISO times: when it was injected, and when `--for` reverts it (null: by hand only). */
  at: string;
  until: string | null;
  by: string;
  /** Injected outside a lab with --i-know. */
  iKnow: boolean;
  /** The detached process that reverts it at `until`. */
  reverter: { pid: number; startTime: number } | null;
}

export type ChaosCommand =
  | { kind: 'chaos'; op: 'injected'; fault: ChaosRecord; by: string }
  | { kind: 'chaos'; op: 'reverted'; id: string; by: string; detail: string; automatic: boolean };

class ChaosRecordError extends WardenError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export function chaosFlag(id: string): string {
  return `${CHAOS_PREFIX}${id}`;
}

/** Every fault still in force, oldest first. */
export function activeFaults(store: Pick<Store, 'flagsWithPrefix'>): ChaosRecord[] {
  return [...store.flagsWithPrefix(CHAOS_PREFIX).values()].map((v) => JSON.parse(v) as ChaosRecord).sort((a, b) => a.at.localeCompare(b.at));
}

/** Records an injection or a revert (inside the caller's transaction) and says what it did. */
export function applyChaos(store: Store, cmd: ChaosCommand, audit: (intents: readonly AuditIntent[]) => void): string {
  if (cmd.op === 'injected') {
    const f = cmd.fault;
    store.setFlag(chaosFlag(f.id), JSON.stringify(f));
    audit([{ kind: 'chaos.injected', subject: f.id, data: { kind: f.kind, target: f.target, service: f.service, detail: f.detail, until: f.until, iKnow: f.iKnow } }]);
    return `fault ${f.id} recorded`;
  }
  const cur = store.getFlag(chaosFlag(cmd.id));
  if (cur === null) throw new ChaosRecordError(`no fault ${cmd.id} in force; see "warden chaos list"`);
  const f = JSON.parse(cur) as ChaosRecord;
  store.setFlag(chaosFlag(cmd.id), null);
  audit([{ kind: 'chaos.reverted', subject: f.id, data: { kind: f.kind, target: f.target, service: f.service, detail: cmd.detail, automatic: cmd.automatic } }]);
  return `fault ${f.id} reverted`;
}
