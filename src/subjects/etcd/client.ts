// A small client for etcd's own API over HTTP: the v3 JSON gateway (`/v3/...`, keys and values in
// base64, 64-bit numbers as decimal strings), `/health` and `/metrics`. It talks to one member:
// an observer asks each member for its own view, because the views differing is the point.
//
// Why not the `etcd3` npm package: it speaks gRPC (a heavy dependency tree) and balances over
// endpoints, which hides which member answered. The gateway ships in every etcd 3.4 member.
//
// Why node:http with a fresh connection per call and not fetch: fetch pools keep-alive sockets,
// and a pooled socket to a member that was killed, restarted or cut off answers the next POST with
// "other side closed" — a fault of the client, not of the member.
import { request, type IncomingMessage } from 'node:http';
import { z } from 'zod';
import { WardenError } from '../../lib/errors.js';

/** Calls give up after this unless told otherwise: a member that takes longer is not answering. */
export const DEFAULT_TIMEOUT_MS = 2000;
/** A response larger than this is a runaway (the largest etcd value is 1.5 MiB, base64 2 MiB). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export type EtcdErrorCode =
  /** No answer: refused, reset, unreachable or timed out. Retryable. */
  | 'ETCD_UNREACHABLE'
  /** etcd answered with an error (its message is quoted). */
  | 'ETCD_REQUEST_FAILED'
  /** etcd answered something this client cannot read. */
  | 'ETCD_BAD_RESPONSE';

/**
 * etcd's refusals that pass by themselves: an election under way, a request that timed out inside
 * raft, or (for member add/remove) peers that reconnected less than 5 s ago ("unhealthy cluster").
 */
const TRANSIENT = ['unhealthy cluster', 'no leader', 'leader changed', 'request timed out', 'too many requests', 'not enough started members'];

export class EtcdError extends WardenError {
  declare readonly code: EtcdErrorCode;
  /** The member's client URL and the path asked, e.g. "http://10.1.2.11:2379/v3/kv/put". */
  readonly url: string;
  /** HTTP status etcd answered with; null when it did not answer. */
  readonly status: number | null;
  /** etcd's own message ("etcdserver: mvcc: database space exceeded"); null when none. */
  readonly etcdMessage: string | null;

  constructor(code: EtcdErrorCode, url: string, message: string, opts: { status?: number | null; etcdMessage?: string | null; cause?: unknown } = {}) {
    const transient = code === 'ETCD_REQUEST_FAILED' && TRANSIENT.some((t) => opts.etcdMessage?.includes(t) === true);
    super(code, `${url}: ${message}`, { cause: opts.cause, retryable: code === 'ETCD_UNREACHABLE' || transient });
    this.url = url;
    this.status = opts.status ?? null;
    this.etcdMessage = opts.etcdMessage ?? null;
  }
}

/** True when etcd refused a write because the backend is over its quota (the NOSPACE alarm). */
export function isNoSpace(err: unknown): boolean {
  return err instanceof EtcdError && err.etcdMessage !== null && err.etcdMessage.includes('database space exceeded');
}

// ---- identifiers -------------------------------------------------------------------------------
// etcd's member and cluster ids are uint64. The gateway spells them in decimal; etcdctl, etcd's
// logs and its /metrics labels in hex. This client gives hex everywhere (one spelling to compare)
// and converts at the wire.

/** Decimal uint64 (the gateway's spelling) → lower-case hex without padding (etcdctl's). */
export function idToHex(decimal: string): string {
  return BigInt(decimal).toString(16);
}

/** Hex member id → decimal uint64 for the gateway. */
export function idFromHex(hex: string): string {
  if (!/^[0-9a-f]{1,16}$/i.test(hex)) throw new TypeError(`not a member id: ${JSON.stringify(hex)} (expected up to 16 hex digits)`);
  return BigInt(`0x${hex}`).toString(10);
}

// ---- wire shapes (etcd 3.4's gateway: proto names, zero values left out) ------------------------

const u64 = z.string().regex(/^\d+$/);
const num = u64.transform(Number);
const header = z.object({ cluster_id: u64.optional(), member_id: u64.optional(), revision: num.optional(), raft_term: num.optional() });
const wireMember = z.object({
  ID: u64.optional(),
  name: z.string().optional(),
  peerURLs: z.array(z.string()).optional(),
  clientURLs: z.array(z.string()).optional(),
  isLearner: z.boolean().optional(),
});
const wireAlarm = z.object({ memberID: u64.optional(), alarm: z.enum(['NONE', 'NOSPACE', 'CORRUPT']).optional() });
const wire = {
  health: z.object({ health: z.enum(['true', 'false']), reason: z.string().optional() }),
  memberList: z.object({ header: header.optional(), members: z.array(wireMember).optional() }),
  memberAdd: z.object({ header: header.optional(), member: wireMember, members: z.array(wireMember).optional() }),
  memberRemove: z.object({ header: header.optional(), members: z.array(wireMember).optional() }),
  status: z.object({
    header: header.optional(),
    version: z.string(),
    dbSize: num.optional(),
    dbSizeInUse: num.optional(),
    leader: u64.optional(),
    raftIndex: num.optional(),
    raftTerm: num.optional(),
    raftAppliedIndex: num.optional(),
    errors: z.array(z.string()).optional(),
    isLearner: z.boolean().optional(),
  }),
  alarm: z.object({ header: header.optional(), alarms: z.array(wireAlarm).optional() }),
  put: z.object({ header: header.optional() }),
  range: z.object({
    header: header.optional(),
    kvs: z.array(z.object({ key: z.string(), value: z.string().optional(), mod_revision: num.optional(), version: num.optional() })).optional(),
  }),
  empty: z.object({ header: header.optional() }),
  error: z.object({ error: z.string().optional(), message: z.string().optional(), code: z.number().optional() }),
};

// ---- results ----------------------------------------------------------------------------------

export interface Member {
  /** Hex member id. */
  id: string;
  /** Empty for a member added but not started yet. */
  name: string;
  peerUrls: string[];
  /** Empty for a member added but not started yet. */
  clientUrls: string[];
  isLearner: boolean;
}

export interface EndpointStatus {
  /** Hex id of the member that answered. */
  memberId: string;
  clusterId: string;
  version: string;
  /** Hex id of the leader this member follows; null when it knows none. */
  leader: string | null;
  /** The term of the last entry this member applied: it reaches a new leader's term a moment after `leader` changes. */
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex: number;
  /** Current revision of the key space. */
  revision: number;
  dbSize: number;
  dbSizeInUse: number;
  isLearner: boolean;
  /** Errors the member reports about itself, e.g. "memberID:... alarm:NOSPACE ". */
  errors: string[];
}

export type AlarmType = 'NOSPACE' | 'CORRUPT';
export interface Alarm {
  /** Hex id of the member that raised it. */
  memberId: string;
  alarm: AlarmType;
}

export interface Health {
  healthy: boolean;
  /** Why not, when etcd says (3.4 often says nothing). */
  reason: string;
}

/** One raft peer connection as a member sees it (etcd_network_active_peers). */
export interface PeerLink {
  /** Hex id of the member asked. */
  local: string;
  /** Hex id of the peer. */
  remote: string;
  active: boolean;
}

/** A member's backend quota and compaction, from its /metrics. */
export interface Space {
  /** --quota-backend-bytes as the member applies it (etcd_server_quota_backend_bytes). */
  quotaBytes: number;
  /** The revision of the last compaction; -1 before any (etcd_debugging_mvcc_compact_revision). */
  compactRevision: number;
}

export interface KeyValue {
  key: string;
  value: Buffer;
  modRevision: number;
  version: number;
}

export interface CallOptions {
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
  /** Abandons the call early; the timeout applies as well. */
  signal?: AbortSignal;
}

// ---- the client -------------------------------------------------------------------------------

const b64 = (v: string | Buffer): string => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('base64');

function toMember(m: z.infer<typeof wireMember>): Member {
  return {
    id: idToHex(m.ID ?? '0'),
    name: m.name ?? '',
    peerUrls: m.peerURLs ?? [],
    clientUrls: m.clientURLs ?? [],
    isLearner: m.isLearner ?? false,
  };
}

export class EtcdClient {
  /** The member's client URL without a trailing slash, e.g. "http://10.1.2.11:2379". */
  readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(endpoint: string, opts: { timeoutMs?: number } = {}) {
    const url = new URL(endpoint);
    if (url.protocol !== 'http:') throw new TypeError(`etcd endpoint ${endpoint}: only http:// client URLs are supported`);
    this.endpoint = url.origin;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** GET /health: etcd's own verdict (false under a NOSPACE alarm or without a leader). */
  async health(opts?: CallOptions): Promise<Health> {
    // An unhealthy member answers 503 with the same body: that is an answer, not a failure.
    const r = await this.call('GET', '/health', undefined, opts, wire.health, [200, 503]);
    return { healthy: r.health === 'true', reason: r.reason ?? '' };
  }

  async memberList(opts?: CallOptions): Promise<Member[]> {
    const r = await this.call('POST', '/v3/cluster/member/list', {}, opts, wire.memberList);
    return (r.members ?? []).map(toMember);
  }

  /** Adds a member by its peer URLs; returns it (not started: no name yet) and the new list. */
  async memberAdd(peerUrls: string[], opts?: CallOptions & { learner?: boolean }): Promise<{ member: Member; members: Member[] }> {
    const r = await this.call('POST', '/v3/cluster/member/add', { peerURLs: peerUrls, isLearner: opts?.learner ?? false }, opts, wire.memberAdd);
    return { member: toMember(r.member), members: (r.members ?? []).map(toMember) };
  }

  /** Removes a member by hex id; returns the members left. */
  async memberRemove(id: string, opts?: CallOptions): Promise<Member[]> {
    const r = await this.call('POST', '/v3/cluster/member/remove', { ID: idFromHex(id) }, opts, wire.memberRemove);
    return (r.members ?? []).map(toMember);
  }

  /** This member's view: leader, raft term and index, db size, its own errors. */
  async status(opts?: CallOptions): Promise<EndpointStatus> {
    const r = await this.call('POST', '/v3/maintenance/status', {}, opts, wire.status);
    const leader = r.leader === undefined || r.leader === '0' ? null : idToHex(r.leader);
    return {
      memberId: idToHex(r.header?.member_id ?? '0'),
      clusterId: idToHex(r.header?.cluster_id ?? '0'),
      version: r.version,
      leader,
      raftTerm: r.raftTerm ?? 0,
      raftIndex: r.raftIndex ?? 0,
      raftAppliedIndex: r.raftAppliedIndex ?? 0,
      revision: r.header?.revision ?? 0,
      dbSize: r.dbSize ?? 0,
      dbSizeInUse: r.dbSizeInUse ?? 0,
      isLearner: r.isLearner ?? false,
      errors: r.errors ?? [],
    };
  }

  /** The cluster's active alarms (the same list from every member: alarms go through raft). */
  async alarms(opts?: CallOptions): Promise<Alarm[]> {
    const r = await this.call('POST', '/v3/maintenance/alarm', { action: 'GET' }, opts, wire.alarm);
    return toAlarms(r.alarms);
  }

  /** Clears one alarm. etcd refuses writes again at once if the cause (a full backend) remains. */
  async disarm(alarm: Alarm, opts?: CallOptions): Promise<Alarm[]> {
    const r = await this.call('POST', '/v3/maintenance/alarm', { action: 'DEACTIVATE', memberID: idFromHex(alarm.memberId), alarm: alarm.alarm }, opts, wire.alarm);
    return toAlarms(r.alarms);
  }

  /** Writes a key; returns the revision it created. */
  async put(key: string, value: string | Buffer, opts?: CallOptions): Promise<number> {
    const r = await this.call('POST', '/v3/kv/put', { key: b64(key), value: b64(value) }, opts, wire.put);
    return r.header?.revision ?? 0;
  }

  /** Reads one key (linearizable); null when it does not exist. */
  async get(key: string, opts?: CallOptions): Promise<KeyValue | null> {
    const r = await this.call('POST', '/v3/kv/range', { key: b64(key) }, opts, wire.range);
    const kv = r.kvs?.[0];
    if (kv === undefined) return null;
    return { key: Buffer.from(kv.key, 'base64').toString('utf8'), value: Buffer.from(kv.value ?? '', 'base64'), modRevision: kv.mod_revision ?? 0, version: kv.version ?? 0 };
  }

  /** Drops history before `revision` in every member (physical: waits until it is applied). */
  async compact(revision: number, opts?: CallOptions): Promise<void> {
    await this.call('POST', '/v3/kv/compaction', { revision: String(revision), physical: true }, opts, wire.empty);
  }

  /** Defragments this member's backend (only this member: ask each one). Blocks it meanwhile. */
  async defragment(opts?: CallOptions): Promise<void> {
    await this.call('POST', '/v3/maintenance/defragment', {}, opts, wire.empty);
  }

  /** Hands leadership to `targetId` (hex). Must be sent to the current leader. */
  async moveLeader(targetId: string, opts?: CallOptions): Promise<void> {
    await this.call('POST', '/v3/maintenance/transfer-leadership', { targetID: idFromHex(targetId) }, opts, wire.empty);
  }

  /**
   * This member's raft connections to its peers, from its /metrics. A member cut off from the
   * network shows as inactive here in the others' views while its own process runs: this is how
   * a partition is told apart from a dead process.
   */
  async peers(opts?: CallOptions): Promise<PeerLink[]> {
    return parsePeerLinks(await this.text('/metrics', opts));
  }

  /** The backend quota and the last compaction, from /metrics: what NOSPACE is judged against. */
  async space(opts?: CallOptions): Promise<Space> {
    const text = await this.text('/metrics', opts);
    const quotaBytes = metricValue(text, 'etcd_server_quota_backend_bytes');
    const compactRevision = metricValue(text, 'etcd_debugging_mvcc_compact_revision');
    if (quotaBytes === null || compactRevision === null) {
      throw new EtcdError('ETCD_BAD_RESPONSE', `${this.endpoint}/metrics`, 'no etcd_server_quota_backend_bytes or etcd_debugging_mvcc_compact_revision (etcd before 3.4?)');
    }
    return { quotaBytes, compactRevision };
  }

  private async call<S extends z.ZodType>(method: 'GET' | 'POST', path: string, body: unknown, opts: CallOptions | undefined, schema: S, okStatus: readonly number[] = [200]): Promise<z.output<S>> {
    const { status, text } = await this.send(method, path, body, opts);
    const url = `${this.endpoint}${path}`;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new EtcdError('ETCD_BAD_RESPONSE', url, `HTTP ${status}, not JSON: ${text.slice(0, 200)}`, { status, cause: e });
    }
    if (!okStatus.includes(status)) {
      const err = wire.error.safeParse(json);
      const msg = err.success ? (err.data.error ?? err.data.message ?? null) : null;
      // etcd's message is shown as etcd said it, so a person can search for it.
      throw new EtcdError('ETCD_REQUEST_FAILED', url, `HTTP ${status}: ${msg ?? text.slice(0, 200)}`, { status, etcdMessage: msg });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new EtcdError('ETCD_BAD_RESPONSE', url, `unexpected answer (${parsed.error.issues[0]?.message ?? 'invalid'} at ${parsed.error.issues[0]?.path.join('.') ?? '?'}): ${text.slice(0, 200)}`, { status });
    }
    return parsed.data as z.output<S>;
  }

  private async text(path: string, opts?: CallOptions): Promise<string> {
    const { status, text } = await this.send('GET', path, undefined, opts);
    if (status !== 200) throw new EtcdError('ETCD_REQUEST_FAILED', `${this.endpoint}${path}`, `HTTP ${status}: ${text.slice(0, 200)}`, { status });
    return text;
  }

  private send(method: 'GET' | 'POST', path: string, body: unknown, opts: CallOptions = {}): Promise<{ status: number; text: string }> {
    const url = `${this.endpoint}${path}`;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal === undefined ? timeout : AbortSignal.any([opts.signal, timeout]);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const fail = (err: unknown): void => {
        const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : signal.aborted ? 'cancelled' : err instanceof Error ? err.message : String(err);
        reject(new EtcdError('ETCD_UNREACHABLE', url, why, { cause: err }));
      };
      const headers: Record<string, string | number> = { 'user-agent': 'warden-etcd' };
      if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
      const req = request(url, { method, agent: false, headers, signal });
      req.on('socket', (s) => s.setNoDelay(true));
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            reject(new EtcdError('ETCD_BAD_RESPONSE', url, `answer larger than ${MAX_RESPONSE_BYTES} bytes`, { status: res.statusCode ?? null }));
            return;
          }
          chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.end(payload);
    });
  }
}

function toAlarms(alarms: z.infer<typeof wireAlarm>[] | undefined): Alarm[] {
  const out: Alarm[] = [];
  for (const a of alarms ?? []) {
    // NONE is the enum's zero value: a list entry without an alarm carries none.
    if (a.alarm === undefined || a.alarm === 'NONE') continue;
    out.push({ memberId: idToHex(a.memberID ?? '0'), alarm: a.alarm });
  }
  return out;
}

/** The value of an unlabelled metric (`name 4.194304e+06`); null when absent. */
export function metricValue(metrics: string, name: string): number | null {
  for (const l of metrics.split('\n')) {
    if (!l.startsWith(`${name} `)) continue;
    const v = Number(l.slice(name.length + 1).trim());
    return Number.isFinite(v) ? v : null;
  }
  return null;
}

/** etcd_network_active_peers{Local="…",Remote="…"} N lines → links; other lines are ignored. */
export function parsePeerLinks(metrics: string): PeerLink[] {
  const links: PeerLink[] = [];
  const line = /^etcd_network_active_peers\{([^}]*)\}\s+(\S+)/;
  for (const l of metrics.split('\n')) {
    const m = line.exec(l);
    if (m === null) continue;
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const local = labels.Local;
    const remote = labels.Remote;
    if (local === undefined || remote === undefined) continue;
    links.push({ local, remote, active: Number(m[2]) > 0 });
  }
  return links;
}
