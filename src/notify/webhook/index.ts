// Channel plugin `webhook`: POST each event as JSON (with retries; see ../webhook.ts).
import { z } from 'zod';
import { show } from '../../config/fields.js';
import { defineChannel } from '../channel.js';
import { deliverWebhook } from '../webhook.js';

export default defineChannel({
  name: 'webhook',
  description: 'POSTs each event as JSON to a URL, retrying network errors, 5xx and 429',
  config: z.strictObject({
    url: z.url({ protocol: /^https?$/, error: (iss) => `expected an http(s) URL; got ${show(iss.input)}` }),
    headers: z.record(z.string(), z.string()).default({}),
  }),
  compile: (c) => ({ url: c.url, headers: { ...c.headers } }),
  prerequisites: [],
  deliver: (channel, event, clock) => deliverWebhook(channel, event, Math.random, clock),
});
