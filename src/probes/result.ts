// Shared shape of probe outcomes, so every probe words its results and timeouts the same way.
import type { ProbeResult } from '../domain/types.js';
import { isFdShortage } from '../lib/errors.js';

/** Milliseconds since `start` (a performance.now() value), to 0.01 ms. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

// Messages carry no timing (latencyMs does): the same world must give the same report text.
export function ok(message: string, start: number): ProbeResult {
  return { ok: true, message, latencyMs: since(start), timedOut: false };
}

export function fail(message: string, start: number): ProbeResult {
  return { ok: false, message, latencyMs: since(start), timedOut: false };
}

export function timedOut(timeoutMs: number, start: number): ProbeResult {
  return { ok: false, message: `timed out after ${timeoutMs} ms`, latencyMs: since(start), timedOut: true };
}

/**
 * A failed result from an error. A descriptor shortage is Warden's own, not the service's: the
 * result is marked inconclusive with the errno (the check scheduler does not count it).
 */
export function errorResult(err: unknown, start: number): ProbeResult {
  const r = fail(errorMessage(err), start);
  if (!isFdShortage(err)) return r;
  const code = String((err as { code?: unknown }).code ?? 'EMFILE');
  return { ...r, inconclusive: FD_CODES.includes(code) ? code : 'EMFILE' };
}

const FD_CODES = ['EMFILE', 'ENFILE'];

/**
 * Runs `work` (which reports its own failures as results) and gives up at the timeout: a stat or
 * read that hangs (a dead network mount) cannot be cancelled, but the probe answers in time.
 */
export function bounded(work: Promise<ProbeResult>, timeoutMs: number, start: number): Promise<ProbeResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve(timedOut(timeoutMs, start)), timeoutMs);
  });
  const done = work.catch((err: unknown) => errorResult(err, start));
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

/** Errors become one line for people; anything thrown that is not an Error is shown as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
