// Channel plugin `mattermost`: a Mattermost incoming webhook (https://chat.example.com/hooks/...).
// Mattermost takes Slack-style message attachments: colour by severity, the facts as short
// fields, and buttons; a Mattermost button calls an integration URL, so it carries the link there.
import { z } from 'zod';
import type { MattermostChannel } from '../../domain/types.js';
import { defineChannel } from '../channel.js';
import { headline, type NotifyEvent } from '../event.js';
import { COLOR, EMOJI, factsOf, httpUrl, linksOf } from '../fields.js';
import { postJson } from '../http.js';
import { name } from '../../config/fields.js';

export function mattermostPayload(channel: Pick<MattermostChannel, 'linkBase' | 'channel' | 'username'>, e: NotifyEvent): Record<string, unknown> {
  const links = linksOf(e, channel.linkBase);
  return {
    text: `${EMOJI[e.severity]} ${headline(e)}`,
    ...(channel.channel !== null ? { channel: channel.channel } : {}),
    ...(channel.username !== null ? { username: channel.username } : {}),
    attachments: [{
      fallback: headline(e),
      color: COLOR[e.severity],
      title: e.kind,
      text: [e.summary, ...links.map((l) => `[${l.label}](${l.url})`)].join('\n'),
      fields: factsOf(e).map(([k, v]) => ({ short: true, title: k, value: v })),
      ...(links.length > 0
        ? { actions: links.map((l, i) => ({ id: `warden${i}`, type: 'button', name: l.label, ...(l.style ? { style: l.style } : {}), integration: { url: l.url, context: { key: e.key, kind: e.kind } } })) }
        : {}),
    }],
  };
}

export default defineChannel({
  name: 'mattermost',
  description: 'Mattermost incoming webhook: an attachment coloured by severity, with facts and link buttons',
  config: z.strictObject({
    url: httpUrl.meta({ description: 'The incoming webhook URL (a secret: anyone with it can post).' }),
    linkBase: httpUrl.optional().meta({ description: "Warden's API as people reach it: buttons link to the ticket there." }),
    channel: name('channel').optional().meta({ description: "Post here instead of the webhook's own channel (if the webhook allows it)." }),
    username: z.string().min(1).optional(),
  }),
  compile: (c) => ({ url: c.url, linkBase: c.linkBase ?? null, channel: c.channel ?? null, username: c.username ?? null }),
  prerequisites: [],
  deliver: (channel, event, signal) => postJson(channel.url, mattermostPayload(channel, event), signal),
  secrets: () => ['mattermost url'],
});
