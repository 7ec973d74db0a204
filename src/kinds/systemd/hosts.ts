// kind systemd on every host: one SystemdDriver per host (src/kinds/hosted.ts), its systemctl and
// journalctl run through that host's transport (the local one for Warden's own machine, ssh for
// the others).
import type { ServiceSpec } from '../../domain/types.js';
import { readProcStat } from '../../lib/proc.js';
import { asRoot } from '../../transport/root.js';
import type { Transport } from '../../transport/transport.js';
import { hostError, PerHostDriver } from '../hosted.js';
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

export class HostedSystemdDriver extends PerHostDriver<SystemdDriver> {
  constructor(private readonly opts: HostedSystemdOptions) {
    super(opts.transport);
  }

  protected mine(spec: ServiceSpec): boolean {
    return spec.kind === 'systemd';
  }

  refreshLogs(spec: ServiceSpec): Promise<string[]> {
    return this.driverOf(spec.host).refreshLogs(spec);
  }

  protected make(host: string, t: Transport): SystemdDriver {
    const { onError } = this.opts;
    return new SystemdDriver({
      ...this.opts,
      systemctl: transportRunner(t, 'systemctl'),
      journalctl: transportRunner(t, 'journalctl'),
      // A pid of another machine is not in this machine's /proc.
      procState: t.kind === 'local' ? (pid) => readProcStat(pid)?.state ?? null : () => null,
      ...(onError ? { onError: hostError(host, t, onError) } : {}),
    });
  }
}
