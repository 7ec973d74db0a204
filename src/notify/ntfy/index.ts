// Channel plugin `ntfy`: a push to an ntfy topic (ntfy.sh or one's own server), published as JSON
// to the server's root. Priority and tags follow severity, so a phone can ring for critical only.
import { z } from 'zod';
import type { NtfyChannel, Severity } from '../../domain/types.js';
import { defineChannel } from '../channel.js';
import type { NotifyEvent } from '../event.js';
import { httpUrl, linksOf, secret } from '../fields.js';
import { postJson } from '../http.js';
import { name } from '../../config/fields.js';

/** ntfy priorities: 5 urgent (long vibration, bypasses Do Not Disturb on Android), 4 high, 3 default. */
export const PRIORITY: Record<Severity, number> = { critical: 5, warning: 4, info: 3 };
const TAG: Record<Severity, string> = { critical: 'rotating_light', warning: 'warning', info: 'information_source' };

export function ntfyPayload(channel: Pick<NtfyChannel, 'topic'>, e: NotifyEvent, linkBase: string | null = null): Record<string, unknown> {
  const resolved = e.kind === 'ticket.resolved' || e.kind === 'agent.recovered';
  const links = linksOf(e, linkBase);
  return {
    topic: channel.topic,
    title: `${e.agent}: ${e.kind}`,
    message: e.summary,
    priority: PRIORITY[e.severity],
    tags: [resolved ? 'white_check_mark' : TAG[e.severity], e.kind, ...(e.service !== null ? [e.service] : [])],
    ...(links[0] ? { click: links[0].url } : {}),
    ...(links.length > 0 ? { actions: links.slice(0, 3).map((l) => ({ action: 'view', label: l.label, url: l.url })) } : {}),
  };
}

export default defineChannel({
  name: 'ntfy',
  description: 'ntfy push notification: priority and tags by severity',
  config: z.strictObject({
    server: httpUrl.default('https://ntfy.sh').meta({ description: 'The ntfy server (https://ntfy.sh or your own).' }),
    topic: name('topic'),
    token: secret('an access token').optional().meta({ description: 'Bearer token for a protected topic.' }),
  }),
  compile: (c) => ({ server: c.server, topic: c.topic, token: c.token ?? null }),
  prerequisites: [],
  deliver: (channel, event, signal) => postJson(channel.server.replace(/\/+$/, '') + '/', ntfyPayload(channel, event), signal,
    channel.token !== null ? { authorization: `Bearer ${channel.token}` } : {}),
  secrets: (c) => (c.token !== null ? ['ntfy token'] : []),
});
