// The alerts Warden holds, from Alertmanager's webhook (POST /api/alerts). Alertmanager sends a
// firing alert once, then again only every repeat_interval (4h by default), so what it said must
// outlive a restart of Warden: each held alert is a store flag `alert:<fingerprint>`, written with
// its audit records in one transaction and read back on start. In memory for the passes, which see
// the firing ones as World.alerts; domain/alerts.ts decides everything else.
import { firingByService, receiveAlerts, type AlertReceipt, type IncomingAlert } from '../domain/alerts.js';
import type { Instant } from '../domain/elapsed.js';
import type { AlertFacts, AlertRecord, ResolvedConfig } from '../domain/types.js';
import type { Store } from '../store/store.js';
import { ALERT_PREFIX, heldAlerts } from '../views/alerts.js';

/** Who the audit records of a delivery name as the actor: the alert came from there, not from Warden. */
export const ALERT_ACTOR = 'alertmanager';

export interface AlertBookDeps {
  store: Pick<Store, 'transaction' | 'setFlag' | 'flagsWithPrefix' | 'audit'>;
  config: () => ResolvedConfig;
  now: () => Instant;
}

export class AlertBook {
  private readonly held = new Map<string, AlertRecord>();

  constructor(private readonly deps: AlertBookDeps) {}

  /** What the store holds from before this start. */
  load(): void {
    this.held.clear();
    for (const a of heldAlerts(this.deps.store)) this.held.set(a.fingerprint, a);
  }

  /** One webhook delivery: durable (flags and audit, one transaction) before it counts, then held. */
  receive(incoming: readonly IncomingAlert[]): AlertReceipt {
    const now = this.deps.now();
    const r = receiveAlerts(this.held, incoming, this.deps.config(), now);
    const { store } = this.deps;
    store.transaction(() => {
      for (const a of r.put) store.setFlag(ALERT_PREFIX + a.fingerprint, JSON.stringify(a));
      for (const fp of r.remove) store.setFlag(ALERT_PREFIX + fp, null);
      for (const i of r.audit) store.audit({ at: now.wall, actor: ALERT_ACTOR, kind: i.kind, subject: i.subject, data: i.data });
    });
    for (const fp of r.remove) this.held.delete(fp);
    for (const a of r.put) this.held.set(a.fingerprint, a);
    return r.receipt;
  }

  /** The firing alerts by the service they name, for the World a pass decides on. */
  firing(now: Instant): Record<string, AlertFacts[]> {
    return this.held.size === 0 ? {} : firingByService(this.held.values(), this.deps.config(), now);
  }
}
