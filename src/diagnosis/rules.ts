// Rule-based diagnosis: deterministic and offline. The facts are gathered here, the rules of
// rulebook.ts judge them, the first that applies names the cause; every other candidate cause says
// why it was rejected, and every rule that applied is kept as a ranked hypothesis. Log text is untrusted
// input: it is only matched against fixed patterns, never executed or echoed into actions.
import type { Problem } from '../domain/detect.js';
import { countExits } from '../domain/crashloop.js';
import type {
  ActionType, Alternative, Cause, Diagnosis, Evidence, ResolvedConfig, ServiceSpec, World,
} from '../domain/types.js';
import type { PortListeners } from '../lib/sockets.js';
import { lastRun, readLog, type LogMatch } from './logs.js';
import { judgeLog, type LogVerdict } from './verdicts.js';
import { diagnoseSubject } from './subject.js';
import { alertEvidence, alertRepair, rootAlerts } from './alerts.js';
import { diagnoseHost, isHostProblem } from './host.js';
import { RULES, citesFact, hasFact, type RuleContext } from './rulebook.js';

export interface DiagnoseInput {
  config: ResolvedConfig;
  world: World;
  problem: Problem;
  now: number;
  /** The last lines of the root service's log (read by the runtime; may be empty). */
  logTail: readonly string[];
  /** Monotonic time and boot now: windows are measured on them when the records carry stamps. */
  mono?: number;
  boot?: string;
  /** Who listens now on the ports the log says were in use (looked up by the runtime; absent = unknown). */
  listeners?: readonly PortListeners[];
}

const STATE_NOTE: Record<string, string> = { T: ' (stopped)', t: ' (stopped by a tracer)', D: ' (uninterruptible sleep)' };

type Resource = { what: NonNullable<LogMatch['resource']>; line: string; restartHelps: boolean };

/** The newest resource exhaustion the lines show (from the table of logs.ts). */
export function findResourceExhaustion(lines: readonly string[]): Resource | null {
  const m = readLog(lines).find((x) => x.resource !== undefined);
  return m?.resource ? { what: m.resource, line: m.line, restartHelps: m.restartHelps } : null;
}

export function diagnose(input: DiagnoseInput): Diagnosis {
  const { config, world, problem, now } = input;
  const subject = config.subjects.find((s) => s.name === problem.service);
  if (subject) return diagnoseSubject(config, world, problem, subject);
  if (isHostProblem(problem)) return diagnoseHost(world, problem);
  const spec = config.services.find((s) => s.name === problem.service)!;
  const obs = world.services[problem.service];
  const proc = obs?.process;
  const evidence: Evidence[] = [];
  const rejected = new Map<Cause, string>();

  const instant = { wall: now, mono: input.mono ?? Number.NaN, boot: input.boot ?? '' };
  // Exits Warden caused (stop, restart) are repairs, not crashes; only runs that died soon after
  // their start make a loop (domain/crashloop.ts).
  const exits = countExits(config, spec, proc?.exits ?? [], instant);
  const recentExits = exits.looping;
  // Enough exits, but not soon enough after their starts: say so, it is why this is no loop.
  const fewSoon = exits.recent.length >= config.agent.crashLoopExits && recentExits.length < exits.recent.length;
  const loopNote = fewSoon
    ? `${recentExits.length} exit(s) soon after a start in the window, fewer than ${config.agent.crashLoopExits}; the others ended runs longer than ${exits.soonMs} ms`
    : `${exits.recent.length} exit(s) in the window, fewer than ${config.agent.crashLoopExits}`;
  const last = proc?.exits[0];
  // Lines of earlier runs describe failures that are over; some lines only explain an exit.
  // Numbered in the whole tail, as its evidence pieces are (the last run is its end).
  const run = lastRun(input.logTail);
  const matches = readLog(run).map((m) => ({ ...m, index: m.index + input.logTail.length - run.length })).filter((m) => !m.fatalOnly || !proc?.running);
  const log = judgeLog(matches, { config, world, spec, listeners: input.listeners });
  const verdict = log.verdict;
  const failing = (obs?.checks ?? []).filter((c) => c.healthy === false);
  const timedOut = failing.filter((c) => c.last?.timedOut);

  // Facts first, each citing the piece of the bundle it comes from (pieces.ts ids).
  const daemon = proc && !proc.running ? proc.daemonized : undefined;
  const processFact = (fact: string): Evidence => ({ source: 'process', fact, ...(proc ? { piece: `process:${spec.name}` } : {}) });
  if (proc?.running) evidence.push(processFact(`pid ${proc.pid} running, state ${proc.procState ?? '?'}${STATE_NOTE[proc.procState ?? ''] ?? ''}`));
  else if (daemon) evidence.push(processFact(`the start command exited 0${last?.uptimeMs != null ? ` after ${last.uptimeMs} ms` : ''} and left pid ${daemon.pid} (${daemon.command}) running: it put itself in the background`));
  else if (proc?.spawnError) evidence.push(processFact(`start failed: ${proc.spawnError}`));
  else if (last) evidence.push(processFact(`exited ${last.signal ? `by signal ${last.signal}` : `with code ${last.code ?? '?'}`}${last.uptimeMs != null ? ` after ${last.uptimeMs} ms` : ''}`));
  else evidence.push(processFact('not running'));
  evidence.push({ source: 'exits', fact: `${exits.recent.length} exit(s) in the last ${Math.round(config.agent.crashLoopWindowMs / 1000)} s${fewSoon ? `, ${recentExits.length} of them within ${exits.soonMs} ms of its start` : ''}`, ...(last ? { piece: `exit:${spec.name}:${last.at}` } : {}) });
  for (const c of failing) evidence.push({ source: `check:${c.id}`, fact: `${c.consecutiveFailures} consecutive failure(s): ${c.last?.message ?? 'no result'}`, piece: `check:${spec.name}:${c.id}` });
  evidence.push(...log.evidence);
  for (const f of problem.findings) {
    if (f.service !== problem.service && !f.alert) evidence.push({ source: 'dependsOn', fact: `${f.service} is ${f.kind === 'missing_service' ? 'down' : 'unhealthy'} and depends on ${f.dependencyDown}`, piece: `finding:${f.service}:${f.kind}` });
  }
  evidence.push(...alertEvidence(problem));
  const alerts = rootAlerts(problem);

  const brokenDeps = spec.dependsOn.filter((d) => problem.findings.some((f) => f.service === d));
  rejected.set('dependency_down', brokenDeps.length === 0
    ? (spec.dependsOn.length === 0 ? `${spec.name} has no dependencies` : `its dependencies (${spec.dependsOn.join(', ')}) are healthy`)
    : `dependencies ${brokenDeps.join(', ')} are down but ${spec.name} is the first broken service`);

  const ctx: RuleContext = { config, spec, obs, proc, exits, loopNote, logTail: input.logTail, verdict, failing, timedOut, alerts };
  // Every rule whose prerequisites the bundle has is judged; the first that applies decides.
  const judged = RULES.filter((r) => r.needs.every((f) => hasFact(ctx, f)))
    .flatMap((rule) => { const j = rule.judge(ctx); return j ? [{ rule, j }] : []; });
  const chosen = judged[0];
  const cause: Cause = chosen?.j.cause ?? 'unknown';
  const confidence = chosen?.j.confidence ?? 0.3;
  if (chosen) {
    evidence.push(...(chosen.j.evidence ?? []));
    for (const [c, why] of chosen.j.rejected ?? []) rejected.set(c, why);
  }
  let noRepair: string | null = chosen?.j.noRepair ?? null;
  const alertOnly = chosen?.j.alertOnly === true;
  const oom = chosen?.rule.name === 'oom-killed';
  if (cause !== 'resource_exhausted') rejected.set('resource_exhausted', 'no ENOSPC, EMFILE or out-of-memory in the exit status or log tail');
  if (cause !== 'crash_loop' && !rejected.has('crash_loop')) rejected.set('crash_loop', loopNote);
  // Every candidate is either the cause or rejected with a reason, whichever branch chose the cause.
  if (!rejected.has('process_exited')) rejected.set('process_exited', `the process (pid ${proc?.pid ?? '?'}) is still alive`);
  if (!rejected.has('process_hung')) rejected.set('process_hung', proc?.running ? 'the process runs and passes its checks' : 'the process is not running');
  if (!rejected.has('config_drift')) rejected.set('config_drift', 'the start command ran: no spawn error');
  // What the log says (or does not) is the more specific reason.
  for (const [c, why] of log.notes) rejected.set(c, why);
  rejected.delete(cause);

  const alternatives: Alternative[] = [...rejected].map(([c, why]) => ({ cause: c, rejected: why }));
  const root = verdict && verdict.cause === cause ? config.services.find((s) => s.name === verdict.rootService) : undefined;
  const byAlert = alertOnly ? alertRepair(spec, cause, alerts) : null;
  const recommended = byAlert ? byAlert.recommended : recommend(spec, cause, verdict, proc?.running ?? false, oom);
  if (noRepair === null && recommended.length === 0 && verdict && 'none' in verdict.repair) noRepair = verdict.repair.none;
  return {
    rootCause: { service: root?.name ?? problem.service, host: root?.host ?? problem.host, cause },
    confidence,
    evidence,
    alternatives,
    recommended,
    ...(noRepair ? { noRepair } : {}),
    ...(byAlert?.waitFor ? { waitFor: byAlert.waitFor } : {}),
    diagnoser: 'rules',
    hypotheses: judged.map(({ rule, j }, i) => ({
      cause: j.cause, confidence: j.confidence, rule: rule.name,
      cites: evidence.flatMap((e, k) => (rule.needs.some((f) => citesFact(e.source, f)) ? [k] : [])),
      ...(i === 0 ? {} : { rejected: `outranked by ${judged[0]!.rule.name}, which comes first` }),
    })),
  };
}

function recommend(spec: ServiceSpec, cause: Cause, verdict: LogVerdict | null, running: boolean, oomKilled = false): Diagnosis['recommended'] {
  const restart = (): Diagnosis['recommended'] => [{ type: 'restart' as ActionType, target: spec.name, params: {} }];
  // A runbook declared for this cause is the operator's chosen repair and comes first. If the
  // service is down, it is started again after the runbook (a chain): the runbook fixes the cause
  // (frees the disk, repairs the input), the restart brings the service back.
  const runbook = spec.runbooks.find((r) => r.for.includes(cause));
  if (runbook) {
    const step = { type: 'run-runbook' as ActionType, target: spec.name, params: { runbook: runbook.name } };
    return running ? [step] : [step, ...restart()];
  }
  // A log line that decided the cause says whether a restart helps, and of what.
  if (verdict?.cause === cause) return 'restart' in verdict.repair ? [{ type: 'restart', target: verdict.repair.restart, params: {} }] : [];
  // Killed for memory: a restart gives it back; the limits stop a restart that is killed again.
  if (oomKilled) return restart();
  switch (cause) {
    case 'process_exited':
    case 'crash_loop':
    case 'process_hung':
      return restart();
    default:
      return [];
  }
}
