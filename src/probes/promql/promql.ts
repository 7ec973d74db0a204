// PromQL probe, alert-style: `expr` selects the bad condition, as in a Prometheus alerting rule.
// The check fails while some series of the answer has been there for `for` (at once without one)
// and passes while the answer is empty or every series in it is still pending. Pending time runs
// on the monotonic clock, per series, in this Warden process.
import type { ProbeResult } from '../../domain/types.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { formatDuration } from '../../lib/duration.js';
import { errorResult, fail, ok, since } from '../result.js';
import { instantQuery, PromqlError, seriesText, type Sample } from './query.js';

export type PromqlProbeSpec = {
  type: 'promql';
  /** Prometheus's base URL, e.g. http://127.0.0.1:9090. */
  url: string;
  expr: string;
  /** How long a series must stay in the answer before the check fails; 0: at once. */
  forMs: number;
};

/** Series shown in a message and kept in the value: enough to see what fired, bounded. */
export const MAX_SHOWN = 10;

/** Per series (by seriesText), the monotonic time it was first seen in an unbroken run of answers. */
export type Pending = Map<string, number>;

/**
 * The next pending map after an answer at monotonic time `now`, pure: a series keeps its start
 * while it stays in the answer, starts now when it appears, and is forgotten when it leaves.
 * Returns which series fire (have been there `forMs` or longer).
 */
export function advance(prev: Pending, samples: Sample[], now: number, forMs: number): { next: Pending; firing: Set<string> } {
  const next: Pending = new Map();
  const firing = new Set<string>();
  for (const s of samples) {
    const key = seriesText(s.labels);
    const first = next.get(key) ?? prev.get(key) ?? now;
    next.set(key, first);
    if (now - first >= forMs) firing.add(key);
  }
  return { next, firing };
}

/** Prometheus's numbers as people read them; NaN and infinities as Prometheus prints them. */
function valueText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

function listed(samples: Sample[]): string {
  const shown = samples.slice(0, MAX_SHOWN).map((s) => `${seriesText(s.labels)} ${valueText(s.value)}`);
  const more = samples.length > MAX_SHOWN ? `, … (${samples.length} in all)` : '';
  return `${shown.join(', ')}${more}`;
}

/** The check's value: the first series and their values (non-finite ones as text). */
function valueOf(samples: Sample[]): Record<string, number | string> {
  return Object.fromEntries(samples.slice(0, MAX_SHOWN).map((s) => [seriesText(s.labels), Number.isFinite(s.value) ? s.value : valueText(s.value)]));
}

const plural = (n: number): string => `${n} series`;

/** What one answer means for the condition: whether it fires, in words, and the firing series. */
export interface Judged { firing: boolean; message: string; value: Record<string, number | string>; hot: Sample[] }

/**
 * Judges one answer at monotonic time `now` against the pending map (updated in place): pure but
 * for that map. Shared by the probe and by subjects' PromQL invariants, so both read alike.
 */
export function judge(forMs: number, samples: Sample[], pending: Pending, now: number): Judged {
  const { next, firing } = advance(pending, samples, now, forMs);
  pending.clear();
  for (const [k, v] of next) pending.set(k, v);
  if (samples.length === 0) return { firing: false, message: 'no series: the condition does not hold', value: {}, hot: [] };
  const value = valueOf(samples);
  const hot = samples.filter((s) => firing.has(seriesText(s.labels)));
  if (hot.length === 0) {
    return { firing: false, message: `pending (${plural(samples.length)} for less than ${formatDuration(forMs)}): ${listed(samples)}`, value, hot };
  }
  const held = forMs > 0 ? ` for ${formatDuration(forMs)} or more` : '';
  const rest = samples.length > hot.length ? `; ${samples.length - hot.length} more pending` : '';
  return { firing: true, message: `firing (${plural(hot.length)}${held}): ${listed(hot)}${rest}`, value, hot };
}

/**
 * One evaluation of the condition at a time of `clock`, for the check whose pending map is
 * `pending` (updated in place). A failed query leaves it as it was: Prometheus keeps an alert's
 * state across a failed evaluation too.
 */
export async function evaluate(spec: PromqlProbeSpec, timeoutMs: number, pending: Pending, clock: Clock): Promise<ProbeResult> {
  const start = performance.now();
  let samples: Sample[];
  try {
    samples = await instantQuery(spec.url, spec.expr, timeoutMs);
  } catch (err) {
    if (err instanceof PromqlError && err.timedOut) return { ok: false, message: `timed out after ${timeoutMs} ms`, latencyMs: since(start), timedOut: true };
    return errorResult(err, start);
  }
  const j = judge(spec.forMs, samples, pending, clock.mono());
  return { ...(j.firing ? fail(j.message, start) : ok(j.message, start)), value: j.value };
}

/**
 * Each check keeps its pending map by its compiled spec, which the check scheduler keeps for as
 * long as the check is unchanged; a changed or removed check starts over, as a reloaded
 * Prometheus rule does.
 */
const states = new WeakMap<PromqlProbeSpec, Pending>();

export function promql(spec: PromqlProbeSpec, timeoutMs: number, clock: Clock = systemClock): Promise<ProbeResult> {
  let pending = states.get(spec);
  if (pending === undefined) {
    pending = new Map();
    states.set(spec, pending);
  }
  return evaluate(spec, timeoutMs, pending, clock);
}
