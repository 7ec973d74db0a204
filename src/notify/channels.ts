// The notification-channel registry: one typed table, one line per channel; a `notify` entry names
// its channel by the one key it has (`webhook: {...}`). Channel types are domain's NotifyChannel types.
import type { NotifyChannel } from '../domain/types.js';
import type { Clock } from '../lib/clock.js';
import { lookup, registry } from '../plugins/plugin.js';
import type { ChannelPlugin } from './channel.js';
import type { DeliveryResult, NotifyEvent } from './webhook.js';

export const channels = registry('channel', {
  webhook: (await import('./webhook/index.js')).default,
}) satisfies { [T in NotifyChannel['type']]: { name: T } };

export const CHANNEL_TYPES = Object.keys(channels) as NotifyChannel['type'][];

/** Delivers through the channel's plugin. */
export function deliver(channel: NotifyChannel, event: NotifyEvent, clock: Clock): Promise<DeliveryResult> {
  const plugin = lookup('channel', channels, channel.type) as ChannelPlugin;
  return plugin.deliver(channel as never, event, clock);
}
