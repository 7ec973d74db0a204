// What a rate-limiter node's /metrics says, read from the Prometheus text format into the few
// figures the invariants need (docs/subjects-ratelimiter-lab.md lists the metrics). Only the
// families named here are read; comments, other families and label order do not matter.

export interface NodeMetrics {
  /** Allows made from a stale local cache and not yet written to Redis (0 on a healthy node). */
  unsynced: number;
  /** The node's limit and window, as it enforces them now. */
  limit: number;
  windowMs: number;
  /** The last complete window the per-key allows describe: its start (ms since the epoch), and per key. */
  window: { start: number; allowed: Record<string, number> };
  /** Requests in each key's window now, as this node sees it (Redis's count on a healthy node). */
  counts: Record<string, number>;
  /** The check-duration histogram, cumulative since the node started: upper bound (s) → count. */
  buckets: [number, number][];
}

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Every sample line of the text: `name{a="b",...} value`. */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const v = m[3]!;
    out.push({ name: m[1]!, labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  }
  return out;
}

/** The node's figures, or why they cannot be read (a family missing: not a rate-limiter node). */
export function readMetrics(text: string): NodeMetrics | string {
  const all = parseSamples(text);
  const one = (name: string): number | undefined => all.find((s) => s.name === name)?.value;
  const perKey = (name: string): Record<string, number> =>
    Object.fromEntries(all.filter((s) => s.name === name && s.labels.key !== undefined).map((s) => [s.labels.key!, s.value]));
  const need = { unsynced: 'ratelimiter_unsynced_allows', limit: 'ratelimiter_limit', window: 'ratelimiter_window_seconds', start: 'ratelimiter_window_start_seconds' };
  const missing = Object.values(need).filter((n) => one(n) === undefined);
  if (missing.length > 0) return `no ${missing.join(', ')} in its /metrics`;
  const buckets = all.filter((s) => s.name === 'ratelimiter_check_duration_seconds_bucket' && s.labels.le !== undefined)
    .map((s): [number, number] => [s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value])
    .sort((a, b) => a[0] - b[0]);
  return {
    unsynced: one(need.unsynced)!,
    limit: one(need.limit)!,
    windowMs: Math.round(one(need.window)! * 1000),
    window: { start: Math.round(one(need.start)! * 1000), allowed: perKey('ratelimiter_allowed_in_window') },
    counts: perKey('ratelimiter_window_count'),
    buckets,
  };
}

/**
 * The 99th percentile of the checks counted between two snapshots of the histogram (`before` null:
 * since the node started), as the bucket it falls in: above `lowMs`, at most `highMs`. null when
 * fewer than `minChecks` were answered in between: too few to say.
 */
export function p99Between(before: [number, number][] | null, after: [number, number][], minChecks: number): { lowMs: number; highMs: number; checks: number } | null {
  const delta = after.map(([le, n]): [number, number] => [le, n - (before?.find((b) => b[0] === le)?.[1] ?? 0)]);
  const total = delta.at(-1)?.[1] ?? 0;
  if (total < minChecks) return null;
  let low = 0;
  for (const [le, n] of delta) {
    if (n >= 0.99 * total) return { lowMs: low * 1000, highMs: le * 1000, checks: total };
    low = le;
  }
  return null;
}
