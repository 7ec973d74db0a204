// kinds container and pod on every host: one PodmanDriver per host (src/kinds/hosted.ts), its
// podman (and dmesg) run through that host's transport — as Warden's children on Warden's own
// machine, over SSH on the others. Podman runs as
// the account Warden reaches the host with (rootful as root, rootless otherwise: docs/fleet.md).
import type { ProcessState, ServiceSpec } from '../../domain/types.js';
import type { Transport } from '../../transport/transport.js';
import { hostError, PerHostDriver } from '../hosted.js';
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

export class HostedPodmanDriver extends PerHostDriver<PodmanDriver> {
  constructor(private readonly opts: HostedPodmanOptions) {
    super(opts.transport);
  }

  protected mine(spec: ServiceSpec): boolean {
    return isPodman(spec);
  }

  refreshLogs(spec: ServiceSpec): Promise<void> {
    return this.driverOf(spec.host).refreshLogs(spec);
  }

  podJson(spec: ServiceSpec, proc: ProcessState, lines: number): PodJson | null {
    return isPodman(spec) ? this.driverOf(spec.host).podJson(spec, proc, lines) : null;
  }

  protected make(host: string, t: Transport): PodmanDriver {
    const { onError } = this.opts;
    // Warden's own host keeps podman as its child in Warden's work directory (where conmon drops
    // its oom file); on another host podman runs in the account's home.
    const local = t.kind === 'local';
    const { workDir, transport: _transport, ...rest } = this.opts;
    return new PodmanDriver({
      ...rest,
      ...(local && workDir !== undefined ? { workDir } : {}),
      exec: local ? localExec : transportExec(t),
      ...(onError ? { onError: hostError(host, t, onError) } : {}),
    });
  }
}
