// Reading the rate limiter: every interval each node is asked, in parallel and each call bounded,
// for its /admin/state (it answers: its pid), its /healthz (its own view of Redis: 200 only when
// Redis answers PING) and its /metrics. Two figures need more than one reading, so the reader keeps
// a little memory per subject: the check-duration histogram a few readings back (a p99 over the
// recent checks, not since the node started, so a latency fault that ended is seen to end), and
// the window each node reported last (nodes read a moment apart may straddle a window's edge; the
// window before is then still common to all of them).
import { z } from 'zod';
import type { SubjectSpec } from '../../domain/types.js';
import { errorText } from '../../lib/errors.js';
import { call, callJson } from './http.js';
import { p99Between, readMetrics, type NodeMetrics } from './metrics.js';

export interface LimiterParams {
  /** Node member → its base URL (http://127.0.0.1:8091). */
  nodes: Record<string, string>;
  /** The member that is the nodes' shared Redis. */
  redis: string;
  /** What the service must allow per key per window: more, summed over the nodes, is ghost allowing. */
  limit: number;
  windowMs: number;
  /** A node whose recent checks' p99 is over this is slow. */
  p99Ms: number;
  /** Requests by which a node's count of a key may differ from the others' (they are read ms apart). */
  driftTolerance: number;
}

/** One window's allows per key, as a node reported it. */
export interface WindowAllows { start: number; allowed: Record<string, number> }

/** When the node was asked (wall ms): what it said then says nothing of a process started since. */
interface Asked { askedAt: number }

export type NodeView = Asked & ({
    ok: true;
    pid: number;
    /** Its /healthz: whether it reaches Redis, and what it says. */
    healthz: { ok: boolean; text: string };
    metrics: NodeMetrics | null;
    metricsError?: string;
    /** The windows it reported in this reading and the one before, newest first. */
    windows: WindowAllows[];
    /** p99 of the checks it answered over the last few readings; null: too few checks to say. */
    latency: { lowMs: number; highMs: number; checks: number } | null;
  }
  | { ok: false; error: string });

/** What the rate-limiter subject reads each interval (World.subjects[name].facts). */
export interface LimiterFacts { nodes: Record<string, NodeView> }

/** At least this many checks before a p99 says anything. */
export const MIN_CHECKS_FOR_P99 = 20;
/** The p99 covers the checks of about this long (and of at least two readings). */
const LATENCY_SPAN_MS = 2000;

interface NodeMemory { pid: number; histograms: [number, number][][]; windows: WindowAllows[] }

/** Subject name → node → what earlier readings saw. */
const memory = new Map<string, Map<string, NodeMemory>>();

const stateAnswer = z.object({ pid: z.number().int() });

export async function readLimiter(spec: SubjectSpec, o: { signal: AbortSignal; timeoutMs: number }): Promise<LimiterFacts> {
  const p = spec.params as unknown as LimiterParams;
  let mem = memory.get(spec.name);
  if (!mem) memory.set(spec.name, mem = new Map());
  const keep = Math.max(2, Math.ceil(LATENCY_SPAN_MS / spec.intervalMs) + 1);
  const nodes: Record<string, NodeView> = {};
  await Promise.all(Object.entries(p.nodes).map(async ([node, url]) => {
    nodes[node] = await readNode(url, { signal: o.signal, timeoutMs: Math.max(100, o.timeoutMs - 50) }, mem, node, keep);
  }));
  for (const n of mem.keys()) if (!(n in p.nodes)) mem.delete(n);
  return { nodes };
}

async function readNode(url: string, o: { signal: AbortSignal; timeoutMs: number }, mem: Map<string, NodeMemory>, node: string, keep: number): Promise<NodeView> {
  const askedAt = Date.now();
  const [state, healthz, metrics] = await Promise.allSettled([
    callJson('GET', `${url}/admin/state`, o), call('GET', `${url}/healthz`, o), call('GET', `${url}/metrics`, o),
  ]);
  if (state.status === 'rejected') return { askedAt, ok: false, error: errorText(state.reason) };
  const st = stateAnswer.safeParse(state.value);
  if (!st.success) return { askedAt, ok: false, error: `${url}/admin/state: no pid in its answer` };
  const m = metrics.status === 'fulfilled'
    ? metrics.value.status === 200 ? readMetrics(metrics.value.text) : `HTTP ${metrics.value.status}`
    : errorText(metrics.reason);
  // A new process starts its counters afresh: what the old one reported says nothing of it.
  let prev = mem.get(node);
  if (prev?.pid !== st.data.pid) mem.set(node, prev = { pid: st.data.pid, histograms: [], windows: [] });
  const view: Extract<NodeView, { ok: true }> = {
    askedAt,
    ok: true,
    pid: st.data.pid,
    healthz: healthz.status === 'fulfilled'
      ? { ok: healthz.value.status === 200, text: healthz.value.text.trim() }
      : { ok: false, text: errorText(healthz.reason) },
    metrics: typeof m === 'string' ? null : m,
    ...(typeof m === 'string' ? { metricsError: m } : {}),
    windows: [],
    latency: null,
  };
  if (view.metrics) {
    const w = view.metrics.window;
    prev.windows = [w, ...prev.windows.filter((x) => x.start !== w.start)].slice(0, 2);
    view.windows = prev.windows;
    view.latency = p99Between(prev.histograms[0] ?? null, view.metrics.buckets, MIN_CHECKS_FOR_P99);
    prev.histograms.push(view.metrics.buckets);
    if (prev.histograms.length > keep) prev.histograms.shift();
    // The figures the invariants read are above; the raw histogram stays here.
    view.metrics = { ...view.metrics, buckets: [] };
  }
  return view;
}
