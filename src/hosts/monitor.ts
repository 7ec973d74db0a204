// Probes every host Warden reaches over SSH on its own interval: a TCP connect to its SSH port
// from here, then one SSH round trip that reads boot id, load, memory, disks and clock. Two
// failures in a row make the host unreachable; then, before blaming it, the other managed hosts
// are asked over their own sessions whether they reach it (medik8s-style): if one does, the
// problem is Warden's own path (`partitioned`); if none does, the host is `offline`.
import { connect } from 'node:net';
import type { HostFacts, SshHostSpec } from '../domain/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Transport } from '../transport/transport.js';
import { SshTransport } from '../transport/ssh.js';
import { clockOffset, parseReading, readingArgv } from './reading.js';

/** Failed round trips in a row before a host counts as unreachable (one lost packet is not an outage). */
export const HOST_FAILURES = 2;
/** After a first failure, look again this soon rather than a whole interval later. */
const RETRY_MS = 300;
/** How long a peer is given to connect to the host's SSH port. */
const PEER_TIMEOUT_S = 2;

export interface HostMonitorOptions {
  clock: Clock;
  transport: (host: string) => Transport;
  /** Reachability or verdict changed: wake the loop. */
  onChange: (host: string) => void;
  /**
   * The host's boot id differs from the last one seen (kept across Warden's restarts by the
   * caller): a reboot, or with `from` null the first boot id ever seen, to remember.
   */
  onBoot: (host: string, from: string | null, to: string) => void;
  /** The boot id last seen, from before this run, or null. */
  lastBoot: (host: string) => string | null;
  /** Why the host is expected to be down now (Warden's own reboot of it runs), or null. */
  rebooting?: (host: string) => string | null;
  /** Every new reading or verdict (for status and debug); `changed`: reachability, verdict or boot id moved. */
  onFacts?: (host: string, facts: HostFacts, changed: boolean) => void;
  log: (line: string) => void;
}

interface Watch {
  spec: SshHostSpec;
  facts: HostFacts | null;
  failures: number;
  timer: TimerHandle | undefined;
  running: Promise<void> | null;
  target: { hostname: string; port: number; proxyJump: string | null } | null;
}

export class HostMonitor {
  private readonly watches = new Map<string, Watch>();
  private stopped = true;

  constructor(private readonly opts: HostMonitorOptions) {}

  setHosts(hosts: readonly SshHostSpec[]): void {
    const wanted = new Map(hosts.map((h) => [h.name, h]));
    for (const [name, w] of this.watches) {
      if (JSON.stringify(wanted.get(name)) !== JSON.stringify(w.spec)) { this.opts.clock.clearTimeout(w.timer); this.watches.delete(name); }
    }
    for (const h of hosts) {
      if (this.watches.has(h.name)) continue;
      this.watches.set(h.name, { spec: h, facts: null, failures: 0, timer: undefined, running: null, target: null });
      if (!this.stopped) void this.launch(h.name);
    }
  }

  /** Starts every host's probe loop; resolves when each host has been read once. */
  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all([...this.watches.keys()].map((name) => this.launch(name)));
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches.values()) this.opts.clock.clearTimeout(w.timer);
  }

  snapshot(): Record<string, HostFacts> {
    const out: Record<string, HostFacts> = {};
    for (const [name, w] of this.watches) if (w.facts !== null) out[name] = w.facts;
    return out;
  }

  /** One round for `host` now (tests, and the first round at start). */
  probeNow(host: string): Promise<void> {
    const w = this.watches.get(host);
    if (w === undefined) return Promise.resolve();
    w.running ??= this.round(w).finally(() => { w.running = null; });
    return w.running;
  }

  private launch(name: string): Promise<void> {
    const tick = async (): Promise<void> => {
      const w = this.watches.get(name);
      if (w === undefined || this.stopped) return;
      await this.probeNow(name);
      if (this.stopped || this.watches.get(name) !== w) return;
      const next = w.failures > 0 && w.failures < HOST_FAILURES ? Math.min(RETRY_MS, w.spec.intervalMs) : w.spec.intervalMs;
      w.timer = this.opts.clock.setTimeout(() => void tick(), next);
    };
    return tick();
  }

  private async round(w: Watch): Promise<void> {
    const t = this.opts.transport(w.spec.name);
    w.target ??= t instanceof SshTransport ? await t.effective() : { hostname: w.spec.address, port: w.spec.port ?? 22, proxyJump: null };
    const tcp = w.target.proxyJump !== null ? `not checked: reached through ProxyJump ${w.target.proxyJump}` : await tcpCheck(w.target.hostname, w.target.port, w.spec.connectTimeoutMs);
    const sentAt = this.opts.clock.now();
    const m0 = this.opts.clock.mono();
    const r = await t.run(readingArgv(w.spec.mounts), { timeoutMs: w.spec.connectTimeoutMs + 2000 });
    const rtt = Math.round(this.opts.clock.mono() - m0);
    const reading = r.code === 0 ? parseReading(r.stdout, w.spec.mounts) : null;
    const before = w.facts;
    if (reading !== null) {
      w.failures = 0;
      const prevBoot = before?.bootId ?? this.opts.lastBoot(w.spec.name);
      if (reading.bootId !== undefined && prevBoot !== reading.bootId) this.opts.onBoot(w.spec.name, prevBoot, reading.bootId);
      const { clockNs, ...rest } = reading;
      w.facts = { at: this.opts.clock.now(), reachable: true, reason: `answered in ${rtt} ms`, tcp, ...rest, clockOffsetMs: clockOffset(clockNs, sentAt, this.opts.clock.now()), rttMs: rtt };
    } else {
      w.failures++;
      const why = r.unreachable?.message ?? (r.code === null ? `no answer over SSH: ${lastLine(r.stderr)}` : `the reading failed (exit ${r.code}): ${lastLine(r.stderr)}`);
      if (w.failures < HOST_FAILURES) return;
      const refused = r.unreachable !== undefined && r.unreachable.code !== 'HOST_UNREACHABLE' && r.unreachable.code !== 'SSH_FAILED';
      const rebooting = this.opts.rebooting?.(w.spec.name) ?? null;
      if (rebooting !== null && !refused) {
        // Down because Warden rebooted it: the reboot action waits for it; nobody needs asking.
        w.facts = { at: this.opts.clock.now(), reachable: false, verdict: 'rebooting', reason: `${rebooting} (${why})`, tcp, ...(before?.bootId !== undefined ? { bootId: before.bootId } : {}) };
      } else if (refused) {
        w.facts = { at: this.opts.clock.now(), reachable: false, verdict: 'refused', reason: why, tcp };
      } else {
        const peers = await this.askPeers(w);
        // A refused connection is an answer from the host's own address: Warden's path to it works,
        // whatever a peer asked a moment later says (a host booting again opens its SSH port
        // between Warden's attempt and a peer's, which once read as a partition of a powered-off host).
        const by = refusedByHost(tcp) ? [] : peers.filter((p) => p.reaches === true).map((p) => p.host);
        const verdict = by.length > 0 ? 'partitioned' : 'offline';
        const reason = by.length > 0
          ? `Warden cannot reach ${w.spec.name} (${why}), but ${by.join(', ')} ${by.length === 1 ? 'does' : 'do'}: the fault is on Warden's path`
          : `${w.spec.name} does not answer (${why}) and ${peers.length === 0 ? 'no other managed host could be asked' : `no managed host reaches it (${peers.map((p) => `${p.host}: ${p.detail}`).join('; ')})`}`;
        w.facts = { at: this.opts.clock.now(), reachable: false, verdict, reason, tcp, peers, ...(before?.bootId !== undefined ? { bootId: before.bootId } : {}) };
      }
    }
    const moved = before === null || before.reachable !== w.facts.reachable || before.verdict !== w.facts.verdict;
    this.opts.onFacts?.(w.spec.name, w.facts, moved || before.bootId !== w.facts.bootId);
    if (moved) {
      this.opts.log(`host ${w.spec.name}: ${w.facts.reachable ? 'reachable' : `${w.facts.verdict ?? 'unreachable'}: ${w.facts.reason}`}`);
      this.opts.onChange(w.spec.name);
    }
  }

  /** Each other host Warden reaches now, asked over its own session to connect to this one's SSH port. */
  private async askPeers(w: Watch): Promise<NonNullable<HostFacts['peers']>> {
    const target = w.target!;
    const peers = [...this.watches.values()].filter((p) => p !== w && p.facts?.reachable === true);
    return Promise.all(peers.map(async (p) => {
      const r = await this.opts.transport(p.spec.name).run(
        ['timeout', String(PEER_TIMEOUT_S), 'bash', '-c', 'exec 3<>"/dev/tcp/$1/$2"', 'bash', target.hostname, String(target.port)],
        { timeoutMs: (PEER_TIMEOUT_S + 3) * 1000 },
      );
      if (r.code === 0) return { host: p.spec.name, reaches: true, detail: `connected to ${target.hostname}:${target.port}` };
      if (r.code === null || r.unreachable !== undefined) return { host: p.spec.name, reaches: null, detail: `could not ask: ${r.unreachable?.message ?? lastLine(r.stderr)}` };
      return { host: p.spec.name, reaches: false, detail: r.code === 124 ? `timed out after ${PEER_TIMEOUT_S} s` : lastLine(r.stderr).replace(/^bash: (line \d+: )?/, '') || `exit ${r.code}` };
    }));
  }
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter((l) => l.trim() !== '').slice(-1)[0] ?? '';
}

/** Whether tcpCheck's answer was a refusal, which only a live network stack at the address sends. */
export function refusedByHost(tcp: string): boolean {
  return tcp.includes('ECONNREFUSED');
}

/** Connect to host:port from Warden's machine: the first half of "reachable". */
export function tcpCheck(host: string, port: number, timeoutMs: number): Promise<string> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (msg: string): void => { clearTimeout(timer); s.destroy(); resolve(msg); };
    const timer = setTimeout(() => done(`${host}:${port}: timed out after ${timeoutMs} ms`), timeoutMs);
    s.once('connect', () => done(`${host}:${port}: connected in ${Math.round(performance.now() - t0)} ms`));
    s.once('error', (e) => done(`${host}:${port}: ${e.message}`));
  });
}
