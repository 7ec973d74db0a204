// One reconcile decision: (inventory, world, tickets, actions, clock) → (changed tickets, changed
// actions, audit records, actions to execute, report). Pure: every effect is returned, not done;
// the runtime persists the result in one transaction and only then runs the effects.
import { diagnose } from '../diagnosis/rules.js';
import { detect, type Detection, type Problem } from './detect.js';
import { elapsed, stampOf, type Instant } from './elapsed.js';
import { gate, type CountStarted, type GateResult } from './policy.js';
import type {
  Action, ActionType, Diagnosis, Finding, ReconcileReport, Recommendation, ResolvedConfig, Summary,
  Ticket, TicketStatus, World,
} from './types.js';

export interface AuditIntent {
  kind: string;
  subject: string | null;
  data: Record<string, unknown>;
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
  countStarted: CountStarted;
  latestByFingerprint: (fingerprint: string) => Ticket | null;
  newId: (kind: 'T' | 'A') => string;
  logTail: (service: string) => readonly string[];
}

export interface DecideOutput {
  detection: Detection;
  tickets: Ticket[];
  actions: Action[];
  audit: AuditIntent[];
  /** Action ids to execute now, in order. */
  execute: string[];
  report: ReconcileReport;
}

/** Verification failures after which a ticket escalates whatever the rate limits say. */
export const MAX_FAILED_REPAIRS = 5;

const MAX_ATTEMPTS = 3;

export function decide(input: DecideInput): DecideOutput {
  const { config, now } = input;
  const instant: Instant = { wall: now, mono: input.mono, boot: input.boot };
  const tickets = new Map(input.tickets.map((t) => [t.id, structuredClone(t)]));
  const actions = new Map(input.actions.map((a) => [a.id, structuredClone(a)]));
  const changedT = new Set<string>();
  const changedA = new Set<string>();
  const audit: AuditIntent[] = [];
  const execute: string[] = [];
  const detection = detect(config, input.world, [...tickets.values()]);
  const hostOf = (svc: string): string => config.services.find((s) => s.name === svc)?.host ?? 'local';

  const touchT = (t: Ticket): void => { t.updatedAt = now; changedT.add(t.id); };
  const setStatus = (t: Ticket, status: TicketStatus, reason: string | null): void => {
    if (t.status === status && t.reason === reason) return;
    audit.push({ kind: 'ticket.status', subject: t.id, data: { from: t.status, to: status, reason, service: t.service } });
    t.status = status;
    t.reason = reason;
    if (status === 'resolved') { t.resolvedAt = now; t.resolvedMono = stampOf(instant); t.verification = null; t.verificationMono = null; }
    touchT(t);
  };
  const putA = (a: Action): void => { actions.set(a.id, a); changedA.add(a.id); };
  const ticketActions = (t: Ticket): Action[] => t.actionIds.map((id) => actions.get(id)).filter((a): a is Action => !!a);

  // 1. Attach each problem to its ticket: the open one, a recently resolved one (reopened), or a new one.
  const openByFp = new Map([...tickets.values()].map((t) => [t.fingerprint, t]));
  const problemOf = new Map<string, Problem>();
  for (const p of detection.problems) {
    let t = openByFp.get(p.fingerprint);
    if (!t) {
      // Only dependents' symptoms, no finding on the root itself (a dependency not started yet, which
      // the deploy step starts): there is nothing to diagnose or repair on the root, so no ticket.
      if (!p.findings.some((f) => f.service === p.service)) continue;
      const prev = input.latestByFingerprint(p.fingerprint);
      if (prev && prev.status === 'resolved' && prev.resolvedAt != null && elapsed(instant, prev.resolvedAt, prev.resolvedMono) <= config.agent.reopenWindowMs) {
        t = structuredClone(prev);
        t.occurrences += 1;
        t.flapping = t.occurrences >= config.agent.flapThreshold;
        t.status = 'open';
        t.reason = null;
        t.resolvedAt = null;
        t.resolvedMono = null;
        t.verification = null;
        t.verificationMono = null;
        t.failedRepairs = 0;
        t.step = 0;
        audit.push({ kind: 'ticket.reopened', subject: t.id, data: { fingerprint: t.fingerprint, occurrences: t.occurrences, flapping: t.flapping } });
      } else {
        t = newTicket(input.newId('T'), p, now);
        audit.push({ kind: 'ticket.opened', subject: t.id, data: { fingerprint: t.fingerprint, service: t.service, findings: p.findings } });
      }
      tickets.set(t.id, t);
      openByFp.set(t.fingerprint, t);
      touchT(t);
    }
    if (!sameFindings(t.findings, p.findings)) { t.findings = p.findings; touchT(t); }
    problemOf.set(t.id, p);
  }

  // 2. Move every open ticket along its lifecycle.
  for (const t of tickets.values()) {
    const p = problemOf.get(t.id);
    const last = ticketActions(t).at(-1);
    // The root itself may have recovered while dependents still show symptoms: nothing is left to
    // diagnose or repair on the root (re-diagnosing it would read "unknown" and escalate).
    const rootBroken = p?.findings.some((f) => f.service === t.service) ?? false;
    // Diagnose before planning. While a repair is verified, symptoms of a restarting service are
    // expected and must not rewrite the diagnosis that chose the repair.
    if (p && rootBroken && (t.status === 'open' || t.status === 'diagnosing')) rediagnose(t, p);

    switch (t.status) {
      case 'open':
      case 'diagnosing':
        if (!p || !rootBroken) {
          for (const a of ticketActions(t)) if (a.state === 'proposed') cancel(a, 'the problem went away');
          setStatus(t, 'resolved', 'recovered without action');
          break;
        }
        plan(t, p);
        break;
      case 'awaiting_approval':
        if (!last) { setStatus(t, 'open', null); break; }
        // Recovered before a person answered: approving now would restart a healthy service.
        if (!rootBroken && last.state === 'awaiting_approval') {
          cancel(last, 'the problem went away before approval');
          setStatus(t, 'resolved', 'recovered before approval');
        } else if (last.state === 'validated') {
          setStatus(t, 'remediating', `approved by ${last.approvedBy ?? 'someone'}`);
          runIfReady(last);
        } else if (last.state === 'cancelled') {
          setStatus(t, 'held', `action ${last.id} rejected${last.error ? `: ${last.error}` : ''}; automation stopped for this ticket`);
        }
        break;
      case 'remediating':
        if (!last) { setStatus(t, 'open', null); break; }
        if (last.state === 'validated') runIfReady(last);
        else if (last.state === 'completed' && t.diagnosis?.recommended[(t.step ?? 0) + 1] && p) {
          // A chain (runbook, then restart): the next step is planned and gated like the first.
          t.step = (t.step ?? 0) + 1;
          touchT(t);
          plan(t, p);
        } else if (last.state === 'completed') {
          startVerification(t);
          setStatus(t, 'verifying', `verifying ${last.type} of ${last.target}`);
        } else if (last.state === 'failed') {
          setStatus(t, 'escalated', `action ${last.id} (${last.type} ${last.target}) failed: ${last.error ?? 'unknown error'}`);
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

  // 3. Deploy: services that never ran are started once their dependencies are healthy.
  const deployRecs: Recommendation[] = [];
  for (const name of detection.neverStarted) {
    const spec = config.services.find((s) => s.name === name)!;
    const waiting = spec.dependsOn.filter((d) => detection.health[d]?.health !== 'healthy');
    if (waiting.length > 0) {
      deployRecs.push({ event: 'reconcile_blocked', action: 'start', target: name, reason: `waiting for ${waiting.join(', ')} to be healthy` });
      continue;
    }
    const g = gateFor('start', name);
    // Recommendations say what Warden would do whatever the mode; only policy, limits and freeze block.
    deployRecs.push(g.ok || g.blockedBy === 'mode'
      ? { event: 'reconcile_required', action: 'start', target: name, reason: 'declared but not running' }
      : { event: 'reconcile_blocked', action: 'start', target: name, reason: g.reason });
    const pending = [...actions.values()].some((a) => a.ticketId === null && a.target === name && !isTerminal(a));
    if (!g.ok || pending) continue;
    // Recommend mode proposes the first start too; it never executes anything.
    const state = config.agent.mode === 'recommend' ? 'proposed' : g.approval === 'required' ? 'awaiting_approval' : 'validated';
    const a = newAction('start', name, {}, null, `deploy:${name}:${now}`, state);
    putA(a);
    audit.push({ kind: 'action.proposed', subject: a.id, data: { type: a.type, target: name, reason: 'declared but not running', state: a.state } });
    runIfReady(a);
  }
  // Deploy actions approved later, or waiting for a retry.
  for (const a of actions.values()) if (a.ticketId === null && a.state === 'validated') runIfReady(a);

  const report = buildReport(config, detection, [...tickets.values()], deployRecs, gateFor);
  return {
    detection,
    tickets: [...changedT].map((id) => tickets.get(id)!),
    actions: [...changedA].map((id) => actions.get(id)!),
    audit,
    execute,
    report,
  };

  // ------------------------------------------------------------ helpers over the pass state

  function gateFor(type: ActionType, target: string): GateResult {
    return gate({ config, type, target, host: hostOf(target), frozen: input.frozen, now: instant, countStarted: input.countStarted });
  }

  function rediagnose(t: Ticket, p: Problem): void {
    const d = diagnose({ config, world: input.world, problem: p, now, logTail: input.logTail(p.service) });
    const prev = t.diagnosis;
    if (prev && prev.rootCause.cause === d.rootCause.cause && prev.confidence === d.confidence && sameRecs(prev, d)) return;
    t.diagnosis = d;
    t.rootCause = d.rootCause;
    t.cause = d.rootCause.cause;
    t.confidence = d.confidence;
    t.diagnosedAt = now;
    touchT(t);
    audit.push({ kind: 'ticket.diagnosed', subject: t.id, data: { cause: d.rootCause.cause, service: d.rootCause.service, confidence: d.confidence, evidence: d.evidence, alternatives: d.alternatives, recommended: d.recommended } });
  }

  function plan(t: Ticket, _p: Problem): void {
    const d = t.diagnosis;
    // The current step of the repair chain (0 unless a chain is under way).
    const rec = d?.recommended[t.step ?? 0];
    if (config.agent.mode === 'observe') { setStatus(t, 'open', 'observe mode: no action proposed'); return; }
    if (!d || !rec) { setStatus(t, 'escalated', `no automatic repair for cause ${t.cause ?? 'unknown'}; a person must act`); return; }
    if (t.failedRepairs >= MAX_FAILED_REPAIRS) { setStatus(t, 'escalated', `${t.failedRepairs} repairs did not hold; leaving ${t.service} alone`); return; }
    const key = `${t.id}#${t.occurrences}/${t.actionIds.length + 1}:${rec.type}:${rec.target}`;
    if (config.agent.mode === 'recommend') {
      const already = ticketActions(t).some((a) => a.state === 'proposed' && a.type === rec.type && a.target === rec.target);
      if (!already) {
        const a = newAction(rec.type, rec.target, rec.params, t.id, key, 'proposed');
        putA(a);
        t.actionIds.push(a.id);
        audit.push({ kind: 'action.proposed', subject: a.id, data: { ticket: t.id, type: a.type, target: a.target, state: 'proposed', reason: 'recommend mode' } });
      }
      setStatus(t, 'open', `recommend mode: ${rec.type} ${rec.target} proposed, not executed`);
      return;
    }
    const g = gateFor(rec.type, rec.target);
    if (!g.ok) {
      if (g.blockedBy === 'frozen') { setStatus(t, 'open', g.reason); return; }
      audit.push({ kind: g.blockedBy === 'limit' ? 'policy.limit_reached' : 'policy.denied', subject: t.id, data: { type: rec.type, target: rec.target, reason: g.reason } });
      setStatus(t, 'escalated', `${g.reason}; leaving ${rec.target} alone`);
      return;
    }
    const a = newAction(rec.type, rec.target, rec.params, t.id, key, g.approval === 'required' ? 'awaiting_approval' : 'validated');
    putA(a);
    t.actionIds.push(a.id);
    touchT(t);
    audit.push({ kind: 'action.proposed', subject: a.id, data: { ticket: t.id, type: a.type, target: a.target, state: a.state, cause: t.cause } });
    if (a.state === 'awaiting_approval') { setStatus(t, 'awaiting_approval', `${a.type} ${a.target} needs approval: warden actions approve ${a.id}`); return; }
    setStatus(t, 'remediating', `${a.type} ${a.target}`);
    runIfReady(a);
  }

  /** A verification window starting now: wall times to show, monotonic times to decide on. */
  function startVerification(t: Ticket): void {
    const deadlineMs = config.agent.verifyDeadlineMs;
    t.verification = { startedAt: now, deadline: now + deadlineMs, healthySince: null };
    t.verificationMono = { boot: input.boot, startedAt: input.mono, deadline: input.mono + deadlineMs, healthySince: null };
  }

  function verify(t: Ticket, p: Problem | undefined): void {
    // A window from another boot (monotonic time restarted) or from before monotonic stamps cannot
    // be measured: it starts again rather than be compared on the wall clock.
    if (!t.verification || t.verificationMono?.boot !== input.boot) { startVerification(t); touchT(t); }
    const v = t.verification!;
    const m = t.verificationMono!;
    const root = detection.health[t.service];
    if (root?.health === 'missing') {
      // The repaired process is gone again: the repair did not hold. Plan again; the rate limits
      // and the failed-repair backstop decide whether another attempt is allowed.
      t.failedRepairs += 1;
      t.verification = null;
      t.verificationMono = null;
      t.step = 0; // a new repair starts its chain from the first step
      audit.push({ kind: 'ticket.verification_failed', subject: t.id, data: { service: t.service, reason: root.reason, failedRepairs: t.failedRepairs } });
      setStatus(t, 'open', `repair did not hold: ${root.reason}`);
      if (p) { rediagnose(t, p); plan(t, p); }
      return;
    }
    // A restarted service may fail its checks while it starts: wait for healthy until the deadline.
    // Dependents that still fail once the root is stably healthy get tickets of their own.
    if (root?.health === 'healthy') {
      if (m.healthySince === null) { m.healthySince = input.mono; v.healthySince = now; touchT(t); }
      t.verification = v;
      const healthyFor = Math.round(input.mono - m.healthySince); // monotonic time has fractions of a ms
      if (healthyFor >= config.agent.verifyStableMs) {
        audit.push({ kind: 'ticket.verified', subject: t.id, data: { service: t.service, healthyForMs: healthyFor, tookMs: Math.round(input.mono - m.startedAt) } });
        setStatus(t, 'resolved', `healthy for ${healthyFor} ms after repair`);
      }
      return;
    }
    if (m.healthySince !== null) { m.healthySince = null; v.healthySince = null; touchT(t); }
    t.verification = v;
    if (input.mono > m.deadline) {
      t.verification = null;
      t.verificationMono = null;
      setStatus(t, 'escalated', `${t.service} not healthy within ${config.agent.verifyDeadlineMs} ms after repair: ${root?.reason ?? 'unknown'}`);
    }
  }

  function runIfReady(a: Action): void {
    if (a.state !== 'validated' || input.frozen) return;
    if (a.notBefore != null && a.notBefore > now) return;
    if (!execute.includes(a.id)) execute.push(a.id);
  }

  function cancel(a: Action, why: string): void {
    a.state = 'cancelled';
    a.error = why;
    a.finishedAt = now;
    putA(a);
    audit.push({ kind: 'action.cancelled', subject: a.id, data: { reason: why } });
  }

  function newAction(type: ActionType, target: string, params: Record<string, string>, ticketId: string | null, key: string, state: Action['state']): Action {
    return {
      id: input.newId('A'), ticketId, type, target, params, state, attempts: 0, maxAttempts: MAX_ATTEMPTS,
      idempotencyKey: key, requestedBy: config.agent.name, approvedBy: null, createdAt: now,
      startedAt: null, finishedAt: null, notBefore: null, error: null,
    };
  }
}

function isTerminal(a: Action): boolean {
  return a.state === 'completed' || a.state === 'failed' || a.state === 'cancelled';
}

function newTicket(id: string, p: Problem, now: number): Ticket {
  return {
    id, fingerprint: p.fingerprint, status: 'open', service: p.service, host: p.host, findings: p.findings,
    cause: null, rootCause: null, confidence: null, occurrences: 1, flapping: false, openedAt: now,
    diagnosedAt: null, resolvedAt: null, updatedAt: now, actionIds: [], diagnosis: null, verification: null,
    reason: null, failedRepairs: 0,
  };
}

function sameFindings(a: readonly Finding[], b: readonly Finding[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameRecs(a: Diagnosis, b: Diagnosis): boolean {
  return JSON.stringify(a.recommended) === JSON.stringify(b.recommended);
}

const OPEN_WORK: readonly TicketStatus[] = ['remediating', 'verifying', 'awaiting_approval'];

export function summarize(detection: Detection, tickets: readonly Ticket[]): Summary {
  if (tickets.some((t) => t.flapping || t.status === 'escalated' || t.cause === 'crash_loop')) return 'unstable';
  if (tickets.some((t) => OPEN_WORK.includes(t.status))) return 'reconciling';
  if (detection.findings.length > 0 || tickets.some((t) => t.status !== 'resolved')) return 'degraded';
  return 'nominal';
}

/** The recommendation-only view of a pass: what Warden would do, and what blocks it. */
export function buildReport(
  config: ResolvedConfig,
  detection: Detection,
  openTickets: readonly Ticket[],
  deployRecs: Recommendation[],
  gateFor: (type: ActionType, target: string) => GateResult,
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
    recommendations.push({ event, action: rec.type, target: rec.target, reason: !g.ok && g.blockedBy !== 'mode' ? g.reason : rootFinding.reason });
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
