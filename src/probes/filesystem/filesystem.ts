// Filesystem probe: space and inodes free on the filesystem that holds a path (Monit's `check
// filesystem`), read with statfs(2). Healthy while each minimum given is met.
import { statfs } from 'node:fs/promises';
import type { ProbeResult } from '../../domain/types.js';
import { formatBytes } from '../../lib/duration.js';
import { bounded, errorMessage, errorResult, fail, ok } from '../result.js';

/** A minimum as an absolute amount (bytes or inodes) or as a percentage of the filesystem. */
export type Minimum = { amount: number } | { percent: number };

export type FilesystemProbeSpec = {
  type: 'filesystem';
  /** Absolute; any path on the filesystem (its mount point, or a directory on it). */
  path: string;
  minFree?: Minimum;
  minInodesFree?: Minimum;
};

/** What statfs says, in the units people think in. */
export interface Usage {
  /** Space an unprivileged writer can still use (df's "Avail"). */
  freeBytes: number;
  /** Space in use plus freeBytes: what df's Use% is a share of (root's reserve is neither). */
  usableBytes: number;
  freeInodes: number;
  /** 0 on filesystems that have no inode limit. */
  totalInodes: number;
}

export async function usage(path: string): Promise<Usage> {
  const s = await statfs(path, { bigint: true });
  const used = (s.blocks - s.bfree) * s.bsize;
  const free = s.bavail * s.bsize;
  return { freeBytes: Number(free), usableBytes: Number(used + free), freeInodes: Number(s.ffree), totalInodes: Number(s.files) };
}

/** Free as a percentage of the total, to one decimal; 100 for an empty total (nothing to run out of). */
export function percent(free: number, total: number): number {
  return total <= 0 ? 100 : Math.floor((free / total) * 1000) / 10;
}

function minimumText(m: Minimum, unit: (n: number) => string): string {
  return 'percent' in m ? `${m.percent}%` : unit(m.amount);
}

/** One clause per resource: what is free, and what was required when it falls short. */
function judge(free: number, total: number, min: Minimum | undefined, unit: (n: number) => string): { text: string; short: boolean } {
  const pct = percent(free, total);
  const text = `${unit(free)} free (${pct}%)`;
  if (min === undefined) return { text, short: false };
  const short = 'percent' in min ? pct < min.percent : free < min.amount;
  return { text: short ? `${text}, under the minimum of ${minimumText(min, unit)}` : text, short };
}

async function observe(spec: FilesystemProbeSpec, start: number): Promise<ProbeResult> {
  let u: Usage;
  try {
    u = await usage(spec.path);
  } catch (err) {
    return { ...errorResult(err, start), message: `cannot read the filesystem of ${spec.path}: ${errorMessage(err)}` };
  }
  const value = { freeBytes: u.freeBytes, freeInodes: u.freeInodes };
  const space = judge(u.freeBytes, u.usableBytes, spec.minFree, formatBytes);
  const clauses = [space];
  // A filesystem without an inode table (btrfs, some FUSE mounts) reports 0 of 0: nothing to judge.
  if (u.totalInodes > 0) clauses.push(judge(u.freeInodes, u.totalInodes, spec.minInodesFree, (n) => `${n} inodes`));
  else if (spec.minInodesFree !== undefined) clauses.push({ text: 'no inode limit', short: false });
  const text = `${spec.path}: ${clauses.map((c) => c.text).join(', ')}`;
  return { ...(clauses.some((c) => c.short) ? fail(text, start) : ok(text, start)), value };
}

export function filesystem(spec: FilesystemProbeSpec, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  return bounded(observe(spec, start), timeoutMs, start);
}
