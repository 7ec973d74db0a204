// Channel plugin `webhook`: POST each event as JSON. With a `secret`, the receiver can check that
// Warden sent it: X-Warden-Signature is sha256=HMAC-SHA256(secret, "<timestamp>.<body>") in hex,
// and X-Warden-Timestamp the Unix seconds it signs (so an old request cannot be replayed later).
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { WebhookChannel } from '../../domain/types.js';
import { isSecretName } from '../../config/secretnames.js';
import { defineChannel } from '../channel.js';
import type { NotifyEvent } from '../event.js';
import { httpUrl, secret } from '../fields.js';
import { send } from '../http.js';
import { urlSecret } from '../urls.js';

export function signature(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookRequest(channel: WebhookChannel, event: NotifyEvent, nowSeconds: number): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify(event);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...channel.headers };
  if (channel.secret !== null) {
    const ts = String(Math.floor(nowSeconds));
    headers['x-warden-timestamp'] = ts;
    headers['x-warden-signature'] = signature(channel.secret, ts, body);
  }
  return { headers, body };
}

export default defineChannel({
  name: 'webhook',
  description: 'POSTs each event as JSON to a URL, optionally signed with HMAC-SHA256',
  config: z.strictObject({
    url: httpUrl,
    headers: z.record(z.string(), z.string()).default({}),
    secret: secret('an HMAC key').optional().meta({ description: 'Signs each body: X-Warden-Signature: sha256=HMAC-SHA256(secret, "<X-Warden-Timestamp>.<body>").' }),
  }),
  compile: (c) => ({ url: c.url, headers: { ...c.headers }, secret: c.secret ?? null }),
  prerequisites: [],
  deliver: (channel, event, signal) => {
    const { headers, body } = webhookRequest(channel, event, Date.now() / 1000);
    return send({ url: channel.url, headers, body }, signal);
  },
  secrets: (c) => [
    ...Object.keys(c.headers).filter(isSecretName).map((h) => `webhook header ${h}`),
    ...(urlSecret(c.url) === null ? [] : [`webhook url ${urlSecret(c.url)!}`]),
    ...(c.secret !== null ? ['webhook secret'] : []),
  ],
});
