// Polling until a condition holds: the demo, the benchmarks and the tests all wait this way.
export { setTimeout as sleep } from 'node:timers/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Poll period. */
  everyMs?: number;
  /** Treat a throwing condition as "not yet" (the last error is quoted on timeout). */
  retryErrors?: boolean;
}

/**
 * Resolves with the condition's first value that is not null, undefined or false; rejects after
 * `timeoutMs` with a message naming `what`.
 */
export async function waitFor<T>(
  cond: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string,
  opts: WaitOptions = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v !== null && v !== undefined && v !== false) return v;
    } catch (e) {
      if (!opts.retryErrors) throw e;
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(opts.everyMs ?? 100);
  }
}
