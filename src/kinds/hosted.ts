// One driver per host for the kinds that work on any host (systemd, container, pod): each host's
// driver runs its commands through that host's transport and polls on its own, so a host that does
// not answer leaves the others' observations current. This is the fan-out they share; each kind
// says which services are its own and how to make one host's driver.
import type { ProcessState, ServiceSpec } from '../domain/types.js';
import type { Transport } from '../transport/transport.js';
import type { ActOptions, ServiceDriver } from './driver.js';

/** What a one-host driver offers beyond ServiceDriver: its services, polling and lifetime. */
export interface HostDriver extends ServiceDriver {
  setServices(specs: readonly ServiceSpec[]): void;
  hasServices?(): boolean;
  startPolling(): Promise<void>;
  refresh(): Promise<void>;
  dispose(): void;
}

/** An error of a remote host's driver names the host; Warden's own host's errors read as they are. */
export function hostError(host: string, t: Transport, onError: (e: unknown) => void): (e: unknown) => void {
  return (e) => onError(t.kind === 'local' ? e : new Error(`host ${host}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
}

export abstract class PerHostDriver<D extends HostDriver> implements ServiceDriver {
  private readonly byHost = new Map<string, { t: Transport; d: D }>();
  private polling = false;

  protected constructor(private readonly transport: (host: string) => Transport) {}

  /** Whether the service is of this driver's kinds. */
  protected abstract mine(spec: ServiceSpec): boolean;
  /** The driver of one host, reached through `t`. */
  protected abstract make(host: string, t: Transport): D;

  setServices(specs: readonly ServiceSpec[]): void {
    const mine = specs.filter((s) => this.mine(s));
    const hosts = new Set(mine.map((s) => s.host));
    for (const [host, x] of this.byHost) {
      // Gone from the inventory, or reached another way since the reload.
      if (!hosts.has(host) || x.t !== this.transport(host)) { x.d.dispose(); this.byHost.delete(host); }
    }
    for (const host of hosts) {
      const d = this.driverOf(host);
      d.setServices(mine.filter((s) => s.host === host));
      if (this.polling) void d.startPolling();
    }
  }

  hasServices(): boolean {
    return [...this.byHost.values()].some((x) => x.d.hasServices?.() ?? true);
  }

  /** Resolves once every host has been looked at once (a host that does not answer, after its timeout). */
  async startPolling(): Promise<void> {
    this.polling = true;
    await Promise.all([...this.byHost.values()].map((x) => x.d.startPolling()));
  }

  async refresh(): Promise<void> {
    await Promise.all([...this.byHost.values()].map((x) => x.d.refresh()));
  }

  dispose(): void {
    for (const x of this.byHost.values()) x.d.dispose();
    this.byHost.clear();
  }

  state(spec: ServiceSpec): ProcessState {
    return this.driverOf(spec.host).state(spec);
  }

  start(spec: ServiceSpec, opts?: ActOptions): Promise<{ pid: number | null }> {
    return this.driverOf(spec.host).start(spec, opts);
  }

  stop(spec: ServiceSpec, opts?: ActOptions): Promise<void> {
    return this.driverOf(spec.host).stop(spec, opts);
  }

  restart(spec: ServiceSpec, opts?: ActOptions): Promise<{ pid: number | null }> {
    return this.driverOf(spec.host).restart(spec, opts);
  }

  logTail(spec: ServiceSpec, lines: number): string[] {
    return this.driverOf(spec.host).logTail(spec, lines);
  }

  protected driverOf(host: string): D {
    const cur = this.byHost.get(host);
    if (cur !== undefined) return cur.d;
    const t = this.transport(host);
    const d = this.make(host, t);
    this.byHost.set(host, { t, d });
    return d;
  }
}
