// Diagnosis of a host Warden cannot reach. Nothing is done to the host: an offline host needs a
// person (power, hardware, its hypervisor), a partition is Warden's own path (acting on the host
// through it is impossible and would be wrong), and a refused login is a key or account to check.
// Warden waits for the host instead: its ticket stays open saying what a person may do, and when
// the host answers again it is verified like a repair (a host that came back may go again) and
// resolves without anyone closing it by hand.
import { hostFingerprint, VERDICT_CAUSE } from '../domain/hosts.js';
import type { Problem } from '../domain/detect.js';
import type { Alternative, Cause, Diagnosis, Evidence, World } from '../domain/types.js';

export function isHostProblem(problem: Problem): boolean {
  return problem.fingerprint === hostFingerprint(problem.service);
}

export function diagnoseHost(world: World, problem: Problem): Diagnosis {
  const name = problem.service;
  const f = world.hosts?.[name];
  const verdict = f?.verdict ?? 'offline';
  const cause = VERDICT_CAUSE[verdict];
  const evidence: Evidence[] = [
    { source: 'host:ssh', fact: f?.reason ?? 'no reading' },
    { source: 'host:tcp', fact: f?.tcp ?? 'not checked' },
    ...(f?.peers ?? []).map((p) => ({ source: `peer:${p.host}`, fact: p.reaches === true ? `reaches ${name}: ${p.detail}` : p.reaches === false ? `does not reach ${name}: ${p.detail}` : p.detail })),
  ];
  const peersReaching = (f?.peers ?? []).filter((p) => p.reaches === true).map((p) => p.host);
  const asked = (f?.peers ?? []).filter((p) => p.reaches !== null).length;
  const rejected: [Cause, string][] = [];
  if (cause !== 'node_offline') rejected.push(['node_offline', verdict === 'partitioned' ? `${peersReaching.join(', ')} still reach${peersReaching.length === 1 ? 'es' : ''} ${name}` : `${name} answers: it refuses the login`]);
  if (cause !== 'network_partition') rejected.push(['network_partition', verdict === 'refused' ? `${name} answers Warden` : asked === 0 ? 'no other managed host could be asked' : `none of the ${asked} other managed host(s) reaches ${name} either`]);
  if (cause !== 'config_drift') rejected.push(['config_drift', `no host key or login was refused: ${name} does not answer Warden at all`]);
  const noRepair = {
    offline: `${name} is offline: no managed host reaches it; power it on or look at its console; its services are unknown until it answers`,
    partitioned: `Warden's own path to ${name} is cut (${peersReaching.join(', ')} reach${peersReaching.length === 1 ? 'es' : ''} it): repair the network between Warden and ${name}; nothing is done on ${name}`,
    refused: `${f?.reason ?? `${name} refuses Warden's login`}`,
    rebooting: `${name} is rebooting by Warden's own host.reboot: ${f?.reason ?? ''}`,
  }[verdict];
  const alternatives: Alternative[] = rejected.map(([c, why]) => ({ cause: c, rejected: why }));
  return {
    rootCause: { service: name, host: name, cause },
    confidence: verdict === 'offline' && asked === 0 ? 0.6 : 0.9,
    evidence, alternatives, recommended: [], noRepair, waitFor: `${noRepair}; the ticket resolves when ${name} answers again`, diagnoser: 'rules',
  };
}
