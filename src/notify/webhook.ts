// The generic JSON webhook channel: POST the event as JSON; retry with exponential backoff and
// jitter on network errors and 5xx/429 answers. A 4xx other than 429 is final (retrying a request
// the receiver rejects only repeats the rejection).
import type { NotifyChannel } from '../domain/types.js';
import { backoffMs } from '../lib/backoff.js';
import { sleepOn, systemClock, type Clock } from '../lib/clock.js';

export interface NotifyEvent {
  kind: string;
  agent: string;
  at: string;
  subject: string | null;
  summary: string;
  data: Record<string, unknown>;
}

export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  status: number | null;
  error: string | null;
}


export async function deliverWebhook(
  channel: NotifyChannel, event: NotifyEvent, random: () => number = Math.random, clock: Clock = systemClock,
): Promise<DeliveryResult> {
  let attempts = 0;
  let status: number | null = null;
  let error: string | null = null;
  for (;;) {
    attempts += 1;
    try {
      const res = await fetch(channel.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'warden', ...channel.headers },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(channel.timeoutMs),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, attempts, status, error: null };
      error = `HTTP ${res.status}`;
      if (res.status < 500 && res.status !== 429) return { ok: false, attempts, status, error };
    } catch (e) {
      error = e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
    }
    if (attempts > channel.retries) return { ok: false, attempts, status, error };
    await sleepOn(clock, backoffMs(attempts, random));
  }
}
