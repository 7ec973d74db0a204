// What a service kind is: a Plugin whose config is the fields it adds to a service (`start` for
// process, `unit` for systemd), compiled into its own ServiceSpec variant, plus a driver factory.
// One folder per kind (src/kinds/<name>/index.ts, its plugin as default export), one line in ./index.ts.
import type { z } from 'zod';
import type { ExitRecord, ServiceCommon, ServiceKind, ServiceSpec } from '../domain/types.js';
import type { Clock } from '../lib/clock.js';
import type { Plugin } from '../plugins/plugin.js';
import type { ServiceDriver } from './driver.js';
import type { ProcessRegistry } from './process/supervisor.js';

/** The fields a kind owns in its ServiceSpec variant (everything but the common ones and `kind`). */
export type KindFields<K extends ServiceKind> = Omit<Extract<ServiceSpec, { kind: K }>, keyof ServiceCommon | 'kind'>;

/** Everything any kind's driver may need; each factory takes what it uses. */
export interface DriverDeps {
  dataDir: string;
  instanceId: string;
  registry: ProcessRegistry;
  clock: Clock;
  onExit: (service: string, exit: ExitRecord) => void;
  onChange: (service: string) => void;
  onError: (err: unknown) => void;
}

export interface KindPlugin<N extends ServiceKind = ServiceKind, S extends z.ZodRawShape = z.ZodRawShape, D extends ServiceDriver = ServiceDriver>
  extends Plugin<N, z.ZodObject<S>, KindFields<N>> {
  /** The keys this kind adds to a service, with their schemas (optional in the service schema). */
  fields: S;
  /** Of `fields`, those a service of this kind must set, each with what to tell people who left it out. */
  required: Partial<Record<keyof S & string, string>>;
  /** Said to people who set another kind's field on a service of this kind. */
  hint: string;
  driver(deps: DriverDeps): D;
}

export function defineKind<const N extends ServiceKind, S extends z.ZodRawShape, D extends ServiceDriver>(p: KindPlugin<N, S, D>): KindPlugin<N, S, D> {
  return p;
}
