// One HTTP request of a channel, as a DeliveryResult: what every HTTP-based provider shares. A 5xx,
// a 429 or a network error may pass later; another 4xx is final (retrying a request the provider
// rejects only repeats the rejection).
import type { DeliveryResult } from './event.js';

export interface HttpRequest {
  url: string;
  method?: 'POST' | 'PUT';
  headers?: Record<string, string>;
  body: string;
}

export async function send(req: HttpRequest, signal: AbortSignal): Promise<DeliveryResult> {
  try {
    const res = await fetch(req.url, {
      method: req.method ?? 'POST',
      headers: { 'user-agent': 'warden', ...req.headers },
      body: req.body,
      signal,
    });
    const text = await res.text().catch(() => '');
    if (res.ok) return { ok: true, status: res.status, error: null, retryable: false };
    const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
    return { ok: false, status: res.status, error: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, retryable };
  } catch (e) {
    return { ok: false, status: null, error: networkError(e, signal), retryable: true };
  }
}

export function postJson(url: string, body: unknown, signal: AbortSignal, headers: Record<string, string> = {}): Promise<DeliveryResult> {
  return send({ url, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }, signal);
}

/** fetch hides the reason in `cause` ("fetch failed: connect ECONNREFUSED ..."); a timeout says so. */
export function networkError(e: unknown, signal: AbortSignal): string {
  if (signal.aborted) return `no answer in time (${String((signal.reason as Error | undefined)?.message ?? 'aborted')})`;
  if (!(e instanceof Error)) return String(e);
  return e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message;
}
