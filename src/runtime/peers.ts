// Mutual watch: this Warden probes each peer Warden's /healthz (config `peers`; no token needed),
// which answers 200 while the peer's loop progresses and 503 with the reason when its passes stall
// or fail. After `failures` consecutive failed probes the peer is reported unreachable (an audit
// record and a notification, peer.unreachable), once per outage; its first good answer after that is
// peer.recovered. Each peer on its own timer, one probe at a time, off the loop: a peer that hangs
// delays nothing but its own next probe.
import type { Millis, PeerSpec } from '../domain/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorText } from '../lib/errors.js';

export type PeerVerdict = { ok: true } | { ok: false; reason: string };

export interface PeerState {
  name: string;
  url: string;
  /** null until the first answer or the first outage. */
  reachable: boolean | null;
  /** When `reachable` last changed (wall time, for records). */
  since: Millis | null;
  /** Consecutive failed probes. */
  failures: number;
  /** Why the last probe failed; null after a good one. */
  reason: string | null;
}

export type PeerEventKind = 'peer.unreachable' | 'peer.recovered';
/** `kind` null: the verdict changed without news (the first good answer), to keep, not to report. */
export interface PeerEvent { kind: PeerEventKind | null; peer: PeerState }

/** One probe's verdict applied: the next state, and the event to report, if any. */
export function nextPeerState(s: PeerState, v: PeerVerdict, failuresNeeded: number, now: Millis): { state: PeerState; event: PeerEventKind | null } {
  if (v.ok) {
    const state: PeerState = { ...s, reachable: true, since: s.reachable === true ? s.since : now, failures: 0, reason: null };
    return { state, event: s.reachable === false ? 'peer.recovered' : null };
  }
  const failures = s.failures + 1;
  if (failures < failuresNeeded || s.reachable === false) return { state: { ...s, failures, reason: v.reason }, event: null };
  return { state: { ...s, reachable: false, since: now, failures, reason: v.reason }, event: 'peer.unreachable' };
}

/** GET the peer's /healthz: 200 is ok; otherwise the peer's own reason, or the network's. */
export async function probePeer(p: PeerSpec, signal?: AbortSignal): Promise<PeerVerdict> {
  try {
    const timeout = AbortSignal.timeout(p.timeoutMs);
    const res = await fetch(p.url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    const body = await res.text();
    if (res.status === 200) return { ok: true };
    let reason = body.slice(0, 200);
    try {
      const j = JSON.parse(body) as { reason?: unknown };
      if (typeof j.reason === 'string') reason = j.reason;
    } catch {
      // Not a Warden's JSON: the start of the body says what answered.
    }
    return { ok: false, reason: `HTTP ${res.status}${reason ? `: ${reason}` : ''}` };
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    return { ok: false, reason: cause instanceof Error ? cause.message : errorText(e) };
  }
}

export interface PeerWatcherDeps {
  clock: Clock;
  peers: () => PeerSpec[];
  onChange: (e: PeerEvent) => void;
  log: (line: string) => void;
  /** How a peer is probed (tests give a scripted one); default probePeer. */
  probe?: (p: PeerSpec, signal: AbortSignal) => Promise<PeerVerdict>;
}

export class PeerWatcher {
  private readonly state = new Map<string, PeerState>();
  private readonly timers = new Map<string, TimerHandle>();
  private readonly running = new Map<string, { ac: AbortController; done: Promise<void> }>();
  private stopped = true;

  constructor(private readonly deps: PeerWatcherDeps) {}

  /** Start (or, after a reload, restart) watching every configured peer. */
  start(): void {
    this.stop();
    this.stopped = false;
    const peers = this.deps.peers();
    const names = new Set(peers.map((p) => p.name));
    for (const name of this.state.keys()) if (!names.has(name)) this.state.delete(name);
    for (const p of peers) {
      const s = this.state.get(p.name);
      if (!s || s.url !== p.url) this.state.set(p.name, { name: p.name, url: p.url, reachable: null, since: null, failures: 0, reason: null });
      this.schedule(p);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) this.deps.clock.clearTimeout(t);
    for (const r of this.running.values()) r.ac.abort();
    this.timers.clear();
  }

  states(): PeerState[] {
    return [...this.state.values()];
  }

  /** Every probe under way has ended (tests; stop). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private schedule(p: PeerSpec): void {
    this.timers.set(p.name, this.deps.clock.setTimeout(() => this.probe(p), p.intervalMs));
  }

  private probe(p: PeerSpec): void {
    if (this.stopped) return;
    // One at a time: a probe still under way (its timeout is at most the interval's business) is waited for.
    if (this.running.has(p.name)) { this.schedule(p); return; }
    const ac = new AbortController();
    const done = (this.deps.probe ?? probePeer)(p, ac.signal).then((v) => {
      if (ac.signal.aborted) return;
      const prev = this.state.get(p.name);
      if (!prev) return;
      const r = nextPeerState(prev, v, p.failures, this.deps.clock.now());
      this.state.set(p.name, r.state);
      if (r.event || r.state.reachable !== prev.reachable) this.deps.onChange({ kind: r.event, peer: r.state });
    }).catch((e: unknown) => this.deps.log(`peer ${p.name}: ${errorText(e)}`))
      .finally(() => { this.running.delete(p.name); });
    this.running.set(p.name, { ac, done });
    this.schedule(p);
  }
}
