// The rate limiter's own actions, on one node (the action's target), through its admin endpoints.
// Parameters arrive as strings (a repair step's params) and are validated by each action's schema
// before anything is sent. Restarting a node is the kernel's `restart`.
//
// flush and set-limit change what a node decides from now on, but its metrics describe the last
// complete window: so they complete only once the node reports a window decided wholly after the
// change, and the reading that verifies the repair is about the repaired node, not the old one.
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { ActionContext } from '../../actions/catalog.js';
import { WardenError } from '../../lib/errors.js';
import { actionParams, defineSubjectAction, rerunnable } from '../subject.js';
import { call, callJson } from './http.js';
import { readMetrics } from './metrics.js';
import type { LimiterParams } from './read.js';

const CALL_TIMEOUT_MS = 2000;

/** The target node's base URL, from its subject's params; an action outside a limiter fails. */
function nodeUrl(ctx: ActionContext): { url: string; params: LimiterParams } {
  const params = ctx.subject?.params as unknown as LimiterParams | undefined;
  const url = params?.nodes?.[ctx.spec.name];
  if (url === undefined) throw new WardenError('ACTION_BAD_TARGET', `${ctx.spec.name} is not a node of a ratelimiter subject (no URL under its nodes:)`);
  return { url, params: params! };
}

/** The start of the last complete window the node reports now. */
async function windowStart(url: string, signal: AbortSignal): Promise<number> {
  const a = await call('GET', `${url}/metrics`, { timeoutMs: CALL_TIMEOUT_MS, signal });
  const m = a.status === 200 ? readMetrics(a.text) : `HTTP ${a.status}`;
  if (typeof m === 'string') throw new WardenError('RATELIMITER_BAD_ANSWER', `${url}/metrics: ${m}`, { retryable: true });
  return m.window.start;
}

/**
 * Runs `change`, then waits until the node's last complete window began after it. A change made
 * when the reported window started at s0 falls in a window starting at most at s0 + 2w; the next
 * one, wholly after it, starts at most at s0 + 3w.
 */
async function changeAndSettle(url: string, windowMs: number, signal: AbortSignal, change: () => Promise<string>): Promise<string> {
  const before = await windowStart(url, signal);
  const detail = await change();
  const after = before + 3 * windowMs;
  while (await windowStart(url, signal) < after) await delay(Math.min(100, windowMs / 5), undefined, { signal });
  return `${detail}; the node reports a window decided after it`;
}

const none = z.strictObject({});
const limitParams = z.strictObject({ limit: z.string().regex(/^[1-9]\d{0,8}$/, 'a positive whole number, e.g. "10"').transform(Number) });
const keyParams = z.strictObject({ key: z.string().min(1).max(512) });

const settleTimeout = (ctx: ActionContext): number => 4 * ((ctx.subject?.params as unknown as LimiterParams | undefined)?.windowMs ?? 1000) + 3 * CALL_TIMEOUT_MS;

export const flush = defineSubjectAction({
  name: 'flush',
  tier: 'repair-service',
  description: "writes a node's unsynced allows back to Redis, drops its local cache and ends its staleness (POST /admin/flush)",
  config: none,
  compile: (p) => p,
  prerequisites: [],
  kind: {
    async run(ctx, signal) {
      actionParams(none, ctx);
      const { url, params } = nodeUrl(ctx);
      return changeAndSettle(url, params.windowMs, signal, async () => {
        const r = z.object({ flushed: z.number(), syncedAllows: z.number(), lostAllows: z.number() }).parse(await callJson('POST', `${url}/admin/flush`, { timeoutMs: CALL_TIMEOUT_MS, signal }));
        return `flushed ${r.flushed} cache entries, ${r.syncedAllows} allows written back${r.lostAllows > 0 ? `, ${r.lostAllows} lost (Redis did not take them)` : ''}`;
      });
    },
    // Flushing twice is flushing once: the second finds nothing to write back.
    resume: rerunnable('a flush may run again safely'),
    timeoutMs: settleTimeout,
  },
});

export const setLimit = defineSubjectAction({
  name: 'set-limit',
  tier: 'repair-cluster',
  description: "sets a node's limit per key per window (POST /admin/limit; params: limit)",
  config: limitParams,
  compile: (p) => p,
  prerequisites: [],
  kind: {
    async run(ctx, signal) {
      const { limit } = actionParams(limitParams, ctx);
      const { url, params } = nodeUrl(ctx);
      return changeAndSettle(url, params.windowMs, signal, async () => {
        const r = z.object({ limit: z.number(), previous: z.number() }).parse(await callJson('POST', `${url}/admin/limit?value=${limit}`, { timeoutMs: CALL_TIMEOUT_MS, signal }));
        return `limit ${r.previous} → ${r.limit}`;
      });
    },
    // Setting the same limit again changes nothing.
    resume: rerunnable('setting the limit again is harmless'),
    timeoutMs: settleTimeout,
  },
});

export const resetCounter = defineSubjectAction({
  name: 'reset-counter',
  tier: 'repair-service',
  description: "empties one key's window in Redis and every node's cached state for it (POST /admin/reset on each node; params: key)",
  config: keyParams,
  compile: (p) => p,
  prerequisites: [],
  kind: {
    async run(ctx, signal) {
      const { key } = actionParams(keyParams, ctx);
      const { url, params } = nodeUrl(ctx);
      // The target first (it empties Redis's window), then the other nodes' cached denials.
      const urls = [url, ...Object.values(params.nodes).filter((u) => u !== url)];
      let removed = false;
      for (const u of urls) {
        const r = z.object({ removed: z.boolean() }).parse(await callJson('POST', `${u}/admin/reset?key=${encodeURIComponent(key)}`, { timeoutMs: CALL_TIMEOUT_MS, signal }));
        removed ||= r.removed;
      }
      return `${key}: window ${removed ? 'emptied' : 'was already empty'} on ${urls.length} nodes`;
    },
    // A second reset would also drop the allows made since the first: more let through. Not re-run.
    resume: () => ({ outcome: 'unknown', detail: 'interrupted; a reset run twice would let more through, so it is not run again' }),
    timeoutMs: (ctx) => CALL_TIMEOUT_MS * (Object.keys((ctx.subject?.params as unknown as LimiterParams | undefined)?.nodes ?? {}).length + 1),
  },
});
