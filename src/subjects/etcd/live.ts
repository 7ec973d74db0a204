// Asking the cluster as it is now, for the guard and the actions: they must not act on a reading
// taken a moment ago (a member may have died since), so each asks every member again, under the
// action's signal, and decides on those answers.
import type { SubjectSpec } from '../../domain/types.js';
import { WardenError } from '../../lib/errors.js';
import { EtcdClient, type EndpointStatus, type Member } from './client.js';

export type EtcdActionErrorCode =
  /** The config lacks what the action needs (a member's client URL, its data dir). Not retryable. */
  | 'ETCD_ACTION_CONFIG'
  /** No member that could be asked answers now. Retryable: the cluster may come back. */
  | 'ETCD_NO_MEMBER'
  /** The action must not run against the cluster as it is now. Not retryable. */
  | 'ETCD_ACTION_REFUSED';

/** Why an etcd action could not do its work. */
export class EtcdActionError extends WardenError {
  declare readonly code: EtcdActionErrorCode;
  constructor(code: EtcdActionErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(code, message, { ...opts, retryable: code === 'ETCD_NO_MEMBER' });
  }
}

/** Each answer a member gives within this is an answer; slower is silence. */
export const LIVE_TIMEOUT_MS = 1500;

/** The member service → client URL table of an etcd subject. */
export function endpointsOf(subject: SubjectSpec): Record<string, string> {
  return (subject.params as { endpoints?: Record<string, string> }).endpoints ?? {};
}

/** A client for one member, or a non-retryable error naming what is missing in the config. */
export function clientOf(subject: SubjectSpec, member: string, timeoutMs = LIVE_TIMEOUT_MS): EtcdClient {
  const url = endpointsOf(subject)[member];
  if (url === undefined) throw new EtcdActionError('ETCD_ACTION_CONFIG', `subject ${subject.name}: no client URL for ${member} under etcd.endpoints; add it`);
  return new EtcdClient(url, { timeoutMs });
}

/** Every member's status now, or why it gave none. */
export async function askAll(subject: SubjectSpec, signal: AbortSignal, timeoutMs = LIVE_TIMEOUT_MS): Promise<Map<string, EndpointStatus | Error>> {
  const out = new Map<string, EndpointStatus | Error>();
  await Promise.all(subject.members.map(async (m) => {
    try {
      out.set(m, await clientOf(subject, m, timeoutMs).status({ signal }));
    } catch (e) {
      out.set(m, e instanceof Error ? e : new Error(String(e)));
    }
  }));
  return out;
}

/** The members that answered, in config order. */
export function answered(views: Map<string, EndpointStatus | Error>): [string, EndpointStatus][] {
  return [...views].filter((e): e is [string, EndpointStatus] => !(e[1] instanceof Error));
}

/** Which member service an etcd member is, by its client URLs against the configured endpoints. */
export function serviceOf(subject: SubjectSpec, m: Member): string | undefined {
  const byOrigin = new Map(Object.entries(endpointsOf(subject)).map(([svc, u]) => [new URL(u).origin, svc]));
  return m.clientUrls.map((u) => byOrigin.get(new URL(u).origin)).find((s) => s !== undefined);
}

/** A client of a member other than `not` that answers now; an error when none does. */
export async function anotherAnswering(subject: SubjectSpec, not: string, signal: AbortSignal, timeoutMs?: number): Promise<{ member: string; client: EtcdClient; status: EndpointStatus }> {
  const views = await askAll(subject, signal);
  const other = answered(views).find(([m]) => m !== not);
  if (other === undefined) throw new EtcdActionError('ETCD_NO_MEMBER', `subject ${subject.name}: no member besides ${not} answers; nothing can be asked of the cluster`);
  return { member: other[0], client: clientOf(subject, other[0], timeoutMs), status: other[1] };
}
