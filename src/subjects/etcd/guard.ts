// The etcd subject's guard: asked by the executor before any action on a member, against the
// cluster as it answers now (never the last reading: a member may have died since). An action that
// takes a member out of the voters for a while — a restart, a stop, a replacement — is refused when
// that member answers and the members answering besides it are fewer than a majority: the cluster
// could lose its quorum. A member that does not answer votes for nothing now, so acting on it takes
// no voter away.
import type { ActionType } from '../../domain/types.js';
import type { MemberActionContext } from '../subject.js';
import { askAll } from './live.js';

/** Actions that stop the member's etcd for a while. */
const TAKES_A_VOTER: readonly ActionType[] = ['restart', 'stop', 'etcd.replace-member'];

export async function guard(ctx: MemberActionContext, signal: AbortSignal): Promise<string | null> {
  const { action, subject } = ctx;
  if (!TAKES_A_VOTER.includes(action.type)) return null;
  const views = await askAll(subject, signal);
  // Aborted, every member reads as silent: that must not pass for "the target takes no voter away".
  signal.throwIfAborted();
  if (views.get(action.target) instanceof Error) return null;
  const n = subject.members.length;
  const need = Math.floor(n / 2) + 1;
  const others = [...views].filter(([m, v]) => m !== action.target && !(v instanceof Error)).map(([m]) => m);
  if (others.length >= need) return null;
  return `${action.target} answers, and without it ${others.length} of ${n} members answer (${others.join(', ') || 'none'}), ${need} needed for quorum: ${action.type} could lose the quorum; bring the others back first`;
}
