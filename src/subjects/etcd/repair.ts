// The etcd subject's repair rule: the next step from the cluster as the last reading and Warden's
// own checks show it, one step at a time, never one that leaves fewer voters than before. A member
// that is down is started (a start adds a voter and takes none away), one at a time; a member cut
// off by the network is waited for (a restart would not mend a link); NOSPACE is undone by
// compacting and defragmenting each member whose backend is full, then disarming the alarm.
import { startMissingFirst, type InvariantContext, type SubjectRepair, type Verdict } from '../../domain/subject.js';
import { FULL_RATIO } from './actions.js';
import { answering, factsOf, silent, type EtcdFacts } from './facts.js';

type Next = { step: SubjectRepair } | { wait: string } | { none: string };

export function repair(verdicts: readonly Verdict[], ctx: InvariantContext): Next {
  const f = factsOf(ctx);
  const first = startMissingFirst(ctx.spec.members, ctx);
  if (first) return first;
  const cut = verdicts.find((v) => v.invariant === 'partition')?.violation.blame ?? [];
  if (cut.length > 0) {
    return { wait: `${cut.join(', ')} ${cut.length > 1 ? 'run' : 'runs'} but cannot be reached: waiting for the network to return; a restart would not mend a link, and could cost the quorum` };
  }
  if (f && verdicts.some((v) => v.invariant === 'no-nospace')) return spaceStep(f, ctx);
  // Warden's check and the last reading disagree on a member (one has seen it go, the other not
  // yet): the next of each says which it is (cut off, hung), and the repair waits rather than guess.
  const unsure = ctx.spec.members.filter((m) => f?.members[m] !== undefined && (ctx.health[m]?.health === 'unhealthy') === f.members[m]!.ok);
  if (unsure.length > 0) return { wait: `Warden's checks and the last reading disagree on ${unsure.join(', ')}: waiting for the next of each` };
  const silentRunning = f ? silent(f) : [];
  if (silentRunning.length > 0) {
    // Stopped (SIGSTOP, a debugger): alive only in name. A restart of a member that does not answer
    // takes no voter away (the guard asks the cluster again before it runs).
    const stopped = silentRunning.find((m) => ctx.world.services[m]?.process.procState === 'T');
    if (stopped !== undefined) return { step: { type: 'restart', target: stopped, params: {} } };
    // Anything else (a disk wait in D, a reading and a check not yet agreed): nothing to tell a
    // partition from a hang yet, and a restart of a running member could cost the quorum.
    return { wait: `${silentRunning.join(', ')} ${silentRunning.length > 1 ? 'run' : 'runs'} but ${silentRunning.length > 1 ? 'do' : 'does'} not answer: waiting for the next reading and check to tell a partition from a hang` };
  }
  // Every member answers and the quorum holds, yet no agreed leader: an election under way (a
  // member back from a partition, with a higher term, makes the leader step down). etcd ends it
  // by itself within its election timeout.
  if (verdicts[0]?.invariant === 'one-leader' && f !== null && silent(f).length === 0) {
    return { wait: `${verdicts[0].violation.reason}: an election is under way; etcd elects a leader by itself` };
  }
  return { none: 'the cluster disagrees with itself while every member runs; a person must look' };
}

/**
 * NOSPACE, one step at a time: compact the history and defragment the first member (compaction is
 * cluster-wide), then defragment each member whose backend file is still full, then disarm. Read
 * from the quotas and sizes the reading takes while an alarm is raised.
 */
function spaceStep(f: EtcdFacts, ctx: InvariantContext): Next {
  // In config order, so the steps go member by member in an order people can follow.
  const byName = new Map(answering(f));
  const views = ctx.spec.members.flatMap((m) => {
    const v = byName.get(m);
    return v?.dbSize !== undefined && f.space?.[m] !== undefined ? [[m, v] as const] : [];
  });
  const head = views[0];
  if (head === undefined) return { wait: 'NOSPACE: reading the members\' quotas and backend sizes' };
  const revision = Math.max(...views.map(([, v]) => v.revision ?? 0));
  const compacted = Math.max(...views.map(([m]) => f.space![m]!.compactRevision));
  const step = (type: SubjectRepair['type'], target: string, params: Record<string, string>): Next => ({ step: { type, target, params } });
  if (compacted < revision) return step('etcd.defragment', head[0], { compact: 'true' });
  const full = views.find(([m, v]) => v.dbSize! >= FULL_RATIO * f.space![m]!.quotaBytes);
  if (full) return step('etcd.defragment', full[0], { compact: 'false' });
  const out = ctx.spec.members.filter((m) => !views.some(([x]) => x === m));
  if (out.length > 0) return { wait: `NOSPACE: ${out.join(', ')} must answer before the alarm is disarmed (their backends may be full too)` };
  return step('etcd.disarm', head[0], { alarm: 'NOSPACE' });
}
