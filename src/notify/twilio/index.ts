// Channel plugin `twilio`: an SMS through Twilio's REST API (Messages resource, form-encoded, basic
// auth with the account SID and auth token). One number per channel: a retry never texts again a
// number that already got the message.
import { z } from 'zod';
import type { TwilioChannel } from '../../domain/types.js';
import { defineChannel } from '../channel.js';
import { headline, type NotifyEvent } from '../event.js';
import { httpUrl, secret } from '../fields.js';
import { send } from '../http.js';

const phone = z.string().regex(/^\+[1-9][0-9]{6,14}$/, { error: 'expected a phone number in E.164 form, e.g. +15551234567' });

export function twilioRequest(channel: Pick<TwilioChannel, 'apiBase' | 'accountSid' | 'authToken' | 'from' | 'to'>, e: NotifyEvent): { url: string; headers: Record<string, string>; body: string } {
  return {
    url: `${channel.apiBase.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(channel.accountSid)}/Messages.json`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${channel.accountSid}:${channel.authToken}`).toString('base64')}`,
    },
    // One SMS segment is 160 GSM characters; a long summary costs several, so it is cut.
    body: new URLSearchParams({ To: channel.to, From: channel.from, Body: headline(e).slice(0, 320) }).toString(),
  };
}

export default defineChannel({
  name: 'twilio',
  description: 'SMS through the Twilio REST API',
  config: z.strictObject({
    accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, { error: 'expected a Twilio account SID (AC followed by 32 hex digits)' }),
    authToken: secret('the auth token'),
    from: phone.meta({ description: 'Your Twilio number, E.164.' }),
    to: phone.meta({ description: 'The number to text, E.164 (one per channel).' }),
    apiBase: httpUrl.default('https://api.twilio.com'),
  }),
  compile: (c) => ({ accountSid: c.accountSid, authToken: c.authToken, from: c.from, to: c.to, apiBase: c.apiBase }),
  prerequisites: [],
  deliver: (channel, event, signal) => send(twilioRequest(channel, event), signal),
  secrets: () => ['twilio authToken'],
});
