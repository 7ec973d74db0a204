// warden lab fleet up|down|status: three SSH hosts in systemd-nspawn containers to point Warden at.
import type { Command } from 'commander';
import { fleetDown, fleetStatus, fleetUp, holdFleetLab, type FleetState, type FleetStatus } from '../lab/fleet/holder.js';

export function registerLab(program: Command): void {
  const lab = program.command('lab')
    .description('labs of real machines to try Warden on (root, Linux)');
  const fleet = lab.command('fleet')
    .description('three hosts (a, b, c) as systemd-nspawn containers, each with sshd and a systemd unit, reached over real SSH')
    .addHelpText('after', `
Each host boots the cached Debian image (built once, a few minutes) in its own network namespace on a
private bridge; this machine is the bridge's .1, where Warden runs. The lab's SSH key and known_hosts
are in the lab's directory (see status), so nothing in ~/.ssh changes. The lab stays up until
"warden lab fleet down" or a reboot of this machine.

Examples:
  sudo warden lab fleet up        # prints the hosts: lines to paste into warden.yaml
  sudo warden lab fleet status --json
  sudo warden lab fleet down`);

  fleet.command('up')
    .description('bring the fleet lab up (does nothing if it is up already)')
    .option('--json', 'print the lab as JSON')
    .action(async (o: { json?: boolean }) => {
      const { state, created } = await fleetUp();
      if (o.json) { process.stdout.write(`${JSON.stringify(state, null, 2)}\n`); return; }
      process.stdout.write(`${created ? 'fleet lab is up' : 'fleet lab was already up'}: ${state.id}, hosts ${state.hosts.map((h) => `${h.name} ${h.ip}`).join(', ')}\n`);
      process.stdout.write(`\nhosts: lines for warden.yaml (unit ${state.unit} runs on each):\n${hostsYaml(state)}\n`);
    });

  fleet.command('down')
    .description('power the hosts off and remove the lab (its network, keys and record); does nothing if none is up')
    .action(async () => {
      process.stdout.write(await fleetDown() ? 'fleet lab removed\n' : 'no fleet lab is up\n');
    });

  fleet.command('status')
    .description('whether the lab is up and, per host, whether it answers over SSH, its boot id and its unit')
    .option('--json', 'print the status as JSON')
    .action(async (o: { json?: boolean }) => {
      const s = await fleetStatus();
      process.stdout.write(o.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
    });

  // The holder process that `up` starts; not for people.
  fleet.command('hold', { hidden: true }).action(() => holdFleetLab());
  // runCli makes two levels of commands throw instead of exiting; these are the third.
  for (const c of fleet.commands) c.exitOverride();
}

/** The hosts: entries that point Warden at the lab with its own key and known_hosts. */
export function hostsYaml(s: FleetState): string {
  return s.hosts.map((h) => `  - { name: ${h.name}, transport: ssh, address: ${h.ip}, user: root, identityFile: ${s.identityFile}, knownHostsFile: ${s.knownHostsFile} }`).join('\n');
}

function formatStatus(s: FleetStatus): string {
  if (s.lab === null) return 'no fleet lab is up (warden lab fleet up)\n';
  if (s.stale) return `fleet lab ${s.lab.id}: its holder died; "warden lab fleet down" removes what is left\n`;
  const rows = s.hosts.map((h) => `  ${h.name.padEnd(3)} ${h.ip.padEnd(15)} ${h.reachable ? `up    boot ${h.bootId} unit ${h.unit}` : `DOWN  ${h.detail}`}${h.cut ? ' (Warden\'s link cut)' : ''}`);
  return `fleet lab ${s.lab.id} up since ${s.lab.createdAt}; key ${s.lab.identityFile}\n${rows.join('\n')}\n`;
}
