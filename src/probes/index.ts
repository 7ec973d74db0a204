// The probe registry: one typed table; the probe kinds are its keys. An unknown kind is an error
// result, never a silent default.
import type { ProbeResult, ProbeSpec } from '../domain/types.js';
import { exec } from './exec/exec.js';
import { http } from './http/http.js';
import { errorMessage, fail } from './result.js';
import { tcp } from './tcp/tcp.js';

export type ProbeType = ProbeSpec['type'];
export type Probe<T extends ProbeType> = (spec: Extract<ProbeSpec, { type: T }>, timeoutMs: number) => Promise<ProbeResult>;

export const probes = { tcp, http, exec } as const satisfies { [T in ProbeType]: Probe<T> };

export const PROBE_TYPES = Object.keys(probes) as ProbeType[];

/** Runs one probe. Never rejects: every failure, including a bug in a probe, is a failed result. */
export async function runProbe(spec: ProbeSpec, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const probe = (probes as Partial<Record<string, Probe<ProbeType>>>)[spec.type];
  if (probe === undefined) return fail(`unknown probe type "${String(spec.type)}"`, start);
  try {
    return await probe(spec as never, timeoutMs);
  } catch (err) {
    return fail(`probe ${spec.type} failed: ${errorMessage(err)}`, start);
  }
}
