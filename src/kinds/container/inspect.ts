// What `podman container inspect` says about a container, reduced to what Warden judges: its
// state, how its last run ended, its health and its memory limit. Pure functions over the JSON, so
// they are tested on documents captured from a real Podman.
import { constants } from 'node:os';
import type { ExitRecord, Millis } from '../../domain/types.js';

export interface ContainerView {
  name: string;
  id: string;
  image: string;
  /** created, running, exited, stopped, paused, ... (Podman's State.Status). */
  status: string;
  running: boolean;
  pid: number | null;
  exitCode: number | null;
  /** What Podman says; on cgroup v1 before Podman 5 it stays false (conmon's oom file is lost). */
  oomKilled: boolean;
  restarts: number;
  /** healthy, unhealthy, starting; null without a healthcheck. */
  health: string | null;
  startedAt: Millis | null;
  finishedAt: Millis | null;
  /** Bytes; null when unlimited. */
  memoryLimit: number | null;
  /** The action that created it (label warden.action), null when none did. */
  createdBy: string | null;
}

/** Label naming the action that created a container: after a crash, "did it happen?" is answered by identity. */
export const ACTION_LABEL = 'warden.action';
export const SERVICE_LABEL = 'warden.service';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Json : {});
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Podman writes "0001-01-01T00:00:00Z" for a time that has not happened. */
function time(v: unknown): Millis | null {
  const t = Date.parse(str(v));
  return Number.isFinite(t) && t > 0 ? t : null;
}

/** The containers in inspect's output (a JSON array), by name; null when it is not such a document. */
export function parseInspect(stdout: string): Map<string, ContainerView> | null {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return null;
  }
  if (!Array.isArray(doc)) return null;
  const out = new Map<string, ContainerView>();
  for (const item of doc) {
    const c = obj(item);
    const state = obj(c.State);
    const health = str(obj(state.Health).Status);
    const name = str(c.Name);
    const running = state.Running === true;
    const memory = num(obj(c.HostConfig).Memory);
    out.set(name, {
      name,
      id: str(c.Id),
      image: str(c.ImageName),
      status: str(state.Status),
      running,
      pid: running ? num(state.Pid) : null,
      exitCode: num(state.ExitCode),
      oomKilled: state.OOMKilled === true,
      restarts: num(c.RestartCount) ?? 0,
      health: health === '' ? null : health,
      startedAt: time(state.StartedAt),
      finishedAt: time(state.FinishedAt),
      memoryLimit: memory !== null && memory > 0 ? memory : null,
      createdBy: str(obj(obj(c.Config).Labels)[ACTION_LABEL]) || null,
    });
  }
  return out;
}

/** A container's main process killed by signal N exits 128+N: the signal's name, else null. */
export function signalOf(code: number | null): string | null {
  if (code === null || code <= 128 || code > 128 + 64) return null;
  const n = code - 128;
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0] ?? null;
}

/**
 * The run that ended between two observations: a new FinishedAt (the container stopped, or it
 * stopped and started again in between: Podman's restart policy, a restart by someone else), or a
 * run Warden never saw running (created and already exited by the next look). `prev` undefined:
 * the container did not exist at the last look. At most one: inspect keeps only the last run's end.
 */
export function exitBetween(prev: ContainerView | undefined, cur: ContainerView | undefined, now: Millis): Omit<ExitRecord, 'byWarden'> | null {
  if (cur === undefined) return null;
  const same = prev !== undefined && prev.id === cur.id;
  const ended = cur.finishedAt !== null && (!same || cur.finishedAt !== prev.finishedAt);
  const stopped = same && prev.running && !cur.running;
  if (!ended && !stopped) return null;
  // The run's start: this one's if it is not running again, else the one seen before.
  const started = !cur.running ? cur.startedAt : same ? prev.startedAt : null;
  const at = cur.finishedAt ?? now;
  return { at, code: cur.exitCode, signal: signalOf(cur.exitCode), uptimeMs: started !== null ? Math.max(0, at - started) : null };
}

/** The facts shown in diagnosis and the diagnostics bundle (Podman's own names). */
export function factsOf(v: ContainerView, kernelOom: boolean): Record<string, string | number | null> {
  return {
    Container: v.name,
    Id: v.id.slice(0, 12),
    Image: v.image,
    Status: v.status,
    ExitCode: v.exitCode,
    OOMKilled: v.oomKilled || kernelOom ? 'true' : 'false',
    ...(kernelOom && !v.oomKilled ? { OOMKilledBy: 'kernel log' } : {}),
    RestartCount: v.restarts,
    Health: v.health,
    MemoryLimit: v.memoryLimit,
  };
}
