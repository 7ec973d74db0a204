// The daemon's notifications: the outbox wired to this daemon's store, config and clock, and what
// Warden says of itself. Decisions are announced by following the audit log (notify/outbox.ts);
// states that are not audited (degraded: the store may be what fails; a plugin unusable) are
// recorded straight into the outbox, or, when the store cannot take them, sent from memory.
import type { ResolvedConfig } from '../domain/types.js';
import type { Clock } from '../lib/clock.js';
import { errorText } from '../lib/errors.js';
import { describe } from '../loop/events.js';
import type { NotifyEvent } from '../notify/event.js';
import { Outbox } from '../notify/outbox.js';
import { draftsOfRecord, selfDraft } from '../notify/semantics.js';
import { describeUnusable, type UnusablePlugin } from '../plugins/index.js';
import { approvalLinks } from '../runtime/links.js';
import type { WardenMetrics } from '../runtime/metrics.js';
import type { OutboxRow } from '../store/outbox.js';
import type { Store } from '../store/store.js';
import type { AuditIntent } from '../domain/audit.js';

export interface DaemonNotificationsDeps {
  store: Store;
  clock: Clock;
  boot: () => string;
  config: () => ResolvedConfig;
  metrics: WardenMetrics;
  log: (line: string) => void;
  /** The key approval links are signed with (daemon/decisions.ts); null: messages carry no links. */
  linkKey: () => Buffer | null;
  /** Writes audit records (notify.failed, notify.dropped) while the daemon may still write. */
  audit: (i: AuditIntent) => void;
}

export class DaemonNotifications {
  readonly outbox: Outbox;

  constructor(private readonly deps: DaemonNotificationsDeps) {
    const { store, config } = deps;
    this.outbox = new Outbox({
      store, clock: deps.clock, boot: deps.boot, log: deps.log,
      agent: () => config().agent.name,
      channels: () => config().notify,
      labels: (service) => config().services.find((s) => s.name === service)?.labels,
      draftsOf: (r) => draftsOfRecord(r, describe(r as AuditIntent), {
        agent: config().agent.name, ticket: (id) => store.getTicket(id), action: (id) => store.getAction(id),
        links: (a) => {
          const key = deps.linkKey();
          const url = config().agent.api?.publicUrl ?? null;
          return key === null || url === null ? [] : approvalLinks(a, config().people, url, key);
        },
      }),
      stillOpen: (row: OutboxRow<NotifyEvent>) => {
        const t = row.key !== null ? store.latestTicketByFingerprint(row.key) : null;
        return t !== null && t.status !== 'resolved';
      },
      audit: (kind, subject, data) => deps.audit({ kind, subject, data }),
      onGivenUp: (channel) => deps.metrics.notifyFailed(channel),
    });
  }

  /** Warden's own state, not audited: into the outbox, or from memory when the store fails. */
  self(kind: 'agent.degraded' | 'agent.recovered' | 'agent.plugin_failed' | 'peer.unreachable' | 'peer.recovered', summary: string, data: Record<string, unknown>): void {
    const drafts = [selfDraft(this.deps.config().agent.name, kind, summary, data)];
    try {
      this.deps.store.transaction(() => this.outbox.enqueue(drafts));
      this.outbox.kick();
    } catch (e) {
      this.deps.log(`notify: cannot record ${kind} in the outbox (${errorText(e)}); sending it from memory`);
      this.outbox.sendDirect(drafts);
    }
  }

  /** A plugin the config needs is disabled or failed: people hear of it, once per start or reload. */
  unusable(u: UnusablePlugin): void {
    const plugin = `${u.status.family} ${u.status.name}`;
    this.self('agent.plugin_failed', `${this.deps.config().agent.name}: ${describeUnusable(u)}`, { plugin, state: u.status.state, reason: u.status.reason, usedBy: u.usedBy });
  }
}
