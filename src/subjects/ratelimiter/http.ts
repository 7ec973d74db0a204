// HTTP to one rate-limiter node: its /healthz, /metrics and /admin endpoints. A fresh connection
// per call (node:http without an agent), as the etcd client does: a pooled keep-alive socket to a
// node that was killed and started again answers the next call with "socket hang up", a fault of
// the client and not of the node. Every call is bounded by a timeout and the caller's signal.
import { request } from 'node:http';
import { WardenError } from '../../lib/errors.js';

/** Larger than any answer a node gives (its /metrics is a few kB): a runaway is cut off. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface Answer { status: number; text: string }

export class LimiterHttpError extends WardenError {
  constructor(readonly url: string, message: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    super('RATELIMITER_UNREACHABLE', `${url}: ${message}`, { retryable: true, ...opts });
  }
}

/** One call; any HTTP status is an answer, only no answer (refused, reset, timed out) throws. */
export function call(method: 'GET' | 'POST', url: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: o.timeoutMs, ...(o.signal ? { signal: o.signal } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(new LimiterHttpError(url, e.message, { cause: e })));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', (e) => reject(new LimiterHttpError(url, e.message, { cause: e })));
    req.end();
  });
}

/** A call whose answer must be 200 with JSON: the parsed body, else an error quoting the node. */
export async function callJson(method: 'GET' | 'POST', url: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<unknown> {
  const a = await call(method, url, o);
  if (a.status !== 200) throw new WardenError('RATELIMITER_REFUSED', `${method} ${url}: HTTP ${a.status}: ${a.text.trim().slice(0, 300)}`, { retryable: a.status >= 500 });
  try {
    return JSON.parse(a.text) as unknown;
  } catch (e) {
    throw new WardenError('RATELIMITER_BAD_ANSWER', `${method} ${url}: not JSON: ${a.text.slice(0, 100)}`, { cause: e });
  }
}
