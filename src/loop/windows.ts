// Maintenance windows as of now: each opens at its cron expression's runs (read with croner) and
// stays open for its duration. Windows are calendar time, so the wall clock decides here; what is
// done with the answer is the gate's (domain/guardrails.ts).
import { Cron } from 'croner';
import type { WindowState } from '../domain/guardrails.js';
import type { MaintenanceWindow } from '../domain/types.js';

/** Runs within one window's span, at most: a cron that fires every minute under a day-long window still ends. */
const MAX_RUNS = 10_000;

export function windowState(w: MaintenanceWindow, index: number, now: number): WindowState {
  const cron = new Cron(w.cron, { paused: true, ...(w.timezone ? { timezone: w.timezone } : {}) });
  // The latest run that started within the last `duration`: the window is open until it ends.
  let run = cron.nextRun(new Date(now - w.durationMs));
  let latest: Date | null = null;
  for (let i = 0; run !== null && run.getTime() <= now && i < MAX_RUNS; i++) {
    latest = run;
    run = cron.nextRun(run);
  }
  const next = cron.nextRun(new Date(now));
  return latest !== null
    ? { window: w, index, open: true, endsAt: latest.getTime() + w.durationMs, nextAt: next?.getTime() ?? null }
    : { window: w, index, open: false, endsAt: null, nextAt: next?.getTime() ?? null };
}

export function windowStates(windows: readonly MaintenanceWindow[] | undefined, now: number): WindowState[] {
  return (windows ?? []).map((w, i) => windowState(w, i, now));
}
