// One base class for Warden's own errors: a stable `code` that scripts and tests branch on, and
// whether trying the same thing again later may succeed (`retryable`), in the Temporal SDK's style.

export class WardenError extends Error {
  readonly code: string;
  /** True when the same call may succeed later without anyone changing anything. */
  readonly retryable: boolean;

  constructor(code: string, message: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
}

export function isWardenError(err: unknown, code?: string): err is WardenError {
  return err instanceof WardenError && (code === undefined || err.code === code);
}

/** One line for people from anything thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Descriptors ran out, for this process (EMFILE) or the whole system (ENFILE). */
const FD_SHORTAGE = new Set(['EMFILE', 'ENFILE']);

/**
 * True when `err` (or an error in its cause chain) is a file-descriptor shortage: temporary by
 * nature (idle connections close, a leak gets fixed), so whatever failed is tried again later and
 * is never a permanent failure.
 */
export function isFdShortage(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (FD_SHORTAGE.has(String((e as { code?: unknown }).code))) return true;
  }
  return false;
}
