// What the etcd subject reads of its cluster each interval (World.subjects[name].facts), and the
// small readers the invariants and the repair rule share.
import type { InvariantContext } from '../../domain/subject.js';
import type { SubjectFacts } from '../../domain/types.js';
import type { AlarmType, Space } from './client.js';

/** One member's answer: its status, or why it gave none. */
export type MemberView =
  | {
    ok: true; id: string; leader: string | null; term: number; index: number; errors: string[];
    /** Its backend file and the part in use, bytes, and the key space's revision: read while an alarm is raised. */
    dbSize?: number; dbSizeInUse?: number; revision?: number;
  }
  | { ok: false; error: string };

/** What the etcd subject reads each interval (World.subjects[name].facts). */
export interface EtcdFacts {
  members: Record<string, MemberView>;
  /** Alarms as the first member that answered lists them (they are cluster-wide). */
  alarms: { memberId: string; alarm: AlarmType }[];
  /** etcd member id (hex) → member service, by client URL, as the member list says. */
  ids?: Record<string, string>;
  /**
   * Read while a member is silent: each answering member → each other member service → whether
   * its raft link to it is active (etcd_network_active_peers). How the cluster sees a member Warden
   * cannot reach: a partition cuts the others' links too (after etcd's 5 s read timeout).
   */
  links?: Record<string, Record<string, boolean>>;
  /** Read while an alarm is raised: each answering member's quota and last compaction. */
  space?: Record<string, Space>;
}

/** The last reading, when it has facts; null before the first or when it failed as a whole. */
export function factsOf(ctx: InvariantContext): EtcdFacts | null {
  const read: SubjectFacts | undefined = ctx.world.subjects?.[ctx.spec.name];
  return read && 'facts' in read ? (read.facts as EtcdFacts) : null;
}

export const answering = (f: EtcdFacts): [string, Extract<MemberView, { ok: true }>][] =>
  Object.entries(f.members).filter((e): e is [string, Extract<MemberView, { ok: true }>] => e[1].ok);

/** Members that did not answer, with why. */
export const silent = (f: EtcdFacts): string[] => Object.entries(f.members).filter(([, v]) => !v.ok).map(([m]) => m);

