// Store failures callers are expected to branch on carry a stable `code`; anything else
// (disk full, SQLITE_BUSY after the timeout) surfaces as the underlying SqliteError.

import { WardenError } from '../lib/errors.js';

export type StoreErrorCode =
  /** Read-only open of a data directory that has no database: nothing was created. */
  | 'STORE_MISSING'
  /** The database was migrated by a newer Warden than this one. */
  | 'STORE_TOO_NEW'
  /** Read-only open of a database that still needs migrations a read-only open cannot apply. */
  | 'STORE_OUTDATED'
  /** The store's files are damaged (missing, empty, corrupt, from another store): refused, never read as empty. */
  | 'STORE_DAMAGED'
  /** A second action with an idempotency key already used by another action. */
  | 'DUPLICATE_ACTION'
  /** An action whose ticketId names no stored ticket. */
  | 'UNKNOWN_TICKET'
  /** An argument the store refuses to persist (bad audit entry, unknown id kind). */
  | 'INVALID_INPUT';

export class StoreError extends WardenError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    super(code, message, opts);
  }
}

/** STORE_DAMAGED naming the file and what is wrong with it, so each can be said on its own. */
export class StoreDamagedError extends StoreError {
  constructor(readonly file: string, readonly what: string, message: string, opts: { cause?: unknown } = {}) {
    super('STORE_DAMAGED', message, opts);
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
