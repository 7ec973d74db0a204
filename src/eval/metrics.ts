// The eval's figures, AIOpsLab-style, from the runs' results: pure, so the definitions are tested
// apart from any lab. Every rate is a fraction (0..1) over the runs it applies to, with its counts.
import type { FaultResult } from '../demo/demo.js';

export interface RunRecord {
  scenario: string;
  repetition: number;
  covered: boolean;
  /** AIOpsLab's fault type this scenario stands for, if any. */
  aiopslab: string | null;
  result: FaultResult;
  /** The run could not be set up or injected (not root, a binary missing): counted nowhere. */
  error: string | null;
  /** With --keep, the run's warden.yaml (its store and logs beside it), for `warden --config … explain`. */
  config?: string | null;
}

export interface Rate { rate: number | null; hits: number; of: number }
export interface Spread { p50: number | null; p95: number | null; n: number }

export interface Metrics {
  runs: number;
  faultRuns: number;
  controlRuns: number;
  errors: number;
  /** A ticket opened for the fault. */
  detection: Rate;
  /** The ticket names the expected root service. */
  localization: Rate;
  /** The expected root service and cause. */
  rootCause: Rate;
  /** The same over scenarios whose cause Warden claims to cover. */
  rootCauseCovered: Rate;
  /** The run ended as expected: resolved and verified when a repair can work, escalated untouched when none can. */
  mitigation: Rate;
  /** Control runs in which a ticket opened or Warden acted. */
  falsePositives: Rate;
  timeToDetectMs: Spread;
  timeToMitigateMs: Spread;
  /** Warden's actions on services that were not the root cause. */
  needlessActions: number;
  llm: { calls: number; tokens: number };
  /** Runs that met every expectation. */
  passed: Rate;
}

function rate(hits: number, of: number): Rate {
  return { rate: of === 0 ? null : hits / of, hits, of };
}

/** The nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), n: s.length };
}

const located = (r: FaultResult): boolean => r.ticket !== null && r.ticket.rootService === (r.expect.root ?? r.expect.service);
const rightCause = (r: FaultResult): boolean => located(r) && r.ticket!.cause === r.expect.cause;

export function computeMetrics(records: readonly RunRecord[], llm = { calls: 0, tokens: 0 }): Metrics {
  const done = records.filter((r) => r.error === null);
  const faults = done.filter((r) => r.result.expect.status !== 'none');
  const controls = done.filter((r) => r.result.expect.status === 'none');
  const covered = faults.filter((r) => r.covered);
  const count = (rs: readonly RunRecord[], f: (r: FaultResult) => boolean): number => rs.filter((r) => f(r.result)).length;
  return {
    runs: records.length,
    faultRuns: faults.length,
    controlRuns: controls.length,
    errors: records.length - done.length,
    detection: rate(count(faults, (r) => r.ticket !== null), faults.length),
    localization: rate(count(faults, located), faults.length),
    rootCause: rate(count(faults, rightCause), faults.length),
    rootCauseCovered: rate(count(covered, rightCause), covered.length),
    mitigation: rate(count(faults, (r) => r.ticket !== null && r.ticket.status === r.expect.status), faults.length),
    falsePositives: rate(count(controls, (r) => r.ticket !== null || r.actions.length > 0), controls.length),
    timeToDetectMs: spread(faults.flatMap((r) => (r.result.detectMs === null ? [] : [r.result.detectMs]))),
    timeToMitigateMs: spread(faults.flatMap((r) => (r.result.recoverMs === null ? [] : [r.result.recoverMs]))),
    needlessActions: done.reduce((n, r) => n + r.result.needless, 0),
    llm,
    passed: rate(count(done, (r) => r.ok), done.length),
  };
}
