// One reconcile decision: (inventory, world, tickets, actions, answers, clock) → (changed tickets,
// changed actions, audit records, effects, report). Pure: it reads only its input, takes no
// callbacks, and returns every effect instead of doing it; the runtime commits the result in one
// transaction and only then runs the effects (execute an action, ask a diagnoser).
//
// Every change of a ticket or an action goes through its state machine (ticket.ts, action.ts).
import { formatDuration } from '../lib/duration.js';
import { healthyForMs, restartBackoff, showWait } from './backoff.js';
import { approvalLapsed, proposeAction, refusedByPerson, retryIn, transitionAction, isTerminal, type ActionEvent } from './action.js';
import type { AuditIntent } from './audit.js';
import { detect, type Detection, type Problem, type ServiceHealth } from './detect.js';
import { subjectOfFingerprint, type SubjectRules } from './subject.js';
import { evidenceKey } from './evidence.js';
import { atOrAfter, elapsed, stampOf, windowStart, type Instant, type WindowStart } from './elapsed.js';
import { closeRemoved } from './inventory.js';
import { dueStep } from './schedule.js';
import { requesterOf, type Requester } from './identity.js';
import { declaredRevert, revertable, revertEndedReason, revertingReason, revertRefusedReason } from './revert.js';
import { remoteHostNames } from './hosts.js';
import { approvalOf, countStartedIn, gate, refusedBy, WAITS, type GateResult, type Refusal, type StartedAction } from './policy.js';
import { currentShadow, shadowOf, shadowReason, shadowRecord, wentAwayReason, type ShadowEntry } from './shadow.js';
import type { WindowState } from './guardrails.js';
import { openTicket, transitionTicket, type TicketEvent } from './ticket.js';
import type {
  Action, ActionType, Diagnosis, Finding, ReconcileReport, Recommendation, ResolvedConfig, Summary,
  Ticket, TicketStatus, World,
} from './types.js';

export type { StartedAction } from './policy.js';

export type { AuditIntent } from './audit.js';

/** A diagnoser's answer for a ticket, for the evidence named by `key`. */
export type DiagnosisAnswer =
  | { ticketId: string; key: string; diagnosis: Diagnosis }
  | { ticketId: string; key: string; error: string };

/** Ask a diagnoser about a ticket's problem; its answer comes back as a DiagnosisAnswer. */
export interface DiagnoseRequest {
  ticketId: string;
  key: string;
  problem: Problem;
}

export interface DecideInput {
  config: ResolvedConfig;
  world: World;
  /** Wall time: stamps records only. */
  now: number;
  /** Monotonic time (CLOCK_MONOTONIC) and the boot it belongs to: every duration is decided on these. */
  mono: number;
  boot: string;
  /** Every ticket that is not resolved. */
  tickets: readonly Ticket[];
  /** Every action that is not terminal, plus the actions of the tickets above. */
  actions: readonly Action[];
  frozen: boolean;
  /** The freeze's reason and end (shown in refusals). */
  freeze?: { reason: string; until: number | null } | null;
  /** Why the policy as now written does not validate (it is re-read before every pass): nothing acts. */
  policyError?: string | null;
  /** Maintenance windows as of now (the reconciler reads their cron expressions). */
  windows?: readonly WindowState[];
  /** Repair actions started within the longest rate-limit window. */
  started: readonly StartedAction[];
  /** Per service: when a person last resolved one of its tickets (rate-limit counts restart then). */
  limitResets: Readonly<Record<string, Instant>>;
  /** Per service: when its restart streak last ended after resetAfter of health (BACKOFF_RESET_PREFIX). */
  backoffResets?: Readonly<Record<string, Instant>>;
  /** The latest resolved ticket of each problem without an open ticket: they may reopen. */
  recentlyResolved: readonly Ticket[];
  /** The next free id numbers; decide allocates from them and returns what it used. */
  nextIds: { T: number; A: number };
  /** Diagnoses that came back since the last pass. */
  answers: readonly DiagnosisAnswer[];
  /** Tickets whose diagnosis is being worked on right now (not asked again). */
  diagnosing: ReadonlySet<string>;
  /** Services a person paused (domain/pause.ts): no tickets acted on, none of Warden's own actions. */
  paused?: ReadonlySet<string>;
  /** Each subject type's invariants and repair rule (src/subjects/), by type; without them no subject is judged. */
  subjectRules?: Readonly<Record<string, SubjectRules>>;
  /** detect(config, world, tickets), when the caller already computed it (one O(services) walk, not two). */
  detection?: Detection;
}

export interface DecideOutput {
  detection: Detection;
  tickets: Ticket[];
  actions: Action[];
  audit: AuditIntent[];
  /** Action ids to execute now, in order. */
  execute: string[];
  /** Diagnoses to ask for. */
  diagnose: DiagnoseRequest[];
  /** Decisions not to act made in this pass (one each, not one per pass a ticket waits): for metrics. */
  refused: Refusal[];
  nextIds: { T: number; A: number };
  report: ReconcileReport;
  /** Services whose restart streak ends now (healthy for resetAfter): to record. */
  backoffResets: Record<string, Instant>;
}

/** Verification failures after which a ticket escalates whatever the rate limits say. */
export const MAX_FAILED_REPAIRS = 5;

/** First starts (deploys) proposed and not yet finished at any one time. */
export const MAX_DEPLOYS_IN_FLIGHT = 256;

export function decide(input: DecideInput): DecideOutput {
  const { config, now } = input;
  const instant: Instant = { wall: now, mono: input.mono, boot: input.boot };
  const ctx = { now, actor: config.agent.name, stamp: stampOf(instant) };
  const tickets = new Map(input.tickets.map((t) => [t.id, t]));
  const actions = new Map(input.actions.map((a) => [a.id, a]));
  const changedT = new Set<string>();
  const changedA = new Set<string>();
  const audit: AuditIntent[] = [];
  const execute: string[] = [];
  const diagnoseReqs: DiagnoseRequest[] = [];
  const refused: Refusal[] = [];
  const ids = { ...input.nextIds };
  const newId = (k: 'T' | 'A'): string => `${k}${ids[k]++}`;
  const detection = input.detection ?? detect(config, input.world, [...tickets.values()], input.subjectRules);
  /** A service's health, or a subject's (a subject's ticket is named after it). */
  const healthOf = (name: string): ServiceHealth | undefined => detection.health[name] ?? detection.subjects[name] ?? detection.hosts[name];
  const hosts = new Map(config.services.map((x) => [x.name, x.host]));
  const specOfName = new Map(config.services.map((x) => [x.name, x]));
  const hostOf = (svc: string): string => hosts.get(svc) ?? 'local';

  const putT = (t: Ticket, a: readonly AuditIntent[]): Ticket => { tickets.set(t.id, t); changedT.add(t.id); audit.push(...a); return t; };
  const putA = (a: Action, au: readonly AuditIntent[]): Action => { actions.set(a.id, a); changedA.add(a.id); audit.push(...au); return a; };
  const onT = (t: Ticket, e: TicketEvent): Ticket => { const r = transitionTicket(t, e, ctx); return putT(r.next, r.audit); };
  const onA = (a: Action, e: ActionEvent): Action => { const r = transitionAction(a, e, ctx); return putA(r.next, r.audit); };
  const setStatus = (t: Ticket, to: TicketStatus, reason: string | null): Ticket =>
    t.status === to && t.reason === reason ? t : onT(t, { type: 'status', to, reason });
  const ticketActions = (t: Ticket): Action[] => t.actionIds.map((id) => actions.get(id)).filter((a): a is Action => !!a);

  /** Tickets whose repair waits (a restart backoff): their reason goes into the report. */
  const waiting = new Map<string, string>();

  const answerOf = (ticketId: string, key: string): DiagnosisAnswer | undefined =>
    input.answers.find((x) => x.ticketId === ticketId && x.key === key);

  // 0. Proposals belong to recommend mode: after a reload into another mode they are superseded, so
  // they never block what the new mode does (a leftover deploy proposal kept execute from starting).
  if (config.agent.mode !== 'recommend') {
    for (const a of [...actions.values()]) if (a.state === 'proposed') onA(a, { type: 'cancel', by: config.agent.name, reason: `superseded: the mode is now ${config.agent.mode}` });
  }
  // 0a. A target put in shadow: what Warden itself planned there and has not started never runs;
  // its ticket is decided again, in shadow.
  for (const a of [...actions.values()]) {
    const entry = PENDING.includes(a.state) && a.requestedBy === config.agent.name ? shadowOf(config, a.target) : null;
    if (!entry) continue;
    onA(a, { type: 'cancel', by: config.agent.name, reason: `superseded: ${a.target} is in shadow (${entry.name})` });
    const t = a.ticketId === null ? undefined : tickets.get(a.ticketId);
    if (t && (t.status === 'remediating' || t.status === 'awaiting_approval')) setStatus(t, 'open', null);
  }

  // 0b. Services removed from the inventory: their tickets close, what waits to act on them is cancelled.
  const gone = closeRemoved(new Set([...specOfName.keys(), ...config.subjects.map((s) => s.name), ...remoteHostNames(config)]), [...tickets.values()], actions, ctx);
  for (const r of gone.actions) putA(r.next, r.audit);
  for (const r of gone.tickets) putT(r.next, r.audit);

  // 0c. Approval requests that lapsed are denied: an answer that comes too late is no answer.
  for (const a of [...actions.values()]) {
    if (a.state !== 'awaiting_approval' || !a.approval || !approvalLapsed(a.approval, instant)) continue;
    onA(a, { type: 'expire' });
    refused.push({ by: 'approval_expired', type: a.type, target: a.target, ticketId: a.ticketId });
  }

  // 1. Attach each problem to its ticket: the open one, a recently resolved one (reopened), or a new one.
  const openByFp = new Map([...tickets.values()].map((t) => [t.fingerprint, t.id]));
  // A subject has one open ticket whatever invariant breaks meanwhile (subjectFingerprint).
  const openBySubject = new Map([...tickets.values()].flatMap((t) => {
    const s = subjectOfFingerprint(t.fingerprint);
    return s === null ? [] : [[s, t.id] as const];
  }));
  const resolvedByFp = new Map<string, Ticket>();
  for (const t of input.recentlyResolved) {
    const cur = resolvedByFp.get(t.fingerprint);
    if (!cur || t.openedAt > cur.openedAt) resolvedByFp.set(t.fingerprint, t);
  }
  const problemOf = new Map<string, Problem>();
  const paused = input.paused ?? new Set<string>();
  for (const p of detection.problems) {
    let id = openByFp.get(p.fingerprint) ?? openBySubject.get(subjectOfFingerprint(p.fingerprint) ?? '');
    if (!id) {
      // Paused: observed and reported, but no ticket is opened until it is resumed.
      if (paused.has(p.service)) continue;
      // Only dependents' symptoms, no finding on the root itself (a dependency not started yet, which
      // the deploy step starts): there is nothing to diagnose or repair on the root, so no ticket.
      if (!p.findings.some((f) => f.service === p.service)) continue;
      const prev = resolvedByFp.get(p.fingerprint);
      const t = prev && prev.resolvedAt != null && elapsed(instant, prev.resolvedAt, prev.resolvedMono) <= config.agent.reopenWindowMs
        ? onT(prev, { type: 'reopen', flapThreshold: config.agent.flapThreshold })
        : (() => { const r = openTicket(newId('T'), p, ctx); return putT(r.next, r.audit); })();
      id = t.id;
      openByFp.set(t.fingerprint, id);
      const subject = subjectOfFingerprint(t.fingerprint);
      if (subject !== null) openBySubject.set(subject, id);
    }
    const t = tickets.get(id)!;
    if (!sameFindings(t.findings, p.findings)) onT(t, { type: 'findings', findings: p.findings });
    problemOf.set(id, p);
  }

  // 2. Move every open ticket along its lifecycle.
  for (const id of [...tickets.keys()]) {
    let t = tickets.get(id)!;
    // Paused: the ticket stays as it is, and nothing planned for it starts, until resumed.
    if (paused.has(t.service)) continue;
    const p = problemOf.get(id);
    const last = ticketActions(t).at(-1);
    // The root itself may have recovered while dependents still show symptoms: nothing is left to
    // diagnose or repair on the root (re-diagnosing it would read "unknown" and escalate). Its own
    // health says so, not where its finding is filed: for a moment a broken dependency may claim it.
    const rootHealth = healthOf(t.service)?.health;
    const rootBroken = rootHealth === 'missing' || rootHealth === 'unhealthy';

    switch (t.status) {
      case 'open':
      case 'diagnosing':
        if (!rootBroken) {
          for (const a of ticketActions(t)) if (a.state === 'proposed' || a.state === 'validated') onA(a, { type: 'cancel', by: config.agent.name, reason: 'the problem went away' });
          // A problem Warden chose to wait out (a member cut off by the network, a host powered
          // off) is verified like a repair when it mends: a link that comes back may go again.
          if (t.diagnosis?.waitFor !== undefined && (detection.subjects[t.service] !== undefined || detection.hosts[t.service] !== undefined)) {
            setStatus(startVerification(t), 'verifying', `${t.service} recovered while Warden waited (${t.diagnosis.waitFor}); verifying`);
            break;
          }
          const watched = currentShadow(t);
          if (watched && !watched.outcome) t = onT(t, { type: 'went_away' });
          const gone = currentShadow(t)?.outcome;
          setStatus(t, 'resolved', watched && gone?.kind === 'went_away' ? wentAwayReason(watched, gone.afterMs) : 'recovered without action');
          break;
        }
        // Broken, but its symptom is attributed to a dependency's ticket for now: that one acts.
        if (!p) break;
        // A person approved a proposal (recommend mode): it runs, once, under policy.
        if (last?.state === 'validated') { runApproved(t, last); break; }
        // Diagnose before planning, again only when the evidence changed. While a repair is
        // verified, symptoms of a restarting service are expected and must not rewrite the diagnosis.
        t = needDiagnosis(t, p);
        if (t.status === 'open') plan(t);
        break;
      case 'awaiting_approval':
        if (!last) { setStatus(t, 'open', null); break; }
        // Recovered before a person answered: approving now would restart a healthy service.
        if (!rootBroken && last.state === 'awaiting_approval') {
          onA(last, { type: 'cancel', by: config.agent.name, reason: 'the problem went away before approval' });
          setStatus(t, 'resolved', 'recovered before approval');
        } else if (last.state === 'validated') {
          setStatus(t, 'remediating', `approved by ${last.approvedBy ?? 'someone'}`);
          runIfReady(last);
        } else if (last.state === 'cancelled' && last.error?.startsWith('approval expired') === true) {
          setStatus(t, 'escalated', `action ${last.id} (${last.type} ${last.target}): ${last.error}; a person must act`);
        } else if (last.state === 'cancelled') {
          setStatus(t, 'held', `action ${last.id} rejected${last.error ? `: ${last.error}` : ''}; automation stopped for this ticket`);
        } else if (last.approval && last.approval.by.length > 0 && last.state === 'awaiting_approval') {
          setStatus(t, 'awaiting_approval', `${last.type} ${last.target} approved by ${last.approval.by.join(', ')}; ${last.approval.quorum - last.approval.by.length} more approval(s) needed: warden actions approve ${last.id}`);
        }
        break;
      case 'remediating':
        if (!last) { setStatus(t, 'open', null); break; }
        // A revert has run (or failed): the repair did not hold either way, and a person looks.
        if (last.revertOf !== undefined && (last.state === 'completed' || last.state === 'failed')) {
          setStatus(t, 'escalated', revertEndedReason(last, actions.get(last.revertOf) ?? { id: last.revertOf, type: last.type, target: last.target }));
          break;
        }
        if (last.state === 'validated') {
          // A backoff (or retry) wait is over: the reason says what runs now, not what it waited for.
          if (runIfReady(last)) setStatus(t, 'remediating', `${last.type} ${last.target}`);
          else if (rootHealth === 'healthy' && retryIn(last, instant) > 0) {
            // Healthy again while the repair waited its turn: the restart is not needed, but whether
            // the service stays up is verified like a repair.
            onA(last, { type: 'cancel', by: config.agent.name, reason: `${t.service} recovered while the repair waited` });
            setStatus(startVerification(t), 'verifying', `${t.service} recovered while ${last.type} waited; verifying`);
          } else if (t.reason) waiting.set(t.id, t.reason);
        } else if (last.state === 'completed' && t.diagnosis?.recommended[(t.step ?? 0) + 1] && p) {
          // A chain (runbook, then restart): the next step is planned and gated like the first.
          plan(onT(t, { type: 'next_step' }));
        } else if (last.state === 'completed') {
          t = startVerification(t);
          setStatus(t, 'verifying', `verifying ${last.type} of ${last.target}`);
        } else if (last.state === 'failed') {
          // The failure may be evidence itself (a restart refused with ENOENT: the binary is gone):
          // diagnosed again on it first, the ticket escalates with the cause a person must fix.
          if (p && evidenceKey(config, input.world, p, instant) !== t.evidenceKey) {
            t = needDiagnosis(setStatus(t, 'open', failedReason(last)), p);
            if (t.status === 'open') plan(t);
          } else setStatus(t, 'escalated', failedReason(last));
        } else if (last.state === 'cancelled') {
          setStatus(t, 'held', `action ${last.id} cancelled${last.error ? `: ${last.error}` : ''}; automation stopped for this ticket`);
        }
        break;
      case 'verifying':
        verify(t, p);
        break;
      case 'escalated':
      case 'held':
      case 'resolved':
        break;
    }
  }

  // 2b. Scheduled actions whose time came: gated by the policy as it is now, as their requester.
  for (const a of [...actions.values()]) {
    const who = requesterOf(config, a.requestedBy);
    const underWay = [...actions.values()].find((x) => x.id !== a.id && x.target === a.target && (x.state === 'validated' || x.state === 'executing'));
    const step = dueStep(a, {
      now: instant, known: specOfName.has(a.target), ...(underWay ? { underWay } : {}),
      gate: (x) => gateFor(x.type, x.target, who), approval: (rule) => approvalOf(rule, config.policy),
    });
    if (!step) continue;
    if (step.audit) audit.push(step.audit);
    if (step.blockedBy) refused.push({ by: refusedBy(step.blockedBy), type: a.type, target: a.target, ticketId: a.ticketId });
    runIfReady(onA(a, step.event));
  }

  // 3. Deploy: services that never ran are started once their dependencies are healthy.
  const deployRecs: Recommendation[] = [];
  const deploying = new Set([...actions.values()].filter((a) => a.ticketId === null && !isTerminal(a)).map((a) => a.target));
  // First starts in flight at once are bounded: ten thousand services do not fork at the same
  // instant (nor build one giant pass); the rest follow as these settle.
  let deployRoom = MAX_DEPLOYS_IN_FLIGHT - deploying.size;
  for (const name of detection.neverStarted) {
    const spec = specOfName.get(name)!;
    if (paused.has(name)) {
      deployRecs.push({ event: 'reconcile_blocked', action: 'start', target: name, reason: 'paused' });
      continue;
    }
    const waiting = spec.dependsOn.filter((d) => detection.health[d]?.health !== 'healthy');
    if (waiting.length > 0) {
      deployRecs.push({ event: 'reconcile_blocked', action: 'start', target: name, reason: `waiting for ${waiting.join(', ')} to be healthy` });
      continue;
    }
    const g = gateFor('start', name);
    const shadowed = shadowOf(config, name);
    // Recommendations say what Warden would do whatever the mode; only policy, limits and freeze block.
    deployRecs.push(g.ok || g.blockedBy === 'mode'
      ? { event: 'reconcile_required', action: 'start', target: name, reason: `declared but not running${shadowed ? `; shadow: not started (${shadowed.name})` : ''}` }
      : { event: 'reconcile_blocked', action: 'start', target: name, reason: g.reason });
    if (shadowed || !g.ok || deploying.has(name) || deployRoom <= 0) continue;
    deployRoom--;
    // Recommend mode proposes the first start too; it never executes anything.
    const state = config.agent.mode === 'recommend' ? 'proposed' : g.approval === 'required' ? 'awaiting_approval' : 'validated';
    const r = proposeAction({ id: newId('A'), type: 'start', target: name, params: {}, ticketId: null, idempotencyKey: `deploy:${name}:${now}`, state, why: { reason: 'declared but not running' }, approval: approvalOf(g.rule, config.policy) }, ctx);
    runIfReady(putA(r.next, r.audit));
  }
  // Deploy actions approved later, or waiting for a retry.
  // A person's own start, stop or restart runs on a paused service; Warden's deploys wait.
  for (const a of actions.values()) if (a.ticketId === null && a.state === 'validated' && (!paused.has(a.target) || a.requestedBy !== config.agent.name)) runIfReady(a);

  const report = buildReport(config, detection, [...tickets.values()], deployRecs, gateFor, waiting);
  return {
    backoffResets: endedStreaks(),
    detection,
    tickets: [...changedT].map((id) => tickets.get(id)!),
    actions: [...changedA].map((id) => actions.get(id)!),
    audit,
    execute,
    diagnose: diagnoseReqs,
    refused,
    nextIds: ids,
    report,
  };

  // ------------------------------------------------------------ helpers over the pass state

  /** Started repairs in a window: on monotonic time within this boot, on wall time across boots. */
  function countStarted(target: string, type: ActionType | '*', since: WindowStart): number {
    return countStartedIn(input.started, target, type, since, input.limitResets[target]);
  }

  /** `requester`: a person's action (scheduled), gated as theirs and whatever the agent's mode. */
  function gateFor(type: ActionType, target: string, requester?: Requester): GateResult {
    // Executing now, and queued to execute by this pass: the concurrency bound counts both.
    const inFlight = [...actions.values()].filter((a) => a.state === 'executing').length + execute.length;
    return gate({
      config, type, target, host: hostOf(target), frozen: input.frozen, freeze: input.freeze ?? null, now: instant, countStarted,
      policyError: input.policyError ?? null, started: input.started, inFlight, windows: input.windows ?? [],
      ...(requester ? { requester, mode: 'execute' as const } : {}),
    });
  }

  /**
   * Diagnoses when the evidence changed (not on every pass): with the answer for this evidence at
   * hand it is applied; otherwise a diagnoser is asked and the ticket is `diagnosing` until it answers
   * (answers for older evidence are stale and ignored).
   */
  function needDiagnosis(t: Ticket, p: Problem): Ticket {
    const key = evidenceKey(config, input.world, p, instant);
    // An exit seen but not recorded yet: its code and signal, which decide the cause (a clean exit
    // that left a daemon running is no crash), come in a moment and wake the loop. Wait for them.
    if (input.world.services[p.service]?.process.exitPending === true) {
      const pending = `${key}:exit-pending`;
      return t.evidenceKey === pending ? t : onT(t, { type: 'diagnose', key: pending });
    }
    if (t.evidenceKey === key && t.status !== 'diagnosing') return t;
    const ans = answerOf(t.id, key);
    if (ans) {
      return onT(t, 'diagnosis' in ans ? { type: 'diagnosed', key, diagnosis: ans.diagnosis, flapThreshold: config.agent.flapThreshold, ...(nextStep(t) || waitingOut(t, ans.diagnosis) ? { keepCause: true } : {}) } : { type: 'diagnosis_failed', key, error: ans.error });
    }
    const changed = t.evidenceKey !== key;
    if (changed) t = onT(t, { type: 'diagnose', key });
    // New evidence, or asked before a restart of Warden and not being worked on: ask for this evidence.
    if (changed || !input.diagnosing.has(t.id)) diagnoseReqs.push({ ticketId: t.id, key, problem: p });
    return t;
  }

  /** The last action of the ticket's current occurrence, when it failed for good. */
  function failedRepair(t: Ticket): Action | undefined {
    const last = ticketActions(t).at(-1);
    return last?.state === 'failed' && last.idempotencyKey.startsWith(`${t.id}#${t.occurrences}/`) ? last : undefined;
  }

  function plan(t: Ticket): void {
    const d = t.diagnosis;
    // The current step of the repair chain (0 unless a chain is under way).
    const rec = d?.recommended[t.step ?? 0];
    if (config.agent.mode === 'observe') {
      const why = 'observe mode: no action proposed';
      if (t.reason !== why) refused.push({ by: 'mode', type: rec?.type ?? 'restart', target: rec?.target ?? t.service, ticketId: t.id });
      setStatus(t, 'open', why);
      return;
    }
    // A repair of this occurrence failed: it is not tried again; the new diagnosis says why.
    const failed = failedRepair(t);
    if (failed) { setStatus(t, 'escalated', `${failedReason(failed)}; ${d?.noRepair ?? `diagnosed again: ${t.cause ?? 'unknown'}`}`); return; }
    if (d?.waitFor && !rec) { setStatus(t, 'open', d.waitFor); return; }
    if (!d || !rec) { setStatus(t, 'escalated', d?.noRepair ?? `no automatic repair for cause ${t.cause ?? 'unknown'}; a person must act`); return; }
    if (t.failedRepairs >= MAX_FAILED_REPAIRS) { setStatus(t, 'escalated', `${t.failedRepairs} repairs did not hold; leaving ${t.service} alone`); return; }
    // Another ticket's repair of the same target is under way (a member restarted by its own ticket
    // when its subject's ticket opens): wait for it rather than act on the target twice.
    const busy = [...actions.values()].find((a) => a.target === rec.target && a.ticketId !== t.id && (a.state === 'validated' || a.state === 'executing'));
    if (busy) { setStatus(t, 'open', `waiting: ${busy.type} ${busy.target} is under way (${busy.id})`); return; }
    const key = `${t.id}#${t.occurrences}/${t.actionIds.length + 1}:${rec.type}:${rec.target}`;
    const propose = (state: 'proposed' | 'validated' | 'awaiting_approval', why: Record<string, unknown>, delayMs?: number): Action => {
      const approval = g.ok ? approvalOf(g.rule, config.policy) : undefined;
      const r = proposeAction({ id: newId('A'), type: rec.type, target: rec.target, params: rec.params, ticketId: t.id, idempotencyKey: key, state, why: { ...why, policy: g.checks }, ...(delayMs ? { delayMs } : {}), ...(approval ? { approval } : {}) }, ctx);
      putA(r.next, r.audit);
      t = onT(t, { type: 'action_added', actionId: r.next.id });
      return r.next;
    };
    const g = gateFor(rec.type, rec.target);
    // In shadow the whole gate is consulted, so the record says whether acting would be allowed;
    // nothing is proposed, escalated or run.
    const shadowed = shadowOf(config, rec.target);
    if (shadowed) { shadow(t, rec, g, shadowed); return; }
    // What policy denies is not proposed either: approving it could not make it run.
    if (!g.ok && !WAITS.has(g.blockedBy)) { refuse(t, g, rec); return; }
    if (config.agent.mode === 'recommend') {
      const current = (a: Action): boolean => a.type === rec.type && a.target === rec.target;
      // One proposal per ticket, the current one: what an older diagnosis proposed is superseded.
      for (const a of ticketActions(t)) if (a.state === 'proposed' && !current(a)) onA(a, { type: 'cancel', by: config.agent.name, reason: 'superseded by a new diagnosis' });
      // A person said no to this proposal: not proposed again until the problem occurs again.
      const prev = ticketActions(t).at(-1);
      if (prev && current(prev) && refusedByPerson(prev) && prev.idempotencyKey.startsWith(`${t.id}#${t.occurrences}/`)) {
        setStatus(t, 'open', `recommend mode: ${prev.id} (${prev.type} ${prev.target}) ${prev.error ?? 'refused'}; not proposed again for this occurrence`);
        return;
      }
      if (!ticketActions(t).some((a) => a.state === 'proposed' && current(a))) propose('proposed', { reason: 'recommend mode' });
      setStatus(t, 'open', `recommend mode: ${rec.type} ${rec.target} proposed, not executed`);
      return;
    }
    // Frozen, a window, a cooldown, the concurrency bound, a policy that does not validate: the
    // ticket waits (the other refusals were handled above), and the deferral is audited once.
    if (!g.ok) { defer(t, g, rec); return; }
    // A problem that keeps coming back is not repaired again and again: a person must look. (A
    // denial or a limit reached said so first; recommend mode proposes, a person decides anyway.)
    if (t.flapping) { setStatus(t, 'escalated', flappingReason(t, config.agent.reopenWindowMs)); return; }
    const b = backoffFor(rec.type, rec.target);
    const wait = b && b.waitMs > 0 ? b.waitMs : 0;
    const why = { cause: t.cause, ...(b ? { restart: b.restart, backoffMs: b.delayMs } : {}) };
    const a = propose(g.approval === 'required' ? 'awaiting_approval' : 'validated', why, wait);
    if (a.state === 'awaiting_approval') { setStatus(t, 'awaiting_approval', `${a.type} ${a.target} needs approval: warden actions approve ${a.id}`); return; }
    if (wait > 0 && b) {
      const reason = `waiting ${showWait(b.delayMs)} before ${rec.type} ${b.restart} (backoff)`;
      setStatus(t, 'remediating', reason);
      waiting.set(t.id, reason);
      return;
    }
    setStatus(t, 'remediating', `${a.type} ${a.target}`);
    runIfReady(a);
  }

  /** What would have been done, recorded (and audited) once per occurrence and recommendation; the ticket stays open. */
  function shadow(t: Ticket, rec: Diagnosis['recommended'][number], g: GateResult, entry: ShadowEntry): void {
    const prev = currentShadow(t);
    if (!prev || prev.type !== rec.type || prev.target !== rec.target) {
      const record = shadowRecord(t.service, rec, g, entry, t.diagnosis, instant);
      const { outcome: _, stamp: __, ...facts } = record;
      audit.push({ kind: 'policy.shadowed', subject: t.id, data: { ...facts, ...(g.ok ? {} : { blockedBy: g.blockedBy }), policy: g.checks } });
      t = onT(t, { type: 'shadowed', shadow: record });
      // Not acting because the scope is in shadow is the mode's refusal, counted once per record.
      refused.push({ by: 'mode', type: rec.type, target: rec.target, ticketId: t.id });
    }
    setStatus(t, 'open', shadowReason(currentShadow(t)!));
  }

  /** A policy denial or a limit reached: audited, and the ticket escalates with the reason. */
  function refuse(t: Ticket, g: GateResult & { ok: false }, rec: { type: ActionType; target: string }): void {
    refused.push({ by: refusedBy(g.blockedBy), type: rec.type, target: rec.target, ticketId: t.id });
    audit.push({ kind: g.blockedBy === 'limit' ? 'policy.limit_reached' : 'policy.denied', subject: t.id, data: { type: rec.type, target: rec.target, reason: g.reason, blockedBy: g.blockedBy, ...(g.rule ? { rule: g.rule } : {}), policy: g.checks } });
    setStatus(t, 'escalated', `${g.reason}; leaving ${rec.target} alone`);
  }

  /** A refusal the ticket waits out: audited when it starts (or its reason changes), not on every pass. */
  function defer(t: Ticket, g: GateResult & { ok: false }, rec: { type: ActionType; target: string }): void {
    if (t.reason !== g.reason) refused.push({ by: refusedBy(g.blockedBy), type: rec.type, target: rec.target, ticketId: t.id });
    // A freeze is audited once as itself (agent.frozen), not once per ticket it holds.
    if (t.reason !== g.reason && g.blockedBy !== 'frozen') {
      audit.push({ kind: 'policy.deferred', subject: t.id, data: { type: rec.type, target: rec.target, reason: g.reason, blockedBy: g.blockedBy, ...(g.rule ? { rule: g.rule } : {}), policy: g.checks } });
    }
    setStatus(t, 'open', g.reason);
  }

  /** A proposal a person approved: policy and limits are checked again now; the person was the approval. */
  function runApproved(t: Ticket, a: Action): void {
    const g = gateFor(a.type, a.target);
    if (!g.ok && !WAITS.has(g.blockedBy)) {
      onA(a, { type: 'cancel', by: config.agent.name, reason: g.reason });
      refuse(t, g, a);
      return;
    }
    if (!g.ok) { defer(t, g, a); return; }
    setStatus(t, 'remediating', `approved by ${a.approvedBy ?? 'someone'}`);
    runIfReady(a);
  }

  /** A verification window starting now: wall times to show, monotonic times to decide on. */
  function startVerification(t: Ticket): Ticket {
    const deadlineMs = config.agent.verifyDeadlineMs;
    return onT(t, {
      type: 'verification',
      verification: { startedAt: now, deadline: now + deadlineMs, healthySince: null },
      mono: { boot: input.boot, startedAt: input.mono, deadline: input.mono + deadlineMs, healthySince: null },
    });
  }

  function verify(t: Ticket, p: Problem | undefined): void {
    // A window from another boot (monotonic time restarted) or from before monotonic stamps cannot
    // be measured: it starts again rather than be compared on the wall clock.
    if (!t.verification || t.verificationMono?.boot !== input.boot) t = startVerification(t);
    const v = t.verification!;
    const m = t.verificationMono!;
    const root = healthOf(t.service);
    // A subject repaired one step at a time: the step's member is back but an invariant still
    // breaks (a quorum needs two members back). That step held; the next is chosen afresh.
    const step = ticketActions(t).at(-1);
    if (detection.subjects[t.service]?.health === 'unhealthy' && step?.state === 'completed' && detection.health[step.target]?.health === 'healthy') {
      // The next step is chosen from the subject's own reading: one taken before this step ended
      // (or in the same millisecond) says nothing of it (a backend defragmented would read as still
      // full). Both stamps are this daemon's clock.now(); the loop is woken when a reading differs.
      const read = input.world.subjects?.[t.service];
      if (read !== undefined && (step.finishedAt === null || read.at <= step.finishedAt)) return;
      t = onT(t, { type: 'step_held', reason: `${step.target} is healthy again; ${t.service} still: ${root?.reason ?? 'unknown'}` });
      if (p) { t = needDiagnosis(t, p); if (t.status === 'open') plan(t); }
      return;
    }
    if (root?.health === 'missing') {
      // The repaired process is gone again: the repair did not hold. Plan again; the rate limits
      // and the failed-repair backstop decide whether another attempt is allowed.
      t = onT(t, { type: 'verification_failed', reason: root.reason });
      if (startRevert(t, root.reason)) return;
      if (p) { t = needDiagnosis(t, p); if (t.status === 'open') plan(t); }
      return;
    }
    // A restarted service may fail its checks while it starts: wait for healthy until the deadline.
    // Dependents that still fail once the root is stably healthy get tickets of their own.
    if (root?.health === 'healthy') {
      if (m.healthySince === null) {
        t = onT(t, { type: 'verification', verification: { ...v, healthySince: now }, mono: { ...m, healthySince: input.mono } });
      }
      const since = t.verificationMono!.healthySince!;
      const healthyFor = Math.round(input.mono - since); // monotonic time has fractions of a ms
      if (healthyFor >= config.agent.verifyStableMs) {
        onT(t, { type: 'verified', healthyForMs: healthyFor, tookMs: Math.round(input.mono - m.startedAt) });
      }
      return;
    }
    if (m.healthySince !== null) t = onT(t, { type: 'verification', verification: { ...v, healthySince: null }, mono: { ...m, healthySince: null } });
    if (input.mono > m.deadline) {
      const why = `${t.service} not healthy within ${config.agent.verifyDeadlineMs} ms after repair: ${root?.reason ?? 'unknown'}`;
      if (revertOf(t)) { startRevert(onT(t, { type: 'verification_failed', reason: why }), why); return; }
      setStatus(t, 'escalated', why);
    }
  }

  /** The repair of this ticket whose verification failed and its declared revert, or null. */
  function revertOf(t: Ticket): { orig: Action; revert: NonNullable<ReturnType<typeof declaredRevert>> } | null {
    const orig = revertable(ticketActions(t).at(-1), `${t.id}#${t.occurrences}/`);
    const revert = orig ? declaredRevert(specOfName.get(orig.target), orig) : null;
    return orig && revert ? { orig, revert } : null;
  }

  /**
   * A repair whose verification failed is undone by its declared revert when the policy as it is
   * now allows it (a person approves it first where a rule says so, or in recommend mode); says
   * whether a revert was declared (then the ticket's next status is set here).
   */
  function startRevert(t: Ticket, why: string): boolean {
    const found = revertOf(t);
    if (!found) return false;
    const { orig, revert: r } = found;
    const g = gateFor(r.type, orig.target);
    if (!g.ok) {
      refused.push({ by: refusedBy(g.blockedBy), type: r.type, target: orig.target, ticketId: t.id });
      audit.push({ kind: g.blockedBy === 'limit' ? 'policy.limit_reached' : 'policy.denied', subject: t.id, data: { type: r.type, target: orig.target, reason: g.reason, blockedBy: g.blockedBy, revertOf: orig.id, ...(g.rule ? { rule: g.rule } : {}), policy: g.checks } });
      setStatus(t, 'escalated', revertRefusedReason(orig, why, r, g.reason));
      return true;
    }
    const ask = g.approval === 'required' || config.agent.mode === 'recommend';
    const approval = approvalOf(g.rule, config.policy);
    const pr = proposeAction({
      id: newId('A'), type: r.type, target: orig.target, params: { ...r.params }, ticketId: t.id, idempotencyKey: `${t.id}#${t.occurrences}/revert:${orig.id}`,
      state: ask ? 'awaiting_approval' : 'validated', why: { reason: `verification failed: ${why}`, policy: g.checks }, revertOf: orig.id, ...(ask && approval ? { approval } : {}),
    }, ctx);
    const a = putA(pr.next, pr.audit);
    t = onT(t, { type: 'action_added', actionId: a.id });
    if (ask) { setStatus(t, 'awaiting_approval', `${revertingReason(orig, why, a)} once approved: warden actions approve ${a.id}`); return true; }
    setStatus(t, 'remediating', revertingReason(orig, why, a));
    runIfReady(a);
    return true;
  }

  /**
   * Whether a subject's ticket is being diagnosed for the next step of a repair whose last step
   * held (its action completed, no verification failed in this occurrence): the problem is the
   * same, so its root cause stays the first broken thing (two members killed stay quorum_lost
   * after the first is back, though only "a member down" is left to see).
   */
  function nextStep(t: Ticket): boolean {
    const occurrence = t.history?.at(-1);
    return detection.subjects[t.service] !== undefined && t.cause !== null &&
      ticketActions(t).at(-1)?.state === 'completed' && occurrence?.n === t.occurrences && occurrence.verification === null;
  }

  /**
   * Whether a subject's ticket is waiting out a known cause (a partition) and the new diagnosis
   * asks for no action either: what shows while the problem mends (an election as a member
   * rejoins, a check and a reading that disagree for a moment) is its aftermath, not a new root.
   */
  function waitingOut(t: Ticket, d: Diagnosis): boolean {
    return detection.subjects[t.service] !== undefined && t.diagnosis?.waitFor !== undefined &&
      t.cause !== null && t.cause !== 'unknown' && d.recommended.length === 0;
  }

  /** Queues a validated action whose wait is over; says whether it is queued. */
  function runIfReady(a: Action): boolean {
    // A policy that does not validate now stops what was validated before, too.
    if (a.state !== 'validated' || input.frozen || (input.policyError ?? null) !== null) return false;
    if (retryIn(a, instant) > 0) return false;
    if (!execute.includes(a.id)) execute.push(a.id);
    return true;
  }

  /** Where a restart (or start) of a service stands in its backoff streak; null when it has none. */
  function backoffFor(type: ActionType, target: string): ReturnType<typeof restartBackoff> | null {
    const b = specOfName.get(target)?.restartBackoff;
    if (!b || (type !== 'restart' && type !== 'start')) return null;
    return restartBackoff(b, streakStarts(target), instant, streakStart(target));
  }

  /** Restarts and starts of a service since its streak began (all that were read when none did). */
  function streakStarts(target: string): StartedAction[] {
    const since = streakStart(target);
    return input.started.filter((s) => s.target === target && (s.type === 'restart' || s.type === 'start') && (!since || atOrAfter(s.startedAt, s.stamp, since)));
  }

  /** The later of a person's reset and the last end of a streak by health. */
  function streakStart(target: string): WindowStart | undefined {
    const [a, b] = [input.limitResets[target], input.backoffResets?.[target]];
    // The later of the two, compared like any two moments (monotonic within a boot): a wall-clock
    // step must not reorder them.
    const latest = a && b ? (atOrAfter(b.wall, b, windowStart(a, 0)) ? b : a) : (a ?? b);
    return latest ? windowStart(latest, 0) : undefined;
  }

  /** Services with restarts in their streak that have now been healthy for resetAfter: it ends. */
  function endedStreaks(): Record<string, Instant> {
    const ended: Record<string, Instant> = {};
    for (const target of new Set(input.started.map((s) => s.target))) {
      const b = specOfName.get(target)?.restartBackoff;
      if (!b || detection.health[target]?.health !== 'healthy' || streakStarts(target).length === 0) continue;
      const healthy = healthyForMs(input.world.services[target], instant);
      if (healthy !== null && healthy >= b.resetAfterMs) ended[target] = instant;
    }
    return ended;
  }
}

function failedReason(a: Action): string {
  return `action ${a.id} (${a.type} ${a.target}) failed: ${a.error ?? 'unknown error'}`;
}

/** Why a flapping ticket's automation stopped, and how to resume it. */
export function flappingReason(t: Ticket, reopenWindowMs: number): string {
  return `flapping: ${t.flapStreak ?? t.occurrences} occurrences, each back within ${formatDuration(reopenWindowMs)} of being resolved; automation stopped; resolve by hand to resume`;
}

function sameFindings(a: readonly Finding[], b: readonly Finding[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const OPEN_WORK: readonly TicketStatus[] = ['remediating', 'verifying', 'awaiting_approval'];

/** Actions planned and not started: what putting a target in shadow cancels. */
const PENDING: readonly Action['state'][] = ['proposed', 'validated', 'awaiting_approval'];

export function summarize(detection: Detection, tickets: readonly Ticket[]): Summary {
  if (tickets.some((t) => t.flapping || t.status === 'escalated' || t.cause === 'crash_loop')) return 'unstable';
  if (tickets.some((t) => OPEN_WORK.includes(t.status))) return 'reconciling';
  // A declared service that never started is missing too, whether or not a start is under way.
  if (detection.findings.length > 0 || detection.neverStarted.length > 0 || tickets.some((t) => t.status !== 'resolved')) return 'degraded';
  return 'nominal';
}

/** The recommendation-only view of a pass: what Warden would do, and what blocks it. */
export function buildReport(
  config: ResolvedConfig,
  detection: Detection,
  openTickets: readonly Ticket[],
  deployRecs: Recommendation[],
  gateFor: (type: ActionType, target: string) => GateResult,
  waiting: ReadonlyMap<string, string> = new Map(),
): ReconcileReport {
  const findings: Finding[] = [];
  const recommendations: Recommendation[] = [];
  const byFp = new Map(openTickets.filter((t) => t.status !== 'resolved').map((t) => [t.fingerprint, t]));
  for (const p of detection.problems) {
    findings.push(...p.findings);
    const t = byFp.get(p.fingerprint);
    const rootFinding = p.findings.find((f) => f.service === p.service);
    for (const f of p.findings) {
      if (f.service !== p.service) {
        recommendations.push({ event: 'reconcile_blocked', action: null, target: f.service, reason: `root cause is ${p.service}; waiting for it to recover` });
      }
    }
    if (!rootFinding) continue;
    if (t && (t.status === 'escalated' || t.status === 'held')) {
      recommendations.push({ event: 'reconcile_blocked', action: null, target: p.service, reason: `ticket ${t.id} is ${t.status}: ${t.reason ?? ''}`.trim() });
      continue;
    }
    const rec = t?.diagnosis?.recommended[0] ?? defaultRec(rootFinding);
    if (!rec) {
      recommendations.push({ event: 'reconcile_blocked', action: null, target: p.service, reason: `no automatic repair for ${rootFinding.kind}` });
      continue;
    }
    const g = gateFor(rec.type, rec.target);
    const event = !g.ok && g.blockedBy !== 'mode' ? 'reconcile_blocked' : rootFinding.kind === 'missing_service' ? 'reconcile_required' : 'reconcile_recommended';
    const wait = t ? waiting.get(t.id) : undefined;
    const reason = !g.ok && g.blockedBy !== 'mode' ? g.reason : wait ? `${rootFinding.reason}; ${wait}` : rootFinding.reason;
    recommendations.push({ event, action: rec.type, target: rec.target, reason });
  }
  for (const t of openTickets) {
    if (t.status === 'escalated' || t.status === 'held') {
      findings.push({ kind: 'unresolved_incident', service: t.service, host: t.host, reason: `ticket ${t.id} ${t.status}: ${t.reason ?? ''}`.trim() });
    }
  }
  recommendations.push(...deployRecs);
  return { summary: summarize(detection, openTickets), findings, recommendations };
}

function defaultRec(f: Finding): { type: ActionType; target: string } | null {
  if (f.kind === 'missing_service' || f.kind === 'unhealthy_service') return { type: 'restart', target: f.service };
  return null;
}
