// Hosts as the loop sees them: a host Warden cannot reach makes its services `unknown` (not
// missing: nobody knows), and is one problem of its own — one ticket for the host, never one per
// service — whose kind says whether the host is down or only Warden's path to it.
import type { Problem, ServiceHealth } from './detect.js';
import type { Cause, Finding, HostFacts, ResolvedConfig, World } from './types.js';

/** The store flag holding a managed host's last boot id (written by the daemon when it changes). */
export const HOST_BOOT_FLAG = 'host.boot:';

export function hostFingerprint(host: string): string {
  return `host:${host}`;
}

/** The names of hosts that can be a ticket's subject (those reached through ssh). */
export function remoteHostNames(config: ResolvedConfig): string[] {
  return config.hosts.filter((h) => h.transport !== 'local').map((h) => h.name);
}

/** Why a service on `host` cannot be judged now, or null when its host answers (or is local). */
export function hostDown(world: World, host: string): ServiceHealth | null {
  const f = world.hosts?.[host];
  if (f === undefined || f.reachable) return null;
  return { health: 'unknown', reason: `host ${host} ${VERDICT_WORDS[f.verdict ?? 'offline']}: ${f.reason}` };
}

const VERDICT_WORDS: Record<NonNullable<HostFacts['verdict']>, string> = {
  offline: 'is offline',
  partitioned: 'is cut off from Warden',
  refused: 'refuses Warden',
  rebooting: 'is rebooting',
};

/** The cause each verdict stands for: a host key or login refused is access that drifted. */
export const VERDICT_CAUSE: Record<NonNullable<HostFacts['verdict']>, Cause> = {
  offline: 'node_offline',
  partitioned: 'network_partition',
  refused: 'config_drift',
  // Never a ticket's cause: a host Warden reboots has no ticket of its own while it does.
  rebooting: 'node_offline',
};

/** Each host's health, for status: healthy while it answers. */
export function hostHealth(config: ResolvedConfig, world: World): Record<string, ServiceHealth> {
  const out: Record<string, ServiceHealth> = {};
  for (const name of remoteHostNames(config)) {
    const f = world.hosts?.[name];
    out[name] = f === undefined ? { health: 'unknown', reason: 'not probed yet' }
      : f.reachable ? { health: 'healthy', reason: f.reason } : { health: 'unhealthy', reason: hostDown(world, name)!.reason };
  }
  return out;
}

/** One problem per unreachable host, with its one finding (none while Warden's own reboot of it runs). */
export function hostProblems(config: ResolvedConfig, world: World): Problem[] {
  const out: Problem[] = [];
  for (const name of remoteHostNames(config)) {
    const f = world.hosts?.[name];
    if (f === undefined || f.reachable || f.verdict === 'rebooting') continue;
    const verdict = f.verdict ?? 'offline';
    const finding: Finding = {
      kind: verdict === 'partitioned' ? 'network_partition' : 'offline_node',
      service: name, host: name, reason: f.reason, cause: VERDICT_CAUSE[verdict],
    };
    out.push({ fingerprint: hostFingerprint(name), service: name, host: name, findings: [finding] });
  }
  return out;
}
