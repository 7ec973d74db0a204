// The public JSON form of an outbox row (`warden notify list --json`): stable field names, ISO times.
import { iso } from '../lib/clock.js';
import type { NotifyEvent } from '../notify/event.js';
import type { OutboxRow } from '../store/outbox.js';

export function outboxJson(r: OutboxRow<NotifyEvent>): Record<string, unknown> {
  return {
    id: r.id, channel: r.channel, kind: r.kind, key: r.key, subject: r.event.subject, severity: r.event.severity,
    summary: r.event.summary, state: r.state, hold: r.hold, attempts: r.attempts,
    createdAt: iso(r.createdAt), nextAttemptAt: r.state === 'pending' ? iso(r.dueAt) : null, settledAt: iso(r.settledAt),
    lastStatus: r.lastStatus, lastError: r.lastError, note: r.note,
  };
}
