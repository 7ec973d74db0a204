// Subject plugin `etcd`: a cluster judged by what its members say, through etcd's own API. Each
// member service has a client URL; every `interval` each member is asked for its status (leader,
// raft term and index, backend size) and the cluster for its alarms; when a member is silent the
// others are asked for their raft links to it, and under an alarm for their quota. The invariants
// are over those answers, so the cause is named in the cluster's terms: quorum lost, no agreed
// leader, NOSPACE, a member cut off by the network, a member that lags — never a member's process
// cause. Its actions (actions.ts), its guard (guard.ts) and its repair rule (repair.ts) act on
// the cluster as it answers then.
import { z } from 'zod';
import { isStuck } from '../../domain/detect.js';
import type { InvariantContext, Violation } from '../../domain/subject.js';
import type { SubjectSpec } from '../../domain/types.js';
import { defineSubject } from '../subject.js';
import { duration } from '../../config/fields.js';
import { parseDuration } from '../../lib/duration.js';
import { etcdActions, FULL_RATIO } from './actions.js';
import { EtcdClient, type EndpointStatus, type Space } from './client.js';
import { guard } from './guard.js';
import { answering, factsOf, silent, type EtcdFacts, type MemberView } from './facts.js';
import { repair } from './repair.js';

export type { EtcdFacts, MemberView } from './facts.js';

export interface EtcdParams {
  /** Member service → its client URL (http://10.200.1.11:2379). */
  endpoints: Record<string, string>;
  /** A member this many raft entries behind the leader is lagging. */
  maxLag: number;
  /** A member this new may not answer yet (it listens before the cluster has formed). */
  joinMs: number;
}

const paramsOf = (ctx: InvariantContext): EtcdParams => ctx.spec.params as unknown as EtcdParams;

/** A member starting (its first checks pending, or younger than joinMs: it listens before the
 *  cluster has formed): silence is expected, not a fault, for now. */
function starting(ctx: InvariantContext, m: string): boolean {
  if (ctx.health[m]?.health === 'unknown') return true;
  const started = ctx.world.services[m]?.process.startedAt;
  const at = ctx.world.subjects?.[ctx.spec.name]?.at;
  return started != null && at !== undefined && at - started < paramsOf(ctx).joinMs;
}
/** Whether the last reading was taken after member m's process started: an older one says nothing of it. */
export function readSince(ctx: InvariantContext, m: string): boolean {
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
  // A member whose process Warden saw go since the reading answers nothing now, whatever the
  // reading says: two members killed at once are counted out at once, not a reading later.
  // And one that missed a reading (slow to answer on a loaded host) while its own check passes is
  // counted in: a quorum is lost on members known down, not on one late answer.
  const up = ctx.spec.members.filter((m) => ctx.health[m]?.health !== 'missing' && (f.members[m]?.ok === true || ctx.health[m]?.health === 'healthy'));
  // Members only starting are no new problem: one must be known down (as for a group).
  if (up.length >= need || !ctx.spec.members.some((m) => down(ctx, f, m))) return null;
  const out = ctx.spec.members.filter((m) => !up.includes(m));
  return { reason: `${up.length} of ${n} members answer, ${need} needed for quorum (${out.join(', ')} silent)`, blame: out, value: up.length };
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
  // Named by the member list, or by the leader's own answer in this reading (the list needs a
  // leader to be read, so during an election it may not be).
  const leaderService = agreed !== undefined ? f.ids?.[agreed] ?? views.find(([, v]) => v.id === agreed)?.[0] : undefined;
  if (leaders.size === 1 && leaderService !== undefined && down(ctx, f, leaderService)) {
    return { reason: `the leader ${leaderService} (${agreed}) is down`, blame: [leaderService] };
  }
  // The leader they name answered nothing and cannot be named yet: it is one of the members down.
  if (leaders.size === 1 && !leaders.has('none') && leaderService === undefined) {
    const gone = ctx.spec.members.filter((m) => down(ctx, f, m));
    if (gone.length > 0) return { reason: `the leader (${agreed}) does not answer: it is one of ${gone.join(', ')}`, blame: gone };
  }
  if (leaders.size === 1 && !leaders.has('none')) return null;
  // No leader while a member starts: an election is under way.
  if (ctx.spec.members.some((m) => starting(ctx, m))) return null;
  const seen = views.map(([m, v]) => `${m}: ${v.leader ?? 'none'}`).join(', ');
  return { reason: leaders.size > 1 ? `members disagree on the leader (${seen})` : `no leader (${seen})`, blame: silent(f) };
}

/**
 * A member cut off by the network: its process runs (Warden sees its pid alive and not stopped),
 * yet it answered neither the last reading nor Warden's own check. That is not process_exited,
 * and a restart would not mend a link; how the other members see it says whether the cluster has
 * lost it too, or only Warden cannot reach it.
 */
export function cutOff(ctx: InvariantContext, f: EtcdFacts, m: string): boolean {
  const p = ctx.world.services[m]?.process;
  return p?.running === true && !isStuck(p) && ctx.health[m]?.health === 'unhealthy' &&
    f.members[m]?.ok === false && readSince(ctx, m) && !starting(ctx, m);
}

/** What the answering members say of their raft links to member m. */
function othersView(f: EtcdFacts, m: string): string {
  const views = Object.entries(f.links ?? {}).filter(([o]) => o !== m).map(([o, l]) => [o, l[m]] as const).filter((v): v is readonly [string, boolean] => v[1] !== undefined);
  if (views.length === 0) return 'no other member could say how it sees it';
  const lost = views.filter(([, a]) => !a).map(([o]) => o);
  const reach = views.filter(([, a]) => a).map(([o]) => o);
  if (reach.length === 0) return `${lost.join(', ')} lost their raft link to it too`;
  return `${reach.join(', ')} still ${reach.length > 1 ? 'have' : 'has'} a raft link to it${lost.length > 0 ? ` (${lost.join(', ')} lost theirs)` : ''}: so far only Warden is cut off from it`;
}

export function partition(ctx: InvariantContext): Violation | null {
  const f = factsOf(ctx);
  if (!f) return null;
  const cut = ctx.spec.members.filter((m) => cutOff(ctx, f, m));
  if (cut.length === 0) return null;
  const pid = (m: string): string => String(ctx.world.services[m]?.process.pid ?? '?');
  return { reason: cut.map((m) => `${m} runs (pid ${pid(m)}) but answers neither Warden's reading nor its check; ${othersView(f, m)}`).join('; '), blame: cut };
}

export function noSpace(ctx: InvariantContext): Violation | null {
  const f = factsOf(ctx);
  const nospace = f?.alarms.filter((a) => a.alarm === 'NOSPACE') ?? [];
  if (!f || nospace.length === 0) return null;
  // Blamed: the members whose backend file is full (once read), so a step that frees one is new evidence.
  const full = answering(f).filter(([m, v]) => v.dbSize !== undefined && f.space?.[m] !== undefined && v.dbSize >= FULL_RATIO * f.space[m]!.quotaBytes).map(([m]) => m);
  return { reason: `NOSPACE alarm raised by member ${nospace.map((a) => a.memberId).join(', ')}: the cluster takes no writes${full.length > 0 ? `; full backends: ${full.join(', ')}` : ''}`, blame: full };
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

/** A member whose process is gone: its own failure (process_exited). */
const gone = (ctx: InvariantContext, m: string): boolean => ctx.health[m]?.health === 'missing';

export function membersUp(ctx: InvariantContext): Violation | null {
  const out = ctx.spec.members.filter((m) => gone(ctx, m));
  if (out.length === 0) return null;
  return { reason: `${out.join(', ')} not running`, blame: out };
}

/**
 * A member that runs but is not healthy (its check fails, or it does not answer the reading): why
 * is not known yet — a partition, a hang, a slow disk — so its cause is `unknown` until a graver
 * invariant (partition, quorum) says.
 */
export function membersHealthy(ctx: InvariantContext): Violation | null {
  const f = factsOf(ctx);
  const out = ctx.spec.members.filter((m) => !gone(ctx, m) && down(ctx, f, m));
  if (out.length === 0) return null;
  return { reason: `${out.join(', ')} ${out.length > 1 ? 'run' : 'runs'} but ${out.length > 1 ? 'are' : 'is'} not healthy`, blame: out };
}

/**
 * What the last reading of each subject found that calls for more than statuses in the next:
 * a silent member (ask the others for their raft links) or an alarm (ask for quotas). Asked a
 * reading later rather than after a second round trip, so one reading stays one round of calls.
 */
const wanted = new Map<string, { links: boolean; space: boolean }>();

async function observe(spec: SubjectSpec, o: { signal: AbortSignal; timeoutMs: number }): Promise<EtcdFacts> {
  const { endpoints } = spec.params as unknown as EtcdParams;
  const want = wanted.get(spec.name) ?? { links: false, space: false };
  const members: Record<string, MemberView> = {};
  const links: Record<string, Record<string, boolean>> = {};
  const space: Record<string, Space> = {};
  const sizes = new Map<string, { dbSize: number; dbSizeInUse: number; revision: number }>();
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
    let s: EndpointStatus;
    try {
      s = await client.status({ signal: o.signal });
    } catch (err) {
      members[m] = { ok: false, error: err instanceof Error ? err.message : String(err) };
      return;
    }
    members[m] = {
      ok: true, id: s.memberId, leader: s.leader, term: s.raftTerm, index: s.raftIndex, errors: s.errors,
    };
    sizes.set(m, { dbSize: s.dbSize, dbSizeInUse: s.dbSizeInUse, revision: s.revision });
    // Sizes and the revision change with every write: kept only under an alarm (below), so that a
    // busy cluster's readings do not differ (and wake the loop) every time.
    // The rest is about the cluster, not this member's own answer: a failure leaves it out.
    const call = <T>(p: Promise<T>): Promise<T | null> => p.catch(() => null);
    const [al, list, peers, sp] = await Promise.all([
      alarms === null ? call(client.alarms({ signal: o.signal })) : null,
      ids === null ? call(client.memberList({ signal: o.signal })) : null,
      want.links ? call(client.peers({ signal: o.signal })) : null,
      want.space ? call(client.space({ signal: o.signal })) : null,
    ]);
    if (al) alarms ??= al.map((a) => ({ memberId: a.memberId, alarm: a.alarm }));
    if (list) {
      ids ??= Object.fromEntries(list.flatMap((x) => {
        const svc = x.clientUrls.map((u) => byUrl.get(new URL(u).origin)).find((v) => v !== undefined);
        return svc === undefined ? [] : [[x.id, svc]];
      }));
    }
    if (sp) space[m] = sp;
    if (peers) links[m] = Object.fromEntries(peers.filter((l) => l.local === s.memberId).map((l) => [l.remote, l.active]));
  }));
  // An alarm this reading found first: the quotas are asked now, so the repair has them at once.
  if ((alarms ?? []).length > 0) {
    await Promise.all([...sizes.keys()].filter((m) => space[m] === undefined).map(async (m) => {
      const sp = await new EtcdClient(endpoints[m]!, { timeoutMs: o.timeoutMs }).space({ signal: o.signal }).catch(() => null);
      if (sp) space[m] = sp;
    }));
    for (const [m, z] of sizes) Object.assign(members[m]!, z);
  }
  // Links are read by member id; the invariants speak of member services.
  const named = (l: Record<string, boolean>): Record<string, boolean> => Object.fromEntries(Object.entries(l).flatMap(([id, a]) => {
    const svc = (ids as Record<string, string> | null)?.[id];
    return svc === undefined ? [] : [[svc, a]];
  }));
  const found: EtcdFacts = {
    members, alarms: alarms ?? [], ...(ids ? { ids } : {}),
    ...(Object.keys(links).length > 0 ? { links: Object.fromEntries(Object.entries(links).map(([m, l]) => [m, named(l)])) } : {}),
    ...(Object.keys(space).length > 0 ? { space } : {}),
  };
  wanted.set(spec.name, { links: silent(found).length > 0, space: found.alarms.length > 0 });
  return found;
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
    { id: 'partition', cause: 'network_partition', description: 'every member that runs can be reached', check: partition },
    { id: 'lag', cause: 'performance_degraded', description: 'no member far behind the leader', check: lag },
    { id: 'members-up', cause: 'process_exited', description: 'every member runs', check: membersUp },
    { id: 'members-healthy', cause: 'unknown', description: 'every member that runs is healthy', check: membersHealthy },
  ],
  repair,
  actions: etcdActions,
  guard,
  observe,
});
