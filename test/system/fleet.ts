// The fleet lab: three hosts as systemd-nspawn containers booted from the cached Debian image with
// openssh-server added, each in its own network namespace on one bridge (the etcd lab's network
// code, src/subjects/etcd/labnet.ts), each with sshd, its own host key and a systemd service.
// Warden runs on the machine itself, at the bridge's .1, and reaches them over real SSH with a key
// made for the lab. Warden's own link to a host is cut with a blackhole route on this machine:
// the hosts still reach each other over the bridge.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildNetwork, labNames, newLabId, ownerOfThisProcess, removeLab, subnetFor, subnetInUse, writeRecord, must, type LabNames, type Subnet,
} from '../../src/subjects/etcd/labnet.js';
import { keygen } from '../../src/testing/sshd.js';
import { Container, ensureRootfs } from './container.js';
import { log, runOk } from './host.js';

/** What the fleet image adds to the cached root file system. */
const FLEET_PACKAGES = ['openssh-server'];
const FLEET_REVISION = 1;

/**
 * The cached image with openssh-server, built once beside the root file system (apt-get inside a
 * chroot of a copy: idempotent, a few seconds). Host keys are removed: each host gets its own.
 */
export async function ensureFleetImage(): Promise<string> {
  const rootfs = await ensureRootfs();
  const final = `${rootfs}-fleet${FLEET_REVISION}`;
  if (existsSync(join(final, 'usr/sbin/sshd'))) return final;
  const tmp = `${final}.build-${process.pid}-${randomBytes(3).toString('hex')}`;
  log(`building the fleet image ${final} (apt-get install ${FLEET_PACKAGES.join(' ')} in a chroot)`);
  try {
    await runOk('cp', ['-a', '--reflink=auto', '--', rootfs, tmp]);
    writeFileSync(join(tmp, 'etc/resolv.conf'), readFileSync('/etc/resolv.conf'));
    // No service starts inside the chroot (policy-rc.d 101: "action forbidden").
    writeFileSync(join(tmp, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    const script = 'mount -t proc proc "$1/proc" && chroot "$1" apt-get update -qq && chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2"';
    await runOk('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', tmp, ...FLEET_PACKAGES], { timeoutMs: 10 * 60_000 });
    await runOk('sh', ['-c', 'rm -f "$1"/etc/ssh/ssh_host_* "$1"/usr/sbin/policy-rc.d "$1"/etc/resolv.conf; rm -rf "$1"/var/lib/apt/lists/*', 'sh', tmp]);
    try {
      renameSync(tmp, final);
    } catch (e) {
      if (!existsSync(join(final, 'usr/sbin/sshd'))) throw e; // another process built it meanwhile
      rmSync(tmp, { recursive: true, force: true });
    }
    return final;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export interface FleetHost {
  name: string;
  ip: string;
  netns: string;
  ct: Container;
}

export const WORK_UNIT = 'work.service';

export class FleetLab {
  private readonly cut = new Set<string>();

  private constructor(
    readonly id: string,
    readonly dir: string,
    readonly names: LabNames,
    readonly subnet: Subnet,
    readonly hosts: FleetHost[],
  ) {}

  get identityFile(): string { return join(this.dir, 'id_ed25519'); }
  get knownHostsFile(): string { return join(this.dir, 'known_hosts'); }

  host(name: string): FleetHost {
    const h = this.hosts.find((x) => x.name === name);
    if (h === undefined) throw new Error(`no fleet host ${name}`);
    return h;
  }

  static async up(hostNames: readonly string[] = ['a', 'b', 'c']): Promise<FleetLab> {
    const image = await ensureFleetImage();
    let id = newLabId();
    for (let tries = 0; await subnetInUse(subnetFor(id)); tries++) {
      if (tries > 20) throw new Error('no free /24 for the fleet lab');
      id = newLabId();
    }
    const subnet = subnetFor(id);
    const names = labNames(id);
    const dir = mkdtempSync(join(tmpdir(), `wde-${id}-fleet-`));
    writeRecord({ id, owner: ownerOfThisProcess(), dir, ownDir: true, subnet: subnet.cidr, createdAt: new Date().toISOString() });
    const hosts: FleetHost[] = [];
    const lab = new FleetLab(id, dir, names, subnet, hosts);
    try {
      await buildNetwork(names, subnet, hostNames.length);
      keygen(lab.identityFile, 'warden-fleet-lab');
      const known: string[] = [];
      await Promise.all(hostNames.map(async (name, i) => {
        const ip = subnet.memberIp(i);
        const hostKey = join(dir, `host_${name}`);
        keygen(hostKey, name);
        known.push(`${ip} ${readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')}`);
        const ct = await Container.boot({
          rootfs: image,
          name: `wde-${id}-${name}`,
          nspawnArgs: [`--network-namespace-path=/run/netns/${names.netns(i)}`],
          files: [
            { path: '/etc/ssh/ssh_host_ed25519_key', content: readFileSync(hostKey, 'utf8'), mode: 0o600 },
            { path: '/etc/ssh/ssh_host_ed25519_key.pub', content: readFileSync(`${hostKey}.pub`, 'utf8') },
            { path: '/etc/ssh/sshd_config.d/10-lab.conf', content: 'HostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\nMaxStartups 64:30:128\n' },
            { path: '/root/.ssh/authorized_keys', content: readFileSync(`${lab.identityFile}.pub`, 'utf8'), mode: 0o600 },
            { path: `/etc/systemd/system/${WORK_UNIT}`, content: '[Unit]\nDescription=the fleet lab\'s service\n[Service]\nExecStart=/bin/sleep infinity\nRestart=no\n[Install]\nWantedBy=multi-user.target\n' },
          ],
        });
        hosts.push({ name, ip, netns: names.netns(i), ct });
        await ct.execOk(['systemctl', 'enable', '--now', WORK_UNIT]);
        await ct.execOk(['systemctl', 'is-active', 'ssh.service']);
      }));
      hosts.sort((a, b) => hostNames.indexOf(a.name) - hostNames.indexOf(b.name));
      writeFileSync(lab.knownHostsFile, known.join('\n') + '\n');
      return lab;
    } catch (e) {
      await lab.down();
      throw e;
    }
  }

  /** warden.yaml hosts: entries for the lab's hosts. */
  hostsYaml(connectTimeout = '2s', interval = '1s'): string {
    return this.hosts.map((h) => `  - { name: ${h.name}, transport: ssh, address: ${h.ip}, user: root, identityFile: ${this.identityFile}, knownHostsFile: ${this.knownHostsFile}, connectTimeout: ${connectTimeout}, interval: ${interval} }`).join('\n');
  }

  /** Warden's own link to the host is cut; the hosts still reach each other. */
  async cutWarden(name: string): Promise<void> {
    await must(['ip', 'route', 'add', 'blackhole', `${this.host(name).ip}/32`]);
    this.cut.add(name);
  }

  async healWarden(name: string): Promise<void> {
    if (!this.cut.delete(name)) return;
    await must(['ip', 'route', 'del', 'blackhole', `${this.host(name).ip}/32`]);
  }

  async down(): Promise<void> {
    for (const name of [...this.cut]) await this.healWarden(name).catch(() => undefined);
    await Promise.all(this.hosts.map((h) => h.ct.stop()));
    await removeLab(this.id);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
