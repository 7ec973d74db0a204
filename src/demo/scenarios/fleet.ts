// `warden demo fleet`: three hosts (a, b, c) in systemd-nspawn containers reached over real SSH
// (src/lab/fleet/), each running work.service. Warden runs here, outside all three, and must tell
// a unit that died (restart it over SSH) from a host that is off (one node_offline ticket, its
// services unknown, nothing done) from its own path being cut while the other hosts still reach
// the host (network_partition, nothing done to the host). The host tickets resolve when the host
// answers again. Needs root; the lab says what else is missing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetLab, WORK_UNIT } from '../../lab/fleet/lab.js';
import type { Scenario, Stage } from '../demo.js';

type FleetStage = Stage & { lab: FleetLab };

/** The warden.yaml: the lab's hosts over SSH, one systemd unit on each, restarts allowed. */
export function fleetConfig(dir: string, lab: FleetLab): string {
  return `# Generated for warden demo fleet.
version: 1
agent:
  name: fleet-warden
  mode: execute
  dataDir: ${join(dir, 'data')}
  interval: 500ms
  verify: { stable: 1s, deadline: 30s }
hosts:
${lab.hostsYaml()}
services:
${lab.hosts.map((h) => `  - { name: work-${h.name}, host: ${h.name}, kind: systemd, unit: ${WORK_UNIT} }`).join('\n')}
policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart]
      approval: none
`;
}

export const fleetScenario: Scenario<FleetStage> = {
  name: 'fleet',
  description: 'three SSH hosts in nspawn containers: a unit killed, a host powered off, a partition',
  faultTimeoutMs: 90_000,
  async setup() {
    const lab = await FleetLab.up();
    const dir = mkdtempSync(join(tmpdir(), 'warden-demo-fleet-'));
    const configPath = join(dir, 'warden.yaml');
    writeFileSync(configPath, fleetConfig(dir, lab));
    return {
      lab, dir, configPath,
      describe: `hosts ${lab.hosts.map((h) => `${h.name} (${h.ip})`).join(', ')} over SSH, ${WORK_UNIT} on each (lab ${lab.id})`,
      healthy: lab.hosts.map((h) => `work-${h.name}`),
      teardown: async () => { await lab.down(); },
    };
  },
  faults: [
    {
      name: `kill -9 ${WORK_UNIT} on host b`,
      async inject(s) {
        const b = s.lab.host('b').ct;
        const pid = (await b.show(WORK_UNIT, ['MainPID'])).MainPID ?? '';
        await b.execOk(['kill', '-KILL', pid]);
        return { service: 'work-b', cause: 'process_exited', actions: ['restart work-b'], status: 'resolved' };
      },
    },
    {
      name: 'power host c off',
      async inject(s) {
        await s.lab.powerOff('c');
        // Left off until Warden has shown it does nothing to c; then c boots and its ticket resolves.
        return { service: 'c', cause: 'node_offline', actions: [], status: 'resolved', heal: () => s.lab.powerOn('c') };
      },
    },
    {
      name: "cut Warden's link to host b",
      async inject(s) {
        await s.lab.cutWarden('b');
        return { service: 'b', cause: 'network_partition', actions: [], status: 'resolved', heal: () => s.lab.healWarden('b') };
      },
    },
  ],
};
