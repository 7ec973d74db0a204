// What a notification channel is: a Plugin whose config is its own key in a `notify` entry
// (`webhook: { url }`), compiled into the channel-specific fields of a NotifyChannel, plus delivery.
import type { z } from 'zod';
import type { NotifyChannel } from '../domain/types.js';
import type { Clock } from '../lib/clock.js';
import type { Plugin } from '../plugins/plugin.js';
import type { DeliveryResult, NotifyEvent } from './webhook.js';

/** The fields a channel owns in its NotifyChannel variant. */
export type ChannelFields<N extends NotifyChannel['type']> = Omit<Extract<NotifyChannel, { type: N }>, 'name' | 'type' | 'events' | 'timeoutMs' | 'retries'>;

export interface ChannelPlugin<N extends NotifyChannel['type'] = NotifyChannel['type'], C extends z.ZodType = z.ZodType>
  extends Plugin<N, C, ChannelFields<N>> {
  /** Sends one event, retries included; resolves with the outcome, never rejects. */
  deliver(channel: Extract<NotifyChannel, { type: N }>, event: NotifyEvent, clock: Clock): Promise<DeliveryResult>;
}

export function defineChannel<const N extends NotifyChannel['type'], C extends z.ZodType>(p: ChannelPlugin<N, C>): ChannelPlugin<N, C> {
  return p;
}
