// Damage can show up in any read or write (a pass, the executor recording an outcome, an API
// request, the process registry), and every one of them must tell the daemon: watching the store
// itself is the one place that sees them all, rather than a check at each of the callers.
import { damageOf } from './integrity.js';
import type { Store } from './store.js';

export interface Damage {
  /** The damaged file (the database, or its WAL). */
  file: string;
  /** What is wrong with it, for people ("is corrupt (SQLITE_CORRUPT: ...)"). */
  what: string;
}

/**
 * The same store, except that a call failing with SQLITE_CORRUPT, SQLITE_NOTADB or STORE_DAMAGED
 * first tells `onDamage` (every time: the listener latches once). The error is then thrown as
 * before, so each caller still handles its own failure.
 */
export function watchDamage(store: Store, onDamage: (d: Damage) => void): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let w = wrapped.get(prop);
      if (w === undefined) {
        const fn = value as (...args: unknown[]) => unknown;
        w = (...args: unknown[]): unknown => {
          try {
            return fn.apply(target, args);
          } catch (e) {
            const d = damageOf(e, target.path);
            if (d) onDamage(d);
            throw e;
          }
        };
        wrapped.set(prop, w);
      }
      return w;
    },
  });
}
