// Subject plugin `etcd`: a cluster judged by what its members say, through etcd's own API. Each
// member service has a client URL; every `interval` each member is asked for its status (leader,
// raft term and index) and the cluster for its alarms. The invariants are over those answers, so
// the cause is named in the cluster's terms: quorum lost, no agreed leader, NOSPACE, a member that
// lags — never a member's process cause.
import { z } from 'zod';
import { startMissingFirst, type InvariantContext, type Violation } from '../../domain/subject.js';
import type { SubjectFacts } from '../../domain/types.js';
import { defineSubject } from '../subject.js';
import { duration } from '../../config/fields.js';
import { parseDuration } from '../../lib/duration.js';
import { etcdActions } from './actions.js';
import { EtcdClient, type AlarmType } from './client.js';
import { guard } from './guard.js';

export interface EtcdParams {
  /** Member service → its client URL (http://10.200.1.11:2379). */
  endpoints: Record<string, string>;
  /** A member this many raft entries behind the leader is lagging. */
  maxLag: number;
  /** A member this new may not answer yet (it listens before the cluster has formed). */
  joinMs: number;
}

/** One member's answer: its status, or why it gave none. */
export type MemberView =
  | { ok: true; id: string; leader: string | null; term: number; index: number; errors: string[] }
  | { ok: false; error: string };

/** What the etcd subject reads each interval (World.subjects[name].facts). */
export interface EtcdFacts {
  members: Record<string, MemberView>;
  /** Alarms as the first member that answered lists them (they are cluster-wide). */
  alarms: { memberId: string; alarm: AlarmType }[];
  /** etcd member id (hex) → member service, by client URL, as the member list says. */
  ids?: Record<string, string>;
}

const paramsOf = (ctx: InvariantContext): EtcdParams => ctx.spec.params as unknown as EtcdParams;

/** The last reading, when it has facts; null before the first or when it failed as a whole. */
function factsOf(ctx: InvariantContext): EtcdFacts | null {
  const read: SubjectFacts | undefined = ctx.world.subjects?.[ctx.spec.name];
  return read && 'facts' in read ? (read.facts as EtcdFacts) : null;
}

const answering = (f: EtcdFacts): [string, Extract<MemberView, { ok: true }>][] =>
  Object.entries(f.members).filter((e): e is [string, Extract<MemberView, { ok: true }>] => e[1].ok);

/** Members that did not answer, with why. */
const silent = (f: EtcdFacts): string[] => Object.entries(f.members).filter(([, v]) => !v.ok).map(([m]) => m);

/** A member starting (its first checks pending, or younger than joinMs: it listens before the
 *  cluster has formed): silence is expected, not a fault, for now. */
function starting(ctx: InvariantContext, m: string): boolean {
  if (ctx.health[m]?.health === 'unknown') return true;
  const started = ctx.world.services[m]?.process.startedAt;
  const at = ctx.world.subjects?.[ctx.spec.name]?.at;
  return started != null && at !== undefined && at - started < paramsOf(ctx).joinMs;
}
/** Whether the last reading was taken after member m's process started: an older one says nothing of it. */
function readSince(ctx: InvariantContext, m: string): boolean {
  const at = ctx.world.subjects?.[ctx.spec.name]?.at;
  const started = ctx.world.services[m]?.process.startedAt;
  return at !== undefined && (started == null || at >= started);
}
/** Members known to be down: their process is, or they do not answer (in a reading taken since they
 *  started) while not starting. */
const down = (ctx: InvariantContext, f: EtcdFacts | null, m: string): boolean =>
  ctx.health[m]?.health === 'missing' || ctx.health[m]?.health === 'unhealthy' ||
  (f !== null && f.members[m]?.ok === false && !starting(ctx, m) && readSince(ctx, m));

export function quorum(ctx: InvariantContext): Violation | null {
  const f = factsOf(ctx);
  if (!f) return null;
  const n = ctx.spec.members.length;
  const need = Math.floor(n / 2) + 1;
  const up = answering(f).length;
  // Members only starting are no new problem: one must be known down (as for a group).
  if (up >= need || !ctx.spec.members.some((m) => down(ctx, f, m))) return null;
  return { reason: `${up} of ${n} members answer, ${need} needed for quorum (${silent(f).join(', ')} silent)`, blame: silent(f), value: up };
}

export function oneLeader(ctx: InvariantContext): Violation | null {
  const f = factsOf(ctx);
  if (!f) return null;
  const views = answering(f);
  if (views.length === 0) return null; // that is the quorum's to say
  const leaders = new Set(views.map(([, v]) => v.leader ?? 'none'));
  const [agreed] = leaders;
  // The leader they still name is a member that no longer answers: the leader is gone, whatever
  // the others have not noticed yet (an election starts only after its timeout).
  const leaderService = agreed !== undefined ? f.ids?.[agreed] : undefined;
  if (leaders.size === 1 && leaderService !== undefined && down(ctx, f, leaderService)) {
    return { reason: `the leader ${leaderService} (${agreed}) is down`, blame: [leaderService] };
  }
  if (leaders.size === 1 && !leaders.has('none')) return null;
  // No leader while a member starts: an election is under way.
  if (ctx.spec.members.some((m) => starting(ctx, m))) return null;
  const seen = views.map(([m, v]) => `${m}: ${v.leader ?? 'none'}`).join(', ');
  return { reason: leaders.size > 1 ? `members disagree on the leader (${seen})` : `no leader (${seen})`, blame: silent(f) };
}

export function noSpace(ctx: InvariantContext): Violation | null {
  const f = factsOf(ctx);
  const nospace = f?.alarms.filter((a) => a.alarm === 'NOSPACE') ?? [];
  if (nospace.length === 0) return null;
  return { reason: `NOSPACE alarm raised by member ${nospace.map((a) => a.memberId).join(', ')}: the cluster takes no writes`, blame: [] };
}

export function lag(ctx: InvariantContext): Violation | null {
  const f = factsOf(ctx);
  if (!f) return null;
  const views = answering(f);
  const top = Math.max(0, ...views.map(([, v]) => v.index));
  const behind = views.filter(([, v]) => top - v.index > paramsOf(ctx).maxLag);
  if (behind.length === 0) return null;
  return { reason: `raft index behind the leader by more than ${paramsOf(ctx).maxLag}: ${behind.map(([m, v]) => `${m} ${top - v.index}`).join(', ')}`, blame: behind.map(([m]) => m), value: Math.max(...behind.map(([, v]) => top - v.index)) };
}

export function membersHealthy(ctx: InvariantContext): Violation | null {
  const f = factsOf(ctx);
  const out = ctx.spec.members.filter((m) => down(ctx, f, m));
  if (out.length === 0) return null;
  return { reason: `${out.join(', ')} not healthy`, blame: out };
}

export default defineSubject({
  name: 'etcd',
  description: 'an etcd cluster judged through its own API: quorum, one leader, no NOSPACE, raft lag, every member healthy',
  config: z.strictObject({
    endpoints: z.record(z.string(), z.url()).meta({ description: 'Each member service and its client URL, e.g. { etcd-a: "http://10.200.1.11:2379" }.' }),
    maxLag: z.int().min(1).default(1000).meta({ description: 'Raft entries a member may be behind the leader.' }),
    join: duration({ positive: false }).default('5s').meta({ description: 'A member this new may not answer yet: it listens before the cluster has formed.' }),
  }),
  compile: (c): EtcdParams => ({ endpoints: { ...c.endpoints }, maxLag: c.maxLag, joinMs: parseDuration(c.join) }),
  prerequisites: [],
  invariants: [
    { id: 'quorum', cause: 'quorum_lost', description: 'a majority of members answer', check: quorum },
    { id: 'one-leader', cause: 'leader_lost', description: 'every member that answers names the same leader', check: oneLeader },
    { id: 'no-nospace', cause: 'resource_exhausted', description: 'no NOSPACE alarm', check: noSpace },
    { id: 'lag', cause: 'performance_degraded', description: 'no member far behind the leader', check: lag },
    { id: 'members-healthy', cause: 'process_exited', description: 'every member healthy', check: membersHealthy },
  ],
  repair(verdicts, ctx) {
    const f = factsOf(ctx);
    // A member that is down is started again: that adds a voter and never takes one away. One that
    // runs is never restarted here, since a restart could cost the quorum; NOSPACE needs compaction
    // and defragmentation, which are not in the catalog yet.
    const first = startMissingFirst(ctx.spec.members, ctx);
    if (first) return first;
    if (verdicts.some((v) => v.invariant === 'no-nospace')) return { none: 'NOSPACE: compact, defragment and disarm the alarm (not automated yet)' };
    const silentRunning = f ? silent(f) : [];
    if (silentRunning.length > 0) return { none: `${silentRunning.join(', ')} run but do not answer: a network partition or a hang; restarting a running member could cost the quorum` };
    return { none: 'the cluster disagrees with itself while every member runs; a person must look' };
  },
  actions: etcdActions,
  guard,
  async observe(spec, o): Promise<EtcdFacts> {
    const { endpoints } = spec.params as unknown as EtcdParams;
    const members: Record<string, MemberView> = {};
    let alarms: EtcdFacts['alarms'] | null = null;
    let ids: Record<string, string> | null = null;
    const byUrl = new Map(Object.entries(endpoints).map(([m, u]) => [new URL(u).origin, m]));
    await Promise.all(spec.members.map(async (m) => {
      const url = endpoints[m];
      if (url === undefined) {
        members[m] = { ok: false, error: 'no client URL configured' };
        return;
      }
      const client = new EtcdClient(url, { timeoutMs: o.timeoutMs });
      try {
        const s = await client.status({ signal: o.signal });
        members[m] = { ok: true, id: s.memberId, leader: s.leader, term: s.raftTerm, index: s.raftIndex, errors: s.errors };
        alarms ??= (await client.alarms({ signal: o.signal })).map((a) => ({ memberId: a.memberId, alarm: a.alarm }));
        ids ??= Object.fromEntries((await client.memberList({ signal: o.signal })).flatMap((x) => {
          const svc = x.clientUrls.map((u) => byUrl.get(new URL(u).origin)).find((v) => v !== undefined);
          return svc === undefined ? [] : [[x.id, svc]];
        }));
      } catch (err) {
        members[m] = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }));
    return { members, alarms: alarms ?? [], ...(ids ? { ids } : {}) };
  },
});
