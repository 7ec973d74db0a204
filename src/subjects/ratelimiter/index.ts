// Subject plugin `ratelimiter`: nodes that share one Redis and together must allow at most `limit`
// requests per key per window (the lab's service, docs/subjects-ratelimiter-lab.md). Each node is
// read every interval (read.ts); the invariants (invariants.ts) say, gravest first, whether Redis
// is reachable, every node up, the nodes fast enough, their counters in agreement, and the limit
// kept; the actions (actions.ts) flush a node, set its limit, reset a key's counter.
import { z } from 'zod';
import { duration } from '../../config/fields.js';
import { parseDuration } from '../../lib/duration.js';
import { defineSubject } from '../subject.js';
import { flush, resetCounter, setLimit } from './actions.js';
import { drift, ghostAllowing, latency, nodesUp, redisReachable, repair } from './invariants.js';
import { readLimiter, type LimiterParams } from './read.js';

export type { LimiterFacts, LimiterParams, NodeView } from './read.js';

export default defineSubject({
  name: 'ratelimiter',
  description: 'rate-limiter nodes sharing a Redis: Redis reachable, nodes up, p99 under a bound, no counter drift, no ghost allowing',
  config: z.strictObject({
    nodes: z.record(z.string(), z.url()).meta({ description: 'Each node member and its base URL, e.g. { n1: "http://127.0.0.1:8091" }.' }),
    redis: z.string().min(1).meta({ description: 'The member that is the shared Redis.' }),
    limit: z.int().min(1).meta({ description: 'Requests the service allows per key per window, all nodes together.' }),
    window: duration({ positive: true }).default('1s').meta({ description: 'The window the limit is per.' }),
    p99: duration({ positive: true }).default('250ms').meta({ description: "A node whose recent checks' p99 is over this is slow." }),
    driftTolerance: z.int().min(0).default(2).meta({ description: "Requests by which a node's count of a key may differ from the others' (they are read a few ms apart)." }),
  }),
  compile: (c): LimiterParams => ({
    nodes: { ...c.nodes }, redis: c.redis, limit: c.limit, windowMs: parseDuration(c.window), p99Ms: parseDuration(c.p99), driftTolerance: c.driftTolerance,
  }),
  prerequisites: [],
  invariants: [
    { id: 'redis-reachable', cause: 'dependency_down', description: 'every node reaches Redis', check: redisReachable },
    { id: 'nodes-up', cause: 'process_exited', description: 'every node runs and answers', check: nodesUp },
    { id: 'p99', cause: 'performance_degraded', description: "each node's recent checks have a p99 under the bound", check: latency },
    { id: 'drift', cause: 'data_inconsistency', description: 'no node holds allows Redis has not seen, and the nodes agree on each key’s count', check: drift },
    { id: 'ghost-allowing', cause: 'data_inconsistency', description: 'the nodes together allow at most the limit per key per window', check: ghostAllowing },
  ],
  repair,
  observe: readLimiter,
  actions: { flush, 'set-limit': setLimit, 'reset-counter': resetCounter },
});
