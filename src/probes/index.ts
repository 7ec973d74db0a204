// The probe registry: one typed table, one line per probe; the probe names are its keys. Adding a
// probe is a folder (src/probes/<name>/index.ts, its plugin as default export) plus one line here.
// An unknown name is an error (in the config) or a failed result (at run time), never a default.
import type { ProbeResult, ProbeSpec } from '../domain/types.js';
import { registry } from '../plugins/plugin.js';
import type { ProbePlugin } from './probe.js';
import type { Transport } from '../transport/transport.js';
import { errorMessage, errorResult, fail } from './result.js';

// The order is the order in listings and messages ("exactly one of http, tcp, exec, file, filesystem or promql").
export const probes = registry('probe', {
  http: (await import('./http/index.js')).default,
  tcp: (await import('./tcp/index.js')).default,
  exec: (await import('./exec/index.js')).default,
  file: (await import('./file/index.js')).default,
  filesystem: (await import('./filesystem/index.js')).default,
  promql: (await import('./promql/index.js')).default,
});

export type ProbeType = keyof typeof probes;

export const PROBE_TYPES = Object.keys(probes) as ProbeType[];

/** The plugin that runs `spec`, or null for a name the table does not have. */
export function probeOf(type: string): ProbePlugin | null {
  return Object.hasOwn(probes, type) ? (probes as Record<string, ProbePlugin>)[type] ?? null : null;
}

/** Runs one probe. Never rejects: every failure, including a bug in a probe, is a failed result. */
export async function runProbe(spec: ProbeSpec, timeoutMs: number, on?: Transport): Promise<ProbeResult> {
  const start = performance.now();
  const probe = probeOf(spec.type);
  if (probe === null) return fail(`unknown probe type "${String(spec.type)}"`, start);
  try {
    // A service on another host is probed there (its 127.0.0.1 is that host's).
    if (on !== undefined && on.kind !== 'local' && probe.remote !== 'from-warden') {
      if (probe.remote === undefined) return fail(`probe ${spec.type} cannot look at host ${on.host}: it reads Warden's own machine`, start);
      return await probe.remote(spec as never, timeoutMs, on);
    }
    return await probe.run(spec as never, timeoutMs);
  } catch (err) {
    return { ...errorResult(err, start), message: `probe ${spec.type} failed: ${errorMessage(err)}` };
  }
}

/** What a check looks at, for people (diagnostics): an address, a URL, a command line. */
export function probeTarget(spec: ProbeSpec): string {
  return probeOf(spec.type)?.target(spec as never) ?? `unknown probe type "${spec.type}"`;
}

/** The program a check runs, when its probe runs one: its argv, cwd, and the key that holds the argv. */
export function probeCommand(spec: ProbeSpec): { argv: string[]; cwd: string; field: string } | null {
  return probeOf(spec.type)?.command?.(spec as never) ?? null;
}

/** The host:port a check connects to, when its probe connects to one. */
export function probeEndpoint(spec: ProbeSpec): { host: string; port: number } | null {
  return probeOf(spec.type)?.endpoint?.(spec as never) ?? null;
}
