// Fans events out to the configured channels, off the loop's path: a slow or dead receiver never
// delays a repair. Deliveries are tracked so a draining daemon can wait for them.
import type { NotifyChannel } from '../domain/types.js';
import { systemClock, type Clock, type TimerHandle } from '../lib/clock.js';
import { deliver } from './channels.js';
import type { DeliveryResult, NotifyEvent } from './webhook.js';

export class Notifier {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private channels: NotifyChannel[],
    private readonly report: (channel: NotifyChannel, event: NotifyEvent, result: DeliveryResult) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  setChannels(channels: NotifyChannel[]): void {
    this.channels = channels;
  }

  wants(channel: NotifyChannel, kind: string): boolean {
    return channel.events.includes('*') || channel.events.includes(kind);
  }

  send(event: NotifyEvent): void {
    for (const ch of this.channels) {
      if (!this.wants(ch, event.kind)) continue;
      const p = deliver(ch, event, this.clock).then(
        (r) => this.report(ch, event, r),
        (e: unknown) => this.report(ch, event, { ok: false, attempts: 0, status: null, error: String(e) }),
      ).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  /** Waits up to `ms` for deliveries in flight. */
  async drain(ms: number): Promise<void> {
    let timer: TimerHandle | undefined;
    await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => { timer = this.clock.setTimeout(() => r(undefined), ms); })]);
    this.clock.clearTimeout(timer);
  }
}
