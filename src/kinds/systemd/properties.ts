// Reading a systemd unit through `systemctl show`: parsing its KEY=VALUE output, and deciding purely
// what the properties say about liveness. "Active" is not "healthy" (DESIGN rule 5): Result,
// ExecMainCode/ExecMainStatus and NRestarts tell what ActiveState hides, and a timer is judged by
// the last run of the unit it triggers, because a timer stays active while every run fails.
import { constants } from 'node:os';
import type { Millis } from '../../domain/types.js';

/** One unit's block of `systemctl show` output. Absent keys: the unit type has no such property. */
export type UnitProperties = Readonly<Record<string, string>>;

/** Everything the driver asks for, for every unit; systemd leaves out what a unit type lacks. */
export const SHOW_PROPERTIES: readonly string[] = [
  'Id', 'LoadState', 'LoadError', 'ActiveState', 'SubState', 'Result', 'Type', 'Restart', 'RemainAfterExit',
  'MainPID', 'ExecMainPID', 'ExecMainCode', 'ExecMainStatus',
  'ExecMainStartTimestamp', 'ExecMainStartTimestampMonotonic', 'ExecMainExitTimestamp', 'ExecMainExitTimestampMonotonic',
  'NRestarts', 'ActiveEnterTimestamp', 'InactiveEnterTimestamp', 'InactiveEnterTimestampMonotonic',
  'InactiveExitTimestampMonotonic', 'StatusText', 'Unit', 'Triggers', 'LastTriggerUSec', 'NextElapseUSecRealtime',
];

/**
 * `show` honours --timestamp since systemd 251 (252 is Debian bookworm's): us+utc is unambiguous
 * (no local zone names) and keeps the microseconds that `unix` (whole seconds) would lose. It
 * applies only to *Timestamp properties until systemd 259: a timer's LastTriggerUSec and
 * NextElapseUSecRealtime, and everything on 248-250, come in the default form, which TZ=UTC in
 * systemctl's environment makes parseable. systemctl < 248 rejects the option; the driver drops it.
 */
export const TIMESTAMP_OPTION = '--timestamp=us+utc';

export function showArgs(units: readonly string[], timestampOption = true): string[] {
  return ['show', '--no-pager', ...(timestampOption ? [TIMESTAMP_OPTION] : []), '-p', SHOW_PROPERTIES.join(','), '--', ...units];
}

/**
 * `systemctl show a b` prints one block per unit, in argument order, separated by one empty line.
 * A property line is never empty (it is at least `Name=`), so an empty line can only separate.
 */
export function parseShow(text: string): UnitProperties[] {
  const blocks: UnitProperties[] = [];
  let cur: Record<string, string> | null = null;
  for (const line of text.split('\n')) {
    if (line === '') {
      if (cur !== null) blocks.push(cur);
      cur = null;
      continue;
    }
    const eq = line.indexOf('=');
    // systemd never prints anything else; skipping is safer than guessing what it meant.
    if (eq <= 0) continue;
    cur ??= {};
    cur[line.slice(0, eq)] = line.slice(eq + 1);
  }
  if (cur !== null) blocks.push(cur);
  return blocks;
}

// ---------------------------------------------------------------- values

/** A string property; empty, `[not set]` and `n/a` mean "no value". */
export function str(props: UnitProperties | null | undefined, key: string): string | null {
  const v = props?.[key];
  return v === undefined || v === '' || v === '[not set]' || v === 'n/a' ? null : v;
}

export function int(props: UnitProperties | null | undefined, key: string): number | null {
  const v = str(props, key);
  return v !== null && /^-?\d+$/.test(v) ? Number(v) : null;
}

/** A `...Monotonic` property (microseconds since boot); 0 means "never happened". */
export function monotonicUs(props: UnitProperties | null | undefined, key: string): number | null {
  const v = int(props, key);
  return v === null || v <= 0 ? null : v;
}

const UTC_TS = /^(?:[A-Za-z]{3} )?(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? (UTC|GMT)$/;
const UNIX_TS = /^@(\d+)(?:\.(\d{1,6}))?$/;

/**
 * A wall-clock timestamp property: `@1795442523` (--timestamp=unix), `Mon 2026-11-23 14:02:03.123456 UTC`
 * (us+utc) or `Mon 2026-11-23 14:02:03 UTC` (the default form under TZ=UTC). A local zone name
 * (CET, EST) is ambiguous, so it reads as unknown rather than as a wrong time.
 */
export function parseTimestamp(value: string | null | undefined): Millis | null {
  if (value == null || value === '' || value === 'n/a' || value === '[not set]') return null;
  const u = UNIX_TS.exec(value);
  if (u !== null) return Number(u[1]) * 1000 + fracMs(u[2]);
  const m = UTC_TS.exec(value);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + fracMs(frac);
}

function fracMs(frac: string | undefined): number {
  return frac === undefined ? 0 : Math.floor(Number(frac.padEnd(6, '0')) / 1000);
}

export function timestamp(props: UnitProperties | null | undefined, key: string): Millis | null {
  return parseTimestamp(props?.[key]);
}

const SIGNAL_NAMES: ReadonlyMap<number, string> = (() => {
  const names = new Map<number, string>();
  // First name wins for aliases (SIGABRT before SIGIOT, SIGIO before SIGPOLL).
  for (const [name, n] of Object.entries(constants.signals)) if (!names.has(n)) names.set(n, name);
  return names;
})();

export function signalName(n: number): string {
  return SIGNAL_NAMES.get(n) ?? `signal ${n}`;
}

/** siginfo si_code values systemd reports as ExecMainCode. */
const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;

export interface ExitStatus { code: number | null; signal: string | null }

/** How the unit's main process last ended; null while it runs or when it never ran. */
export function mainExit(props: UnitProperties | null | undefined): ExitStatus | null {
  const how = int(props, 'ExecMainCode');
  const status = int(props, 'ExecMainStatus');
  if (status === null) return null;
  if (how === CLD_EXITED) return { code: status, signal: null };
  if (how === CLD_KILLED || how === CLD_DUMPED) return { code: null, signal: signalName(status) };
  return null;
}

/** Milliseconds the main process ran, from systemd's monotonic stamps (immune to clock steps). */
export function mainUptimeMs(props: UnitProperties | null | undefined): number | null {
  const start = monotonicUs(props, 'ExecMainStartTimestampMonotonic');
  const end = monotonicUs(props, 'ExecMainExitTimestampMonotonic');
  return start === null || end === null || end < start ? null : Math.round((end - start) / 1000);
}

/** The unit a timer (or path/socket unit) starts: its `Unit=` property, else the first of `Triggers=`. */
export function triggeredUnitOf(props: UnitProperties | null | undefined): string | null {
  return str(props, 'Unit') ?? str(props, 'Triggers')?.split(' ')[0] ?? null;
}

export function unitType(unit: string): string {
  const dot = unit.lastIndexOf('.');
  return dot < 0 ? 'service' : unit.slice(dot + 1);
}

// ---------------------------------------------------------------- health

export interface UnitHealth {
  /** Up, as the unit's type defines it (a service: active; a timer: active and scheduling). */
  running: boolean;
  /** Running, but systemd reports its work failing (a timer whose job failed): one sentence. */
  failing: string | null;
  /** How the main process (a timer: its job's) last ended, when systemd knows. */
  exit: ExitStatus | null;
  /** Why health cannot be told from these properties (the unit is between states). */
  unknown: string | null;
  /** Set when the unit cannot run at all (not-found, masked, bad-setting): a deployment problem. */
  notLoaded: string | null;
  /** A timer's job is running now: systemd resets its Result, so the last verdict still stands. */
  jobInProgress: boolean;
  facts: Record<string, string | number | null>;
}

const NUMERIC = new Set(['MainPID', 'ExecMainPID', 'ExecMainCode', 'ExecMainStatus', 'NRestarts']);
const FACT_SKIP = /Monotonic$/;

/** The properties as facts for diagnosis: numbers as numbers, timestamps as ISO-8601, no-value as null. */
export function unitFacts(props: UnitProperties, triggered?: UnitProperties | null): Record<string, string | number | null> {
  const facts: Record<string, string | number | null> = {};
  const add = (prefix: string, p: UnitProperties): void => {
    for (const key of Object.keys(p)) {
      if (FACT_SKIP.test(key)) continue;
      facts[prefix + key] = factValue(p, key);
    }
  };
  add('', props);
  if (triggered) add('Triggered', triggered);
  return facts;
}

function factValue(p: UnitProperties, key: string): string | number | null {
  if (NUMERIC.has(key)) return int(p, key);
  if (key.endsWith('Timestamp') || key === 'LastTriggerUSec' || key === 'NextElapseUSecRealtime') {
    const ms = timestamp(p, key);
    return ms === null ? str(p, key) : new Date(ms).toISOString();
  }
  return str(p, key);
}

/** One phrase for a failed run: "exit-code, status 1", "signal, SIGKILL", "timeout". */
export function describeResult(props: UnitProperties): string {
  const result = str(props, 'Result') ?? 'unknown result';
  const exit = mainExit(props);
  if (exit === null || (exit.code === 0 && exit.signal === null)) return result;
  return exit.signal !== null ? `${result}, ${exit.signal}` : `${result}, status ${exit.code}`;
}

/**
 * What a unit's properties say about it. `triggered` is the unit a timer starts (ignored for other
 * types). Pure: the driver adds memory (exits, a timer's verdict while its job runs).
 */
export function unitHealth(props: UnitProperties, triggered?: UnitProperties | null): UnitHealth {
  const id = str(props, 'Id') ?? '?';
  const type = unitType(id);
  const active = str(props, 'ActiveState');
  const sub = str(props, 'SubState');
  const base: UnitHealth = {
    running: false, failing: null, exit: null, unknown: null, notLoaded: null, jobInProgress: false,
    facts: unitFacts(props, type === 'timer' ? triggered : null),
  };
  if (active === null) return { ...base, unknown: `systemctl reported no ActiveState for ${id}` };

  const load = str(props, 'LoadState');
  // A unit file removed (or masked) while the unit runs is still running: only an idle unit that
  // cannot load is a deployment problem.
  if (load !== 'loaded' && (active === 'inactive' || active === 'failed')) {
    const why = str(props, 'LoadError');
    return { ...base, notLoaded: `${id} is ${load ?? 'not loaded'}${why !== null ? `: ${why}` : ''}` };
  }

  // auto-restart: the main process died and systemd waits RestartSec to start it again. It is down
  // now (truthful liveness), not "starting".
  if (active === 'activating' && sub === 'auto-restart') return { ...base, exit: mainExit(props) };
  if (active === 'activating' || active === 'deactivating' || active === 'maintenance') {
    return { ...base, unknown: `${id} is ${active} (${sub ?? '?'})` };
  }
  if (active === 'inactive' || active === 'failed') return { ...base, exit: mainExit(props) };

  // active or reloading. A service's active sub-states are `running` and `exited` (a oneshot with
  // RemainAfterExit=yes whose run succeeded: systemd fails the unit instead when the run fails).
  // A timer is active while `waiting`, `running` (its job runs) or `elapsed` (nothing left to fire).
  const running = { ...base, running: true };
  if (type !== 'timer') return running;
  return { ...running, ...timerVerdict(id, triggered ?? null) };
}

function timerVerdict(timer: string, job: UnitProperties | null): Pick<UnitHealth, 'failing' | 'exit' | 'jobInProgress'> {
  if (job === null) return { failing: null, exit: null, jobInProgress: false };
  const jobId = str(job, 'Id') ?? '?';
  const jobActive = str(job, 'ActiveState');
  const jobLoad = str(job, 'LoadState');
  if (jobLoad !== 'loaded' && (jobActive === 'inactive' || jobActive === 'failed')) {
    return { failing: `${timer} triggers ${jobId}, which is ${jobLoad ?? 'not loaded'}`, exit: null, jobInProgress: false };
  }
  // systemd resets Result when a run starts, so a run in progress says nothing about the last one.
  const inProgress = jobActive === 'activating' || jobActive === 'deactivating' || jobActive === 'reloading'
    || (jobActive === 'active' && str(job, 'SubState') === 'running');
  if (inProgress) return { failing: null, exit: null, jobInProgress: true };
  const result = str(job, 'Result');
  if (result === null || result === 'success') return { failing: null, exit: mainExit(job), jobInProgress: false };
  return { failing: `${jobId}'s last run failed: ${describeResult(job)}`, exit: mainExit(job), jobInProgress: false };
}
