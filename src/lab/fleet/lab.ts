// The fleet lab: three hosts as systemd-nspawn containers booted from the cached Debian image with
// openssh-server added, each in its own network namespace on one bridge (the etcd lab's network
// code, src/subjects/etcd/labnet.ts), each with sshd, its own host key and a systemd service.
// Warden runs on the machine itself, at the bridge's .1, and reaches them over real SSH with a key
// made for the lab; the key and known_hosts live in the lab's directory, nothing touches ~/.ssh.
// Warden's own link to a host is cut with a blackhole route on this machine: the hosts still
// reach each other over the bridge. The system tests, `warden demo fleet` and `warden lab fleet`
// (through a holder process, ./holder.ts) all use this one class.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildNetwork, labNames, LabError, newLabId, ownerOfThisProcess, removeLab, subnetFor, subnetInUse, writeRecord, must, type LabNames, type Subnet,
} from '../../subjects/etcd/labnet.js';
import { Container } from '../container.js';
import { haveTool, HOST_TOOLS, log, runOk } from '../host.js';
import { ensureRootfs } from '../rootfs.js';
import { keygen } from './keys.js';

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

/** Tools the fleet lab needs besides the container harness's, with the Debian package of each. */
const FLEET_TOOLS: readonly (readonly [bin: string, pkg: string])[] = [
  ['ip', 'iproute2'], ['ssh', 'openssh-client'], ['ssh-keygen', 'openssh-client'],
];

/** Why this machine cannot run the fleet lab (empty when it can). */
export function fleetProblems(uid = process.getuid?.(), have: (bin: string) => boolean = haveTool): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`the platform is ${process.platform}, not linux`);
  if (uid !== 0) problems.push('not running as root (systemd-nspawn, network namespaces and routes need root): run it with sudo');
  const missing = [...HOST_TOOLS, ...FLEET_TOOLS].filter(([bin]) => !have(bin));
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
  if (missing.length > 0) problems.push(`missing ${missing.map(([bin]) => bin).join(', ')}: apt-get install ${pkgs.join(' ')} (or run \`npm run setup\` as root)`);
  return problems;
}

/** Throws LAB_UNSUPPORTED saying everything that is missing at once. */
export function assertFleetReady(): void {
  const problems = fleetProblems();
  if (problems.length > 0) throw new LabError('LAB_UNSUPPORTED', `the fleet lab cannot run here: ${problems.join('; ')}`);
}

export interface FleetUpOptions {
  /** Host names, one container each; default a, b, c. */
  hosts?: readonly string[];
  /** Where the lab's directory (keys, known_hosts) is made; default the system's temporary directory. */
  parent?: string;
}

export interface FleetHost {
  name: string;
  ip: string;
  netns: string;
  ct: Container;
}

/** What anyone may know of a running lab (the holder's state file, `warden lab fleet status`). */
export interface FleetLabInfo {
  id: string;
  dir: string;
  subnet: string;
  wardenIp: string;
  identityFile: string;
  knownHostsFile: string;
  unit: string;
  hosts: { name: string; ip: string; netns: string; machine: string }[];
}

export const WORK_UNIT = 'work.service';

export class FleetLab {
  private readonly cut = new Set<string>();
  /** What each host's container is booted with, so a host powered off can be powered on again. */
  private readonly boots = new Map<string, () => Promise<Container>>();

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

  static async up(opts: FleetUpOptions = {}): Promise<FleetLab> {
    const hostNames = opts.hosts ?? ['a', 'b', 'c'];
    assertFleetReady();
    const image = await ensureFleetImage();
    let id = newLabId();
    for (let tries = 0; await subnetInUse(subnetFor(id)); tries++) {
      if (tries > 20) throw new LabError('LAB_UNSUPPORTED', 'no free /24 in 10.200.0.0/10 for the fleet lab: remove old labs (warden lab fleet down) or free some addresses');
      id = newLabId();
    }
    const subnet = subnetFor(id);
    const names = labNames(id);
    const dir = mkdtempSync(join(opts.parent ?? tmpdir(), `wde-${id}-fleet-`));
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
        const boot = async (): Promise<Container> => {
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
          await ct.execOk(['systemctl', 'enable', '--now', WORK_UNIT]);
          await ct.execOk(['systemctl', 'is-active', 'ssh.service']);
          return ct;
        };
        lab.boots.set(name, boot);
        hosts.push({ name, ip, netns: names.netns(i), ct: await boot() });
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

  /** The facts a holder publishes and `status` shows. */
  info(): FleetLabInfo {
    return {
      id: this.id, dir: this.dir, subnet: this.subnet.cidr, wardenIp: this.subnet.hostIp,
      identityFile: this.identityFile, knownHostsFile: this.knownHostsFile, unit: WORK_UNIT,
      hosts: this.hosts.map((h) => ({ name: h.name, ip: h.ip, netns: h.netns, machine: h.ct.name })),
    };
  }

  /** Pulls the host's plug: everything on it dies at once (its disk is thrown away, as a reinstalled host's). */
  async powerOff(name: string): Promise<void> {
    await this.host(name).ct.stop({ cut: true });
  }

  /** Boots a host that was powered off, in its namespace, with its host key and service. */
  async powerOn(name: string): Promise<void> {
    const h = this.host(name);
    const boot = this.boots.get(name);
    if (boot === undefined) throw new LabError('LAB_COMMAND_FAILED', `no way to boot fleet host ${name}`);
    h.ct = await boot();
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
