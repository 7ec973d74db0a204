// What a notification channel is: a Plugin whose config is its own key in a `notify` entry
// (`webhook: { url }`), compiled into the channel-specific fields of a NotifyChannel, plus one
// delivery attempt. Retries, backoff, pacing and durability belong to the outbox, for every channel.
import type { z } from 'zod';
import type { ChannelCommon, NotifyChannel } from '../domain/types.js';
import type { Plugin } from '../plugins/plugin.js';
import type { DeliveryResult, NotifyEvent } from './event.js';

/** The fields a channel owns in its NotifyChannel variant. */
export type ChannelFields<N extends NotifyChannel['type']> = Omit<Extract<NotifyChannel, { type: N }>, 'type' | keyof ChannelCommon>;

export interface ChannelPlugin<N extends NotifyChannel['type'] = NotifyChannel['type'], C extends z.ZodType = z.ZodType>
  extends Plugin<N, C, ChannelFields<N>> {
  /** One attempt; resolves with the outcome, never rejects; stops when `signal` fires. */
  deliver(channel: Extract<NotifyChannel, { type: N }>, event: NotifyEvent, signal: AbortSignal): Promise<DeliveryResult>;
  /** Where this channel's config holds secrets ("url", "routingKey"): the config file must then be private. */
  secrets(channel: Extract<NotifyChannel, { type: N }>): string[];
}

export function defineChannel<const N extends NotifyChannel['type'], C extends z.ZodType>(p: ChannelPlugin<N, C>): ChannelPlugin<N, C> {
  return p;
}
