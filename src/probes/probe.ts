// What a probe plugin is: a Plugin whose compiled config is a ProbeSpec, plus how to run it and
// how to name what it looks at. One folder per probe (src/probes/<name>/index.ts exporting it as
// default) and one line in the table in ./index.ts.
import type { z } from 'zod';
import type { ProbeResult } from '../domain/types.js';
import type { Plugin } from '../plugins/plugin.js';
import type { Transport } from '../transport/transport.js';

export interface ProbePlugin<N extends string = string, C extends z.ZodType = z.ZodType, S extends { type: N } = { type: N }>
  extends Plugin<N, C, Omit<S, 'type'>> {
  /** One observation; should not reject (runProbe turns a rejection into a failed result). */
  run(spec: S, timeoutMs: number): Promise<ProbeResult>;
  /** What it looks at, for people: an address, a URL, a command line. */
  target(spec: S): string;
  /** The host:port it connects to, if any, so that a Warden is kept from probing its own API. */
  endpoint?(spec: S): { host: string; port: number } | null;
  /**
   * How it runs for a service on a host reached through a transport (ssh): on that host, or
   * 'from-warden' when what it looks at is a network service Warden reaches itself. Absent: it
   * cannot look at another host (its result says so).
   */
  remote?: ((spec: S, timeoutMs: number, on: Transport) => Promise<ProbeResult>) | 'from-warden';
  /** The program it runs, if any, so `validate` can say before a run that it is not there. */
  command?(spec: S): { argv: string[]; cwd: string; field: string };
}

/** Types a probe plugin: the spec its `run` takes is what its `compile` returns, tagged with its name. */
export function defineProbe<const N extends string, C extends z.ZodType, S extends { type: N }>(p: ProbePlugin<N, C, S>): ProbePlugin<N, C, S> {
  return p;
}
