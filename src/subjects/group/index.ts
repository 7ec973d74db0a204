// Subject plugin `group`: replicas of one thing (three Redis replicas, a pool of workers) that serve
// while enough of them are healthy. Its invariant is the quorum: at least `minHealthy` members healthy
// (a majority by default). While it holds, a member's failure is that member's own ticket, as for any
// service; once it is lost, the group is the problem — one ticket — and the repair restarts one
// missing member at a time, each verified before the next, never touching a healthy one.
import { z } from 'zod';
import { startMissingFirst, type InvariantContext } from '../../domain/subject.js';
import { defineSubject } from '../subject.js';

export interface GroupParams { minHealthy: number | null }

const isHealthy = (ctx: InvariantContext, m: string): boolean => ctx.health[m]?.health === 'healthy';

/** The members needed: the configured minimum, or a majority. */
export function needed(ctx: Pick<InvariantContext, 'spec'>): number {
  const p = ctx.spec.params as unknown as GroupParams;
  return p.minHealthy ?? Math.floor(ctx.spec.members.length / 2) + 1;
}

export default defineSubject({
  name: 'group',
  description: 'replicas that serve while enough of them are healthy (quorum: minHealthy, default a majority)',
  config: z.strictObject({
    minHealthy: z.int().min(1).optional().meta({ description: 'Members that must be healthy; default a majority of members.' }),
  }),
  compile: (c): GroupParams => ({ minHealthy: c.minHealthy ?? null }),
  prerequisites: [],
  invariants: [
    {
      id: 'quorum',
      cause: 'quorum_lost',
      description: 'at least minHealthy members healthy (default a majority)',
      check(ctx) {
        // Only healthy members serve: one starting (its first checks pending) is not there yet. But
        // members only starting (a deploy, a repair under way) are no new problem: one must be down.
        const healthy = ctx.spec.members.filter((m) => isHealthy(ctx, m)).length;
        const need = needed(ctx);
        const down = ctx.spec.members.some((m) => ctx.health[m]?.health === 'missing' || ctx.health[m]?.health === 'unhealthy');
        if (healthy >= need || !down) return null;
        const out = ctx.spec.members.filter((m) => !isHealthy(ctx, m));
        return { reason: `${healthy} of ${ctx.spec.members.length} members healthy, ${need} needed (${out.map((m) => `${m} ${ctx.health[m]?.health ?? 'unknown'}`).join(', ')})`, blame: out, value: healthy };
      },
    },
  ],
  // Blast radius: a healthy member is not taken down (restarted or stopped) when the healthy ones
  // left would be fewer than needed — never 2 of 3 replicas at once, never the last healthy one.
  async guard(ctx) {
    const { subject, action } = ctx;
    if (action.type !== 'restart' && action.type !== 'stop') return null;
    if (ctx.health(action.target) !== 'healthy') return null;
    const need = needed({ spec: subject });
    const left = subject.members.filter((m) => m !== action.target && ctx.health(m) === 'healthy');
    if (left.length >= need) return null;
    return `${action.target} is healthy and taking it down would leave ${left.length} of ${subject.members.length} members healthy, ${need} needed`;
  },
  repair(verdicts, ctx) {
    const down = verdicts.flatMap((v) => v.violation.blame);
    // A running but unhealthy member is restarted only when none is missing or starting.
    const first = startMissingFirst(down, ctx);
    if (first) return first;
    if (down[0] !== undefined) return { step: { type: 'restart', target: down[0], params: {} } };
    return { none: 'no member is blamed; a person must look' };
  },
});
