// The notification-channel registry: one typed table, one line per channel; a `notify` entry names
// its channel by the one key it has (`webhook: {...}`). Channel types are domain's NotifyChannel types.
import type { NotifyChannel } from '../domain/types.js';
import { lookup, registry } from '../plugins/plugin.js';
import type { ChannelPlugin } from './channel.js';
import type { DeliveryResult, NotifyEvent } from './event.js';

export const channels = registry('channel', {
  webhook: (await import('./webhook/index.js')).default,
  slack: (await import('./slack/index.js')).default,
  mattermost: (await import('./mattermost/index.js')).default,
  ntfy: (await import('./ntfy/index.js')).default,
  email: (await import('./email/index.js')).default,
  twilio: (await import('./twilio/index.js')).default,
  pagerduty: (await import('./pagerduty/index.js')).default,
  telegram: (await import('./telegram/index.js')).default,
  alertmanager: (await import('./alertmanager/index.js')).default,
}) satisfies { [T in NotifyChannel['type']]: { name: T } };

export const CHANNEL_TYPES = Object.keys(channels) as NotifyChannel['type'][];

function pluginOf(channel: NotifyChannel): ChannelPlugin {
  return lookup('channel', channels, channel.type) as ChannelPlugin;
}

/** One delivery attempt through the channel's plugin; a plugin that throws is a failed attempt. */
export async function deliverOnce(channel: NotifyChannel, event: NotifyEvent, signal: AbortSignal): Promise<DeliveryResult> {
  try {
    return await pluginOf(channel).deliver(channel as never, event, signal);
  } catch (e) {
    return { ok: false, status: null, error: e instanceof Error ? e.message : String(e), retryable: true };
  }
}

/** Where a channel's config holds secrets, each prefixed with the channel's name. */
export function channelSecrets(channel: NotifyChannel): string[] {
  return pluginOf(channel).secrets(channel as never).map((w) => `notify "${channel.name}" ${w}`);
}
