// One transport per host of the inventory, kept across passes (an SSH master stays warm) and
// replaced only when the host's own settings change on reload.
import { join } from 'node:path';
import type { HostSpec } from '../domain/types.js';
import { LocalTransport } from './local.js';
import { SshTransport } from './ssh.js';
import type { Transport } from './transport.js';

export type { RunOptions, RunResult, Transport } from './transport.js';
export { TransportError } from './transport.js';

/** The control sockets of SSH masters, under the data directory (it is private to Warden's user). */
export function controlDir(dataDir: string): string {
  return join(dataDir, 'ssh');
}

export function transportFor(spec: HostSpec, dataDir: string, onMaster?: (host: string, up: boolean, why: string) => void): Transport {
  if (spec.transport === 'local') return new LocalTransport(spec.name);
  return new SshTransport(spec, { controlDir: controlDir(dataDir), ...(onMaster ? { onMaster: (up, why) => onMaster(spec.name, up, why) } : {}) });
}

export class Transports {
  private readonly byHost = new Map<string, { key: string; t: Transport }>();

  constructor(private readonly dataDir: string, private readonly onMaster?: (host: string, up: boolean, why: string) => void) {}

  /** The inventory's hosts now: new ones get a transport, changed ones a new one, removed ones none. */
  set(hosts: readonly HostSpec[]): void {
    const wanted = new Map(hosts.map((h) => [h.name, h]));
    for (const [name, cur] of this.byHost) {
      const h = wanted.get(name);
      if (h === undefined || JSON.stringify(h) !== cur.key) {
        void cur.t.close();
        this.byHost.delete(name);
      }
    }
    for (const h of hosts) if (!this.byHost.has(h.name)) this.byHost.set(h.name, { key: JSON.stringify(h), t: transportFor(h, this.dataDir, this.onMaster) });
  }

  /** The host's transport; a host the inventory does not name is Warden's own (the default `local`). */
  get(host: string): Transport {
    return this.byHost.get(host)?.t ?? this.local(host);
  }

  private local(host: string): Transport {
    const t = new LocalTransport(host);
    this.byHost.set(host, { key: JSON.stringify({ name: host, transport: 'local' }), t });
    return t;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.byHost.values()].map((x) => x.t.close()));
    this.byHost.clear();
  }
}
