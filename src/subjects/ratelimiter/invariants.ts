// The rate limiter's invariants, judged purely on the last reading (read.ts) and the members'
// health, and its repair rule. Gravest first: without Redis nothing else can be judged, a node
// down serves nobody, a slow node still decides right, and drift comes before ghost allowing
// because a node whose counts drift is what lets the nodes together allow more than the limit.
import type { InvariantContext, Verdict, Violation, SubjectRepair } from '../../domain/subject.js';
import { startMissingFirst } from '../../domain/subject.js';
import type { SubjectFacts } from '../../domain/types.js';
import type { LimiterFacts, LimiterParams, NodeView } from './read.js';

type Answering = Extract<NodeView, { ok: true }>;

const paramsOf = (ctx: InvariantContext): LimiterParams => ctx.spec.params as unknown as LimiterParams;

function factsOf(ctx: InvariantContext): LimiterFacts | null {
  const read: SubjectFacts | undefined = ctx.world.subjects?.[ctx.spec.name];
  return read && 'facts' in read ? (read.facts as LimiterFacts) : null;
}

/** Whether the node was asked after member m's process started: what it said before says nothing of m. */
function askedSince(ctx: InvariantContext, view: NodeView, m: string): boolean {
  const started = ctx.world.services[m]?.process.startedAt;
  return started == null || view.askedAt >= started;
}

const isDown = (ctx: InvariantContext, m: string): boolean => ctx.health[m]?.health === 'missing' || ctx.health[m]?.health === 'unhealthy';

/** The nodes that answered, in a reading taken since each started. */
function answering(ctx: InvariantContext): [string, Answering][] {
  const f = factsOf(ctx);
  if (!f) return [];
  return Object.entries(f.nodes).filter((e): e is [string, Answering] => e[1].ok && askedSince(ctx, e[1], e[0]));
}

const names = (xs: readonly [string, unknown][]): string[] => xs.map(([n]) => n);

/**
 * Redis reachable from the nodes (`dependency_down`). Redis down, or running while no node reaches
 * it, is Redis's problem: blamed, and named as the root. Some nodes cut off while others reach it
 * is those nodes' path to Redis, which a restart of Redis would not mend.
 */
export function redisReachable(ctx: InvariantContext): Violation | null {
  const { redis } = paramsOf(ctx);
  const views = answering(ctx);
  // What a node said before Redis (re)started says nothing of the Redis there is now.
  const cannot = views.filter(([, v]) => !v.healthz.ok && askedSince(ctx, v, redis));
  const said = cannot.map(([n, v]) => `${n}: ${v.healthz.text}`).join('; ');
  if (isDown(ctx, redis)) {
    return { reason: `Redis (${redis}) is down: ${ctx.health[redis]!.reason}${said ? `; ${said}` : ''}`, blame: [redis, ...names(cannot)], root: redis };
  }
  if (cannot.length === 0) return null;
  if (cannot.length === views.length) {
    return { reason: `no node reaches Redis (${redis}) though its process runs: ${said}`, blame: [redis, ...names(cannot)], root: redis };
  }
  const can = views.filter(([, v]) => v.healthz.ok);
  return { reason: `${names(cannot).join(', ')} cannot reach Redis while ${names(can).join(', ')} can: ${said}`, blame: names(cannot) };
}

/** Every node up (`process_exited`): its process runs, and it answers (a hung node does not). */
export function nodesUp(ctx: InvariantContext): Violation | null {
  const f = factsOf(ctx);
  const p = paramsOf(ctx);
  const why: string[] = [];
  const blame: string[] = [];
  for (const n of Object.keys(p.nodes)) {
    const view = f?.nodes[n];
    // Its own checks failing and silent when asked: down (hung, or not listening). Failing while it
    // answers is another invariant's (its /healthz fails when Redis does); silent while its checks
    // pass was a moment (asked as it started, before it listened).
    const silent = view?.ok === false && askedSince(ctx, view, n) && ctx.health[n]?.health === 'unhealthy';
    if (ctx.health[n]?.health === 'missing') why.push(`${n}: ${ctx.health[n].reason}`);
    else if (silent) why.push(`${n} does not answer: ${view.error}`);
    else continue;
    blame.push(n);
  }
  return blame.length === 0 ? null : { reason: why.join('; '), blame };
}

/** p99 of each node's recent checks under the bound (`performance_degraded`). */
export function latency(ctx: InvariantContext): Violation | null {
  const { p99Ms } = paramsOf(ctx);
  // Only a p99 certainly over the bound counts: its whole bucket lies above it.
  const slow = answering(ctx).filter(([, v]) => v.latency !== null && v.latency.lowMs >= p99Ms);
  if (slow.length === 0) return null;
  const shown = slow.map(([n, v]) => `${n} ${fmt(v.latency!.lowMs)}–${fmt(v.latency!.highMs)} ms over ${v.latency!.checks} checks`);
  return { reason: `p99 over ${p99Ms} ms: ${shown.join(', ')}`, blame: names(slow), value: Math.max(...slow.map(([, v]) => v.latency!.lowMs)) };
}

/**
 * No counter drift (`data_inconsistency`). A node drifts when it holds allows Redis has not seen
 * (`ratelimiter_unsynced_allows` above 0: exact, a node that asks Redis holds none), or when its
 * count of a key's window differs from the median of the nodes' counts by more than
 * `driftTolerance` (healthy nodes all read Redis; they are read a few ms apart). The value is the
 * largest drift in requests.
 */
export function drift(ctx: InvariantContext): Violation | null {
  const { driftTolerance } = paramsOf(ctx);
  const views = answering(ctx).filter(([, v]) => v.metrics !== null);
  const keys = new Set(views.flatMap(([, v]) => Object.keys(v.metrics!.counts)));
  const medians = new Map<string, number>();
  for (const k of keys) {
    const counts = views.map(([, v]) => v.metrics!.counts[k]).filter((c): c is number => c !== undefined);
    if (counts.length >= 2) medians.set(k, median(counts));
  }
  const out: { node: string; size: number; why: string }[] = [];
  for (const [n, v] of views) {
    const m = v.metrics!;
    const why: string[] = [];
    if (m.unsynced > 0) why.push(`holds ${m.unsynced} allows Redis has not seen`);
    let worst = 0;
    for (const [k, med] of medians) {
      const c = m.counts[k];
      if (c === undefined || Math.abs(c - med) <= driftTolerance) continue;
      why.push(`counts ${c} in ${k}'s window where the nodes' median is ${med}`);
      worst = Math.max(worst, Math.abs(c - med));
    }
    if (why.length > 0) out.push({ node: n, size: Math.max(m.unsynced, worst), why: `${n} ${why.join(', ')}` });
  }
  if (out.length === 0) return null;
  return { reason: `counters drift: ${out.map((o) => o.why).join('; ')}`, blame: out.map((o) => o.node), value: Math.max(...out.map((o) => o.size)) };
}

/**
 * No ghost allowing (`data_inconsistency`): in the newest window every answering node reported,
 * the allows the nodes made for each key, summed, are at most the limit. Windows are aligned to
 * the epoch and each decision is placed by its own time, so the sum is exact. The value is the
 * excess: the allows beyond the limit, summed over keys. Blamed: the nodes that enforce more than
 * the subject's limit (a higher limit, a shorter window) or hold allows Redis has not seen.
 */
export function ghostAllowing(ctx: InvariantContext): Violation | null {
  const p = paramsOf(ctx);
  const views = answering(ctx).filter(([, v]) => v.metrics !== null);
  if (views.length === 0) return null;
  const start = Math.max(...views[0]![1].windows.map((w) => w.start).filter((s) => views.every(([, v]) => v.windows.some((w) => w.start === s))));
  if (!Number.isFinite(start)) return null;
  const byKey = new Map<string, { node: string; n: number }[]>();
  for (const [n, v] of views) {
    for (const [k, allowed] of Object.entries(v.windows.find((w) => w.start === start)!.allowed)) {
      if (allowed > 0) byKey.set(k, [...(byKey.get(k) ?? []), { node: n, n: allowed }]);
    }
  }
  const over = [...byKey].map(([k, xs]) => ({ k, xs, sum: xs.reduce((a, x) => a + x.n, 0) })).filter((o) => o.sum > p.limit);
  if (over.length === 0) return null;
  const excess = over.reduce((a, o) => a + o.sum - p.limit, 0);
  const culprits = views.filter(([, v]) => enforcesMore(p, v) || v.metrics!.unsynced > 0);
  const perKey = over.map((o) => `${o.k} ${o.sum} (${o.xs.map((x) => `${x.node} ${x.n}`).join(', ')})`).join(', ');
  const why = culprits.map(([n, v]) => enforcesMore(p, v) ? `${n} enforces ${v.metrics!.limit} per ${v.metrics!.windowMs} ms` : `${n} holds ${v.metrics!.unsynced} unsynced allows`);
  return {
    reason: `ghost allowing: ${excess} allowed beyond the limit of ${p.limit} per ${p.windowMs} ms in the window from ${new Date(start).toISOString()}: ${perKey}${why.length > 0 ? `; ${why.join(', ')}` : ''}`,
    blame: names(culprits),
    value: excess,
  };
}

/** A node that lets more through than the subject's limit and window say. */
const enforcesMore = (p: LimiterParams, v: Answering): boolean => v.metrics !== null && (v.metrics.limit > p.limit || v.metrics.windowMs < p.windowMs);

/**
 * The next step for the gravest broken invariant. Redis down: restart Redis only; the nodes
 * reconnect by themselves and a restart of theirs would only drop their checks in flight. A node
 * down: start (or restart) it. One slow node among fast ones: restart it (its state is in Redis).
 * Drift: flush the drifting node, which writes its allows back and asks Redis again. Ghost
 * allowing: set the limit back on a node that enforces more, or flush one that holds unsynced allows.
 */
export function repair(verdicts: readonly Verdict[], ctx: InvariantContext): { step: SubjectRepair } | { wait: string } | { none: string } {
  const p = paramsOf(ctx);
  const v = verdicts[0]!;
  const blamed = v.violation.blame;
  switch (v.invariant) {
    case 'redis-reachable':
      if (v.violation.root !== p.redis) return { none: `${blamed.join(', ')} cannot reach Redis while the other nodes can: their network path or their Redis address is wrong; restarting Redis would cut the others off too` };
      return startMissingFirst([p.redis], ctx) ?? { step: { type: 'restart', target: p.redis, params: {} } };
    case 'nodes-up':
      return startMissingFirst(blamed, ctx) ?? { step: { type: 'restart', target: blamed[0]!, params: {} } };
    case 'p99': {
      const fast = answering(ctx).filter(([n]) => !blamed.includes(n));
      if (fast.length === 0) return { none: 'every node is slow: Redis or the host is the bottleneck, which restarting a node does not mend' };
      return { step: { type: 'restart', target: blamed[0]!, params: {} } };
    }
    case 'drift':
      return { step: { type: 'ratelimiter.flush', target: blamed[0]!, params: {} } };
    case 'ghost-allowing': {
      const views = new Map(answering(ctx));
      const wrong = blamed.find((n) => { const x = views.get(n); return x !== undefined && enforcesMore(p, x); });
      if (wrong !== undefined) return { step: { type: 'ratelimiter.set-limit', target: wrong, params: { limit: String(p.limit) } } };
      if (blamed[0] !== undefined) return { step: { type: 'ratelimiter.flush', target: blamed[0], params: {} } };
      return { none: 'the nodes together allowed more than the limit, yet every node enforces the limit and holds no unsynced allows: a person must look (a node clock far off, a change of the Lua script)' };
    }
    default:
      return { none: `no repair for ${v.invariant}` };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const fmt = (ms: number): string => String(Math.round(ms * 10) / 10);
