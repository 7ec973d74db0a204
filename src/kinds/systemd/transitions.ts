// Exits found by comparing two observations of one unit. systemd restarts services itself
// (Restart=), often faster than a poll, so a crash can happen and be repaired between two looks:
// NRestarts and the main process's start stamp reveal those hidden exits, which is how a crash
// loop systemd keeps papering over still counts as one (DESIGN rule 5).
import type { Millis } from '../../domain/types.js';
import {
  int, mainExit, mainUptimeMs, monotonicUs, str, timestamp, type ExitStatus, type UnitProperties,
} from './properties.js';

export interface ObservedExit extends ExitStatus {
  /** When it ended, from systemd's stamps when it says; null: only "between two polls" is known. */
  at: Millis | null;
  uptimeMs: number | null;
}

export interface Observation {
  props: UnitProperties;
  /** unitHealth(...).running for these props. */
  running: boolean;
}

const UNKNOWN: ObservedExit = { at: null, code: null, signal: null, uptimeMs: null };

/** The exits of the main process's current run, when systemd has recorded its end. */
function currentRunExit(props: UnitProperties): ObservedExit {
  const exit = mainExit(props);
  const start = monotonicUs(props, 'ExecMainStartTimestampMonotonic');
  const end = monotonicUs(props, 'ExecMainExitTimestampMonotonic');
  if (exit === null || start === null || end === null || end < start) {
    return { ...UNKNOWN, at: timestamp(props, 'InactiveEnterTimestamp') };
  }
  return { ...exit, at: timestamp(props, 'ExecMainExitTimestamp'), uptimeMs: mainUptimeMs(props) };
}

/** How many runs systemd started by itself between the two observations. */
function autoRestarts(prev: UnitProperties, cur: UnitProperties): number {
  const a = int(prev, 'NRestarts');
  const b = int(cur, 'NRestarts');
  if (b === null) return 0;
  // The counter is flushed on a start after an end systemd did not restart from (a manual stop,
  // a restart job, giving up): everything counted since then happened between the two looks.
  return a === null || b < a ? b : b - a;
}

function runId(props: UnitProperties): number | null {
  return monotonicUs(props, 'ExecMainStartTimestampMonotonic') ?? int(props, 'ExecMainPID');
}

/**
 * Exits between two observations, oldest first. A "run" is one start of the main process; each run
 * that ended is one exit:
 * - the run seen alive before, if it is no longer the alive one;
 * - runs started after `prev` (auto-restarts from NRestarts, at least one when the main process's
 *   start stamp changed): every one but the last ended unseen, and the last ended too when the unit
 *   is down now.
 * The exit status is known only for the run systemd's ExecMain* properties still describe.
 */
export function exitsBetween(prev: Observation, cur: Observation): ObservedExit[] {
  const before = runId(prev.props);
  const now = runId(cur.props);
  const runChanged = now !== null && now !== before;
  const started = Math.max(autoRestarts(prev.props, cur.props), runChanged ? 1 : 0);
  const exits: ObservedExit[] = [];
  if (prev.running && (started > 0 || !cur.running)) {
    // Still the same run: ExecMain* describes how it ended.
    exits.push(started === 0 ? currentRunExit(cur.props) : UNKNOWN);
  }
  for (let i = 1; i < started; i++) exits.push(UNKNOWN);
  if (started > 0 && !cur.running) {
    // ExecMain* describe the newest run only when its start stamp is new (an ExecStartPre failure
    // never starts a main process, so the stamps still belong to an older run).
    exits.push(runChanged ? currentRunExit(cur.props) : UNKNOWN);
  }
  return exits;
}

/** The exit a unit already shows at first sight: it failed before Warden looked. */
export function exitAtFirstSight(cur: Observation): ObservedExit | null {
  if (cur.running) return null;
  const result = str(cur.props, 'Result');
  if (result === null || result === 'success') return null;
  return currentRunExit(cur.props);
}

/** A finished run of a timer's job: start and end of its last activation (inactive → … → inactive). */
export interface JobRun {
  /** InactiveEnterTimestampMonotonic: identifies the run by its end. */
  endUs: number;
  ok: boolean;
  exit: ObservedExit;
}

/**
 * The job's last finished run, or null while one runs or none has. Inactive* stamps, unlike
 * ExecMain*, move even when the run failed before its main process started (ExecStartPre, exec).
 */
export function lastJobRun(job: UnitProperties | null): JobRun | null {
  if (job === null) return null;
  const active = str(job, 'ActiveState');
  if (active !== 'inactive' && active !== 'failed') return null;
  const start = monotonicUs(job, 'InactiveExitTimestampMonotonic');
  const end = monotonicUs(job, 'InactiveEnterTimestampMonotonic');
  if (start === null || end === null || end < start) return null;
  const result = str(job, 'Result');
  const exit = currentRunExit(job);
  return {
    endUs: end,
    ok: result === null || result === 'success',
    exit: { ...exit, uptimeMs: exit.uptimeMs ?? Math.round((end - start) / 1000) },
  };
}
