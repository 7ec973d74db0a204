// Channel plugin `slack`: a Slack incoming webhook (https://hooks.slack.com/services/...). The
// message is Block Kit: a header, the summary, the facts as fields, and link buttons (the ticket,
// and approve/reject when the event carries those links). `text` is the fallback notifications show.
import { z } from 'zod';
import type { SlackChannel } from '../../domain/types.js';
import { defineChannel } from '../channel.js';
import { headline, type NotifyEvent } from '../event.js';
import { EMOJI, factsOf, httpUrl, linksOf } from '../fields.js';
import { postJson } from '../http.js';

export function slackPayload(channel: Pick<SlackChannel, 'linkBase'>, e: NotifyEvent): Record<string, unknown> {
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: `${EMOJI[e.severity]} ${e.kind}`.slice(0, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: e.summary.slice(0, 3000) } },
    { type: 'section', fields: factsOf(e).map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}`.slice(0, 2000) })).slice(0, 10) },
  ];
  const links = linksOf(e, channel.linkBase);
  if (links.length > 0) {
    blocks.push({
      type: 'actions',
      elements: links.map((l, i) => ({ type: 'button', action_id: `warden-${i}`, text: { type: 'plain_text', text: l.label }, url: l.url, ...(l.style ? { style: l.style } : {}) })),
    });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${e.agent} · ${e.at}` }] });
  return { text: headline(e), blocks };
}

export default defineChannel({
  name: 'slack',
  description: 'Slack incoming webhook: Block Kit message with the ticket summary and link buttons',
  config: z.strictObject({
    url: httpUrl.meta({ description: 'The incoming webhook URL Slack gave (a secret: anyone with it can post).' }),
    linkBase: httpUrl.optional().meta({ description: "Warden's API as people reach it (https://warden.example.com): buttons link to the ticket there." }),
  }),
  compile: (c) => ({ url: c.url, linkBase: c.linkBase ?? null }),
  prerequisites: [],
  deliver: (channel, event, signal) => postJson(channel.url, slackPayload(channel, event), signal),
  secrets: () => ['slack url'],
});
