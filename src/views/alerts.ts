// The alerts a data directory holds, as `warden status` and GET /api/status show them: how many
// fire on services of the inventory, and each that names nothing in it (reported, never dropped).
// Read from the store's flags, so the CLI sees the same without a daemon.
import { firingByService, unmatchedAlerts } from '../domain/alerts.js';
import type { AlertFacts, AlertRecord, ResolvedConfig } from '../domain/types.js';
import type { Store } from '../store/store.js';

/** Each held alert is the store flag `alert:<fingerprint>` (loop/alerts.ts writes them). */
export const ALERT_PREFIX = 'alert:';

export interface AlertsJson {
  /** Firing alerts placed on services of the inventory. */
  firing: number;
  unmatched: { alert: string; fingerprint: string; labels: Record<string, string>; startsAt: string; receivedAt: string; reason: string }[];
}

/** The alerts kept in a store; one this version cannot read is skipped (the next delivery rewrites it). */
export function heldAlerts(store: Pick<Store, 'flagsWithPrefix'> | null): AlertRecord[] {
  const out: AlertRecord[] = [];
  for (const v of store?.flagsWithPrefix(ALERT_PREFIX).values() ?? []) {
    try {
      out.push(JSON.parse(v) as AlertRecord);
    } catch {
      // Says nothing about a service either way.
    }
  }
  return out;
}

/**
 * Absent when no alert is held. Expiry is judged on the wall clock here: the reader may be another
 * process, whose monotonic clock the records' stamps are not compared with.
 */
export function alertsJson(config: ResolvedConfig, store: Pick<Store, 'flagsWithPrefix'> | null, now: number): { alerts?: AlertsJson } {
  const held = heldAlerts(store);
  if (held.length === 0) return {};
  const at = { wall: now, mono: Number.NaN, boot: '' };
  const firing = Object.values(firingByService(held, config, at)).reduce((n, l) => n + l.length, 0);
  const unmatched = unmatchedAlerts(held, config, at).map((u) => ({ ...u, receivedAt: new Date(u.receivedAt).toISOString() }));
  return firing + unmatched.length === 0 ? {} : { alerts: { firing, unmatched } };
}

/** The alerts firing on one service, for its diagnostics bundle (`warden debug`); absent when none. */
export function alertsOn(config: ResolvedConfig, store: Pick<Store, 'flagsWithPrefix'> | null, service: string, now: number): { alerts?: AlertFacts[] } {
  const held = heldAlerts(store);
  const on = held.length === 0 ? undefined : firingByService(held, config, { wall: now, mono: Number.NaN, boot: '' })[service];
  return on ? { alerts: on } : {};
}
