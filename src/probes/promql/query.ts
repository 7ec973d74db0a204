// One instant query against Prometheus's HTTP API (GET /api/v1/query), bounded in time and in
// the size of the answer, read into samples. Every failure is an Error whose message says what
// Prometheus (or the network) said, for the check's message.
import { WardenError } from '../../lib/errors.js';

/** One sample of an instant vector: its series' labels and its value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** A larger answer is refused rather than read: an expr that selects that much is a mistake. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/** A query that did not give samples; retryable: Prometheus may answer next time. */
export class PromqlError extends WardenError {
  constructor(message: string, readonly timedOut = false, cause?: unknown) {
    super(timedOut ? 'PROMQL_TIMEOUT' : 'PROMQL_QUERY', message, { retryable: true, cause });
  }
}

/** `up{instance="a:1",job="x"}`: the series as Prometheus prints it, labels sorted. */
export function seriesText(labels: Record<string, string>): string {
  const { __name__: name, ...rest } = labels;
  const pairs = Object.keys(rest).sort().map((k) => `${k}=${JSON.stringify(rest[k])}`);
  return `${name ?? ''}${pairs.length > 0 || name === undefined ? `{${pairs.join(',')}}` : ''}`;
}

/** Prometheus writes values as strings ("1", "NaN", "+Inf"). */
function numberOf(v: unknown): number {
  if (typeof v !== 'string') return NaN;
  if (/^[+-]?Inf$/.test(v)) return v.startsWith('-') ? -Infinity : Infinity;
  return Number(v);
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The samples of a successful answer's `data`; a range vector or a string is an error. */
export function samplesOf(data: unknown): Sample[] {
  if (!isObj(data)) throw new PromqlError('Prometheus answered without data');
  const { resultType, result } = data;
  // A scalar counts as one sample with no labels, as Prometheus's own rule evaluation reads it.
  if (resultType === 'scalar' && Array.isArray(result)) return [{ labels: {}, value: numberOf(result[1]) }];
  if (resultType !== 'vector') {
    throw new PromqlError(`expr gives a ${String(resultType)}, not an instant vector: write an expression such as rate(x[5m]) > 1, not x[5m]`);
  }
  if (!Array.isArray(result)) throw new PromqlError('Prometheus answered a vector without a result list');
  return result.filter(isObj).map((s) => ({
    labels: isObj(s.metric) ? Object.fromEntries(Object.entries(s.metric).map(([k, v]) => [k, String(v)])) : {},
    value: Array.isArray(s.value) ? numberOf(s.value[1]) : NaN,
  }));
}

/** The answer's body, refusing to read past MAX_ANSWER_BYTES. */
async function bodyOf(res: Response): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new PromqlError(`Prometheus's answer is over ${MAX_ANSWER_BYTES / 1024 / 1024} MiB: make expr select fewer series (aggregate with sum by or count)`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The API endpoint under a base URL, which may carry a path prefix (a reverse proxy's). */
export function queryUrl(base: string, expr: string): URL {
  const url = new URL(`${base.replace(/\/+$/, '')}/api/v1/query`);
  url.searchParams.set('query', expr);
  return url;
}

/** Evaluates `expr` now; rejects with a PromqlError that says why it could not. */
export async function instantQuery(base: string, expr: string, timeoutMs: number): Promise<Sample[]> {
  const url = queryUrl(base, expr);
  // Prometheus stops evaluating at its own `timeout` parameter too, so a slow query ends there.
  url.searchParams.set('timeout', `${Math.max(1, timeoutMs)}ms`);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    text = await bodyOf(res);
  } catch (err) {
    if (err instanceof PromqlError) throw err;
    if (err instanceof Error && err.name === 'TimeoutError') throw new PromqlError(`timed out after ${timeoutMs} ms`, true);
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    // The cause stays attached: out of descriptors (EMFILE) is Warden's problem, not Prometheus's.
    throw new PromqlError(`cannot query Prometheus at ${base}: ${err instanceof Error ? err.message : String(err)}${cause}`, false, err);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PromqlError(`Prometheus at ${base} answered HTTP ${res.status} that is not JSON (is it Prometheus?): ${text.slice(0, 80)}`);
  }
  if (!isObj(body) || body.status !== 'success') {
    const b = isObj(body) ? body : {};
    throw new PromqlError(`Prometheus answered HTTP ${res.status}: ${String(b.errorType ?? 'error')}: ${String(b.error ?? 'no reason given')}`);
  }
  return samplesOf(body.data);
}
