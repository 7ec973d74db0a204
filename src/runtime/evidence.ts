// The evidence pieces of one service, for `warden debug SERVICE` and the diagnostics endpoint: the
// pieces a diagnosis reads about it (its open findings, process, exits, checks, place in the
// graph, start-command drift, log lines, actions, host), built by the same function and so under
// the same ids. A person follows a citation from `warden explain` to the bundle of the service the
// id names (`check:cache:via-link` → `warden debug cache`).
import type { Action, CheckState, ProcessState, ResolvedConfig, ServiceSpec, Ticket, World } from '../domain/types.js';
import { recentAction } from '../diagnosis/gather.js';
import { evidencePieces, type EvidencePiece, type HostResources } from '../diagnosis/pieces.js';

/** As many actions as a diagnosis is given. */
const ACTIONS_CITED = 10;

export interface ServiceEvidenceInput {
  config: ResolvedConfig;
  spec: ServiceSpec;
  process: ProcessState | null;
  checks: CheckState[] | null;
  logTail: readonly string[];
  /** Tickets that concern the service; the findings of the unresolved ones on it are evidence. */
  tickets: readonly Ticket[];
  /** Actions on the service, newest first. */
  actions: readonly Action[];
  /** The argv its running process was started with, as recorded; null when none is. */
  recordedStart: readonly string[] | null;
  resources: HostResources | null;
  now: number;
}

export function serviceEvidence(i: ServiceEvidenceInput): EvidencePiece[] {
  const { name, host } = i.spec;
  const findings = i.tickets.filter((t) => t.status !== 'resolved').flatMap((t) => t.findings.filter((f) => f.service === name));
  const world: World = { at: i.now, services: i.process ? { [name]: { name, host, process: i.process, checks: i.checks ?? [] } } : {} };
  const pieces = evidencePieces({
    config: i.config, world, problem: { fingerprint: '', service: name, host, findings }, logTail: i.logTail,
    actions: i.actions.slice(0, ACTIONS_CITED).map(recentAction), resources: i.resources,
    recordedStart: i.recordedStart ? { [name]: i.recordedStart } : {}, only: name,
  });
  // Two open tickets may both hold a finding of the same kind on it: one piece per id.
  const seen = new Set<string>();
  return pieces.filter((p) => !seen.has(p.id) && seen.add(p.id));
}
