// Channel plugin `alertmanager`: events in the Alertmanager webhook format (version 4), so anything
// that takes Alertmanager's notifications (a receiver bridge, an incident tool, another
// Alertmanager's webhook relay) takes Warden's: one alert per problem, labelled with its
// fingerprint, `firing` until Warden resolves it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isSecretName } from '../../config/secretnames.js';
import { defineChannel } from '../channel.js';
import { isResolve, type NotifyEvent } from '../event.js';
import { httpUrl, ticketOf } from '../fields.js';
import { postJson } from '../http.js';
import { urlSecret } from '../urls.js';

/** Alertmanager's "zero" time: an alert still firing has no end. */
const NO_END = '0001-01-01T00:00:00Z';

export function alertmanagerPayload(receiver: string, e: NotifyEvent, externalURL = ''): Record<string, unknown> {
  const status = isResolve(e.kind) ? 'resolved' : 'firing';
  const ticket = ticketOf(e);
  const labels: Record<string, string> = {
    alertname: e.kind.startsWith('ticket.') ? 'WardenTicket' : `Warden_${e.kind.replace(/\W/g, '_')}`,
    agent: e.agent,
    severity: e.severity,
    ...(e.service !== null ? { service: e.service } : {}),
    ...(e.key !== null ? { warden_key: e.key } : {}),
  };
  const startsAt = typeof e.data.openedAt === 'string' ? e.data.openedAt : e.at;
  const alert = {
    status,
    labels,
    annotations: { summary: e.summary, event: e.kind, ...(ticket !== null ? { ticket } : {}), ...(typeof e.data.cause === 'string' ? { cause: e.data.cause } : {}) },
    startsAt,
    endsAt: status === 'resolved' ? e.at : NO_END,
    generatorURL: externalURL,
    // Alertmanager's fingerprint is a hash of the labels: the same problem keeps the same one.
    fingerprint: createHash('sha256').update(JSON.stringify(labels)).digest('hex').slice(0, 16),
  };
  return {
    version: '4',
    groupKey: `{}:{warden_key="${e.key ?? e.kind}"}`,
    truncatedAlerts: 0,
    status,
    receiver,
    groupLabels: e.key !== null ? { warden_key: e.key } : {},
    commonLabels: labels,
    commonAnnotations: alert.annotations,
    externalURL,
    alerts: [alert],
  };
}

export default defineChannel({
  name: 'alertmanager',
  description: 'POSTs Alertmanager webhook (v4) payloads: one alert per problem, firing then resolved',
  config: z.strictObject({
    url: httpUrl,
    headers: z.record(z.string(), z.string()).default({}),
  }),
  compile: (c) => ({ url: c.url, headers: { ...c.headers } }),
  prerequisites: [],
  deliver: (channel, event, signal) => postJson(channel.url, alertmanagerPayload(channel.name, event), signal, channel.headers),
  secrets: (c) => [
    ...Object.keys(c.headers).filter(isSecretName).map((h) => `alertmanager header ${h}`),
    ...(urlSecret(c.url) === null ? [] : [`alertmanager url ${urlSecret(c.url)!}`]),
  ],
});
