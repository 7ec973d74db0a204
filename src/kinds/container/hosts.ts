// kinds container and pod on every host: one PodmanDriver per host, its podman (and dmesg) run
// through that host's transport — as Warden's children on Warden's own machine, over SSH on the
// others — so a host that does not answer leaves the others' observations current. Podman runs as
// the account Warden reaches the host with (rootful as root, rootless otherwise: docs/fleet.md).
import type { ProcessState, ServiceSpec } from '../../domain/types.js';
import type { Transport } from '../../transport/transport.js';
import type { ActOptions, ServiceDriver } from '../driver.js';
import { PodmanDriver, isPodman, type PodmanDriverOptions } from './driver.js';
import { localExec, type Exec } from './exec.js';
import type { PodJson } from '../../runtime/pod.js';

/** C locale and UTC: podman's output is parsed. */
const PODMAN_ENV = { LC_ALL: 'C', TZ: 'UTC' };

/** podman and friends on a host through its transport; an unreachable host says so in stderr. */
export function transportExec(t: Transport): Exec {
  return async (argv, { timeoutMs, signal }) => {
    const r = await t.run(argv, { timeoutMs, env: PODMAN_ENV, ...(signal ? { signal } : {}) });
    return { code: r.code, stdout: r.stdout, stderr: r.unreachable?.message ?? r.stderr };
  };
}

export type HostedPodmanOptions = Omit<PodmanDriverOptions, 'exec'> & {
  transport: (host: string) => Transport;
};

export class HostedPodmanDriver implements ServiceDriver {
  private readonly byHost = new Map<string, { t: Transport; d: PodmanDriver }>();
  private polling = false;

  constructor(private readonly opts: HostedPodmanOptions) {}

  setServices(specs: readonly ServiceSpec[]): void {
    const mine = specs.filter(isPodman);
    const hosts = new Set(mine.map((s) => s.host));
    for (const [host, x] of this.byHost) {
      // Gone from the inventory, or reached another way since the reload.
      if (!hosts.has(host) || x.t !== this.opts.transport(host)) { x.d.dispose(); this.byHost.delete(host); }
    }
    for (const host of hosts) {
      const d = this.driverOf(host);
      d.setServices(mine.filter((s) => s.host === host));
      if (this.polling) void d.startPolling();
    }
  }

  hasServices(): boolean {
    return [...this.byHost.values()].some((x) => x.d.hasServices());
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

  refreshLogs(spec: ServiceSpec): Promise<void> {
    return this.driverOf(spec.host).refreshLogs(spec);
  }

  podJson(spec: ServiceSpec, proc: ProcessState, lines: number): PodJson | null {
    return isPodman(spec) ? this.driverOf(spec.host).podJson(spec, proc, lines) : null;
  }

  private driverOf(host: string): PodmanDriver {
    const cur = this.byHost.get(host);
    if (cur !== undefined) return cur.d;
    const t = this.opts.transport(host);
    const onError = this.opts.onError;
    // Warden's own host keeps podman as its child in Warden's work directory (where conmon drops
    // its oom file); on another host podman runs in the account's home.
    const local = t.kind === 'local';
    const { workDir, ...rest } = this.opts;
    const d = new PodmanDriver({
      ...rest,
      ...(local && workDir !== undefined ? { workDir } : {}),
      exec: local ? localExec : transportExec(t),
      ...(onError ? { onError: (e: unknown) => onError(local ? e : new Error(`host ${host}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })) } : {}),
    });
    this.byHost.set(host, { t, d });
    return d;
  }
}
