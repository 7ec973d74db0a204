// Channel plugin `pagerduty`: PagerDuty Events API v2. Every event about one problem carries the
// same dedup_key (the ticket's fingerprint), so PagerDuty keeps one incident per problem: opened,
// reopened, escalated and reminders trigger it (a trigger on an open incident adds to it), a repair
// Warden carried out acknowledges it, and the resolve closes it.
import { z } from 'zod';
import type { Severity } from '../../domain/types.js';
import { defineChannel } from '../channel.js';
import { isResolve, type NotifyEvent } from '../event.js';
import { httpUrl, secret, ticketOf } from '../fields.js';
import { postJson } from '../http.js';

export const EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
const PD_SEVERITY: Record<Severity, string> = { critical: 'critical', warning: 'warning', info: 'info' };

export function pagerDutyAction(kind: string): 'trigger' | 'acknowledge' | 'resolve' {
  if (isResolve(kind)) return 'resolve';
  if (kind === 'action.completed') return 'acknowledge';
  return 'trigger';
}

export function pagerDutyPayload(routingKey: string, e: NotifyEvent): Record<string, unknown> {
  const action = pagerDutyAction(e.kind);
  const dedupKey = e.key ?? `${e.agent}:${e.kind}:${e.at}`;
  if (action !== 'trigger') return { routing_key: routingKey, event_action: action, dedup_key: dedupKey };
  const ticket = ticketOf(e);
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: e.summary.slice(0, 1024),
      source: e.agent,
      severity: PD_SEVERITY[e.severity],
      timestamp: e.at,
      ...(e.service !== null ? { component: e.service } : {}),
      class: e.kind,
      custom_details: { ...e.data, ...(ticket !== null ? { ticket } : {}) },
    },
    client: `warden ${e.agent}`,
  };
}

export default defineChannel({
  name: 'pagerduty',
  description: 'PagerDuty Events API v2: trigger, acknowledge and resolve with dedup_key = the ticket fingerprint',
  config: z.strictObject({
    routingKey: secret('the integration (routing) key').meta({ description: "The Events API v2 integration key of a PagerDuty service." }),
    url: httpUrl.default(EVENTS_URL).meta({ description: 'The Events API endpoint (the default is PagerDuty\'s).' }),
  }),
  compile: (c) => ({ routingKey: c.routingKey, url: c.url }),
  prerequisites: [],
  deliver: (channel, event, signal) => postJson(channel.url, pagerDutyPayload(channel.routingKey, event), signal),
  secrets: () => ['pagerduty routingKey'],
});
