// The service-kind registry: one typed table, one line per kind; kind names are its keys. A kind
// also needs its ServiceSpec variant in domain/types.ts (the `satisfies` below keeps them equal).
import type { ServiceKind } from '../domain/types.js';
import { registry } from '../plugins/plugin.js';
import type { DriverDeps, KindPlugin } from './kind.js';

export const kinds = registry('kind', {
  process: (await import('./process/index.js')).default,
  systemd: (await import('./systemd/index.js')).default,
  container: (await import('./container/index.js')).default,
  pod: (await import('./pod/index.js')).default,
}) satisfies { [K in ServiceKind]: { name: K } };

export type KindName = keyof typeof kinds;

/** The driver of every kind, built from one set of dependencies, keyed by kind. */
export type Drivers = { [K in KindName]: ReturnType<(typeof kinds)[K]['driver']> };

export function createDrivers(deps: DriverDeps): Drivers {
  return Object.fromEntries(Object.values(kinds).map((k: KindPlugin) => [k.name, k.driver(deps)])) as Drivers;
}

/** The driver for a service: a lookup by its kind in a table with one entry per kind. */
export function driverOf<D>(drivers: { [K in ServiceKind]: D }, spec: { kind: ServiceKind }): D {
  return drivers[spec.kind];
}
