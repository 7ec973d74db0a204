// Shared shape of probe outcomes, so every probe words its results and timeouts the same way.
import type { ProbeResult } from '../domain/types.js';

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

/** Errors become one line for people; anything thrown that is not an Error is shown as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
