// kind systemd on every host: one SystemdDriver per host, its systemctl and journalctl run through
// that host's transport (the local one for Warden's own machine, ssh for the others). Each host
// polls on its own, so a host that does not answer leaves the others' observations current.
import type { ProcessState, ServiceSpec } from '../../domain/types.js';
import { readProcStat } from '../../lib/proc.js';
import { asRoot } from '../../transport/root.js';
import type { Transport } from '../../transport/transport.js';
import type { ActOptions, ServiceDriver } from '../driver.js';
import { binary, type CommandRunner } from './command.js';
import { SystemdDriver, type SystemdDriverOptions } from './driver.js';

/** C locale and UTC: output is parsed; no pager, no colour, no prompt to hang on. */
const SYSTEMD_ENV = { LC_ALL: 'C', TZ: 'UTC', SYSTEMD_PAGER: 'cat', SYSTEMD_COLORS: '0', SYSTEMD_LESS: '' };

/** The systemctl verbs that change a unit: on a remote host, run as root (sudo for a restricted account). */
const CHANGES = new Set(['start', 'stop', 'restart']);

/** systemctl or journalctl on the host, through its transport; an unreachable host says so in stderr. */
export function transportRunner(t: Transport, name: 'systemctl' | 'journalctl'): CommandRunner {
  const file = t.kind === 'local' ? binary(name) : name;
  return async (args, { timeoutMs }) => {
    const argv = [file, ...args];
    // Warden's own host keeps running as Warden's user: the host it runs on is its own to set up.
    const r = await t.run(t.kind === 'ssh' && CHANGES.has(args[0] ?? '') ? asRoot(argv) : argv, { timeoutMs, env: SYSTEMD_ENV });
    return { code: r.code, stdout: r.stdout, stderr: r.unreachable?.message ?? r.stderr };
  };
}

export type HostedSystemdOptions = Omit<SystemdDriverOptions, 'systemctl' | 'journalctl' | 'procState'> & {
  transport: (host: string) => Transport;
};

export class HostedSystemdDriver implements ServiceDriver {
  private readonly byHost = new Map<string, { t: Transport; d: SystemdDriver }>();
  private polling = false;

  constructor(private readonly opts: HostedSystemdOptions) {}

  setServices(specs: readonly ServiceSpec[]): void {
    const units = specs.filter((s) => s.kind === 'systemd');
    const hosts = new Set(units.map((s) => s.host));
    for (const [host, x] of this.byHost) {
      // Gone from the inventory, or reached another way since the reload.
      if (!hosts.has(host) || x.t !== this.opts.transport(host)) { x.d.dispose(); this.byHost.delete(host); }
    }
    for (const host of hosts) {
      const d = this.driverOf(host);
      d.setServices(units.filter((s) => s.host === host));
      if (this.polling) void d.startPolling();
    }
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

  refreshLogs(spec: ServiceSpec): Promise<string[]> {
    return this.driverOf(spec.host).refreshLogs(spec);
  }

  private driverOf(host: string): SystemdDriver {
    const cur = this.byHost.get(host);
    if (cur !== undefined) return cur.d;
    const t = this.opts.transport(host);
    const onError = this.opts.onError;
    const d = new SystemdDriver({
      ...this.opts,
      systemctl: transportRunner(t, 'systemctl'),
      journalctl: transportRunner(t, 'journalctl'),
      // A pid of another machine is not in this machine's /proc.
      procState: t.kind === 'local' ? (pid) => readProcStat(pid)?.state ?? null : () => null,
      ...(onError ? { onError: (e: unknown) => onError(t.kind === 'local' ? e : new Error(`host ${host}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })) } : {}),
    });
    this.byHost.set(host, { t, d });
    return d;
  }
}
