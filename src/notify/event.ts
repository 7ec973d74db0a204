// What a channel is handed: one notification, keyed so that a provider can group and close it, and
// the outcome of one attempt to deliver it. Retrying is the outbox's job (outbox.ts), not a channel's.
import type { Severity } from '../domain/types.js';

export interface NotifyEvent {
  kind: string;
  agent: string;
  /** ISO-8601 wall time the event happened. */
  at: string;
  /** A ticket or action id, or null. */
  subject: string | null;
  /**
   * What the message is about, stable across its updates: the ticket's fingerprint (never free
   * text), or `agent:<name>:<topic>` for Warden's own state. Providers group and resolve on it.
   */
  key: string | null;
  severity: Severity;
  /** The service it concerns, when one (routes match it and its labels). */
  service: string | null;
  summary: string;
  data: Record<string, unknown>;
}

/** The outcome of one delivery attempt; never thrown. */
export interface DeliveryResult {
  ok: boolean;
  /** The provider's HTTP status (or SMTP reply code), when it answered. */
  status: number | null;
  error: string | null;
  /** Whether trying again later may succeed (network errors, 5xx, 429); a 4xx is final. */
  retryable: boolean;
}

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

export function severityAtLeast(s: Severity, min: Severity): boolean {
  return SEVERITIES.indexOf(s) >= SEVERITIES.indexOf(min);
}

/** Kinds that close what their key opened on a channel (a ticket resolved, Warden recovered). */
const CLOSING: ReadonlySet<string> = new Set(['ticket.resolved', 'agent.recovered', 'agent.unfrozen', 'service.resumed']);

export function isResolve(kind: string): boolean {
  return CLOSING.has(kind);
}

/** Escalations pass quiet hours and digests, and are never held behind a resolve. */
export function isEscalation(e: Pick<NotifyEvent, 'kind' | 'severity'>): boolean {
  return e.kind === 'ticket.escalated' || e.severity === 'critical';
}

/** The message in one line with the agent's name: what SMS, push and mail subjects show. */
export function headline(e: NotifyEvent): string {
  return `[${e.agent}] ${e.summary}`;
}
