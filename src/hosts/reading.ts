// One reading of a host over its transport, in one round trip: boot id, load, memory, the clock,
// and space and inodes of the listed mounts. The script uses only what every Linux has (/proc,
// coreutils' date and df); its output is parsed here, pure, so the parser is tested on text.
import type { HostFacts } from '../domain/types.js';

type Reading = Pick<HostFacts, 'bootId' | 'load' | 'memory' | 'disks'> & { clockNs: bigint };

const SCRIPT = [
  'echo "@boot"; cat /proc/sys/kernel/random/boot_id',
  'echo "@load"; cat /proc/loadavg',
  'echo "@mem"; grep -E "^(MemTotal|MemAvailable):" /proc/meminfo',
  'echo "@clock"; date +%s%N',
  // -P: one line per mount, whatever the device name's length.
  'echo "@df"; df -P -k -- "$@" 2>/dev/null | tail -n +2',
  'echo "@dfi"; df -P -i -- "$@" 2>/dev/null | tail -n +2',
  'exit 0',
].join('\n');

/** argv that prints the reading (the mounts are arguments, never spliced into the script). */
export function readingArgv(mounts: readonly string[]): string[] {
  return ['sh', '-c', SCRIPT, 'sh', ...mounts];
}

export function parseReading(out: string, mounts: readonly string[]): Reading | null {
  const sections = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const line of out.split('\n')) {
    if (/^@\w+$/.test(line)) { cur = []; sections.set(line.slice(1), cur); continue; }
    if (cur !== null && line.trim() !== '') cur.push(line.trim());
  }
  const bootId = sections.get('boot')?.[0];
  const clock = sections.get('clock')?.[0];
  if (bootId === undefined || !/^[0-9a-f-]{36}$/.test(bootId) || clock === undefined || !/^\d+$/.test(clock)) return null;
  const [l1, l5, l15] = (sections.get('load')?.[0] ?? '').split(/\s+/).map(Number);
  const kb = (key: string): number => Number(/(\d+)/.exec(sections.get('mem')?.find((l) => l.startsWith(`${key}:`)) ?? '')?.[1] ?? NaN);
  const pct = (line: string | undefined): { mount: string; pct: number | null } | null => {
    // Filesystem 1024-blocks Used Available Capacity Mounted-on (the mount point may hold spaces).
    const f = line?.split(/\s+/);
    if (f === undefined || f.length < 6) return null;
    const p = /^(\d+)%$/.exec(f[4] ?? '');
    return { mount: f.slice(5).join(' '), pct: p ? Number(p[1]) : null };
  };
  const space = (sections.get('df') ?? []).map(pct);
  const inodes = (sections.get('dfi') ?? []).map(pct);
  const disks = mounts.map((m, i) => {
    // df prints one line per argument, in order, naming the mount the path is on.
    const s = space[i];
    return { mount: m, usedPct: s?.pct ?? NaN, inodesUsedPct: inodes[i]?.pct ?? null };
  }).filter((d) => !Number.isNaN(d.usedPct));
  return {
    bootId,
    clockNs: BigInt(clock),
    ...(l1 !== undefined && l5 !== undefined && l15 !== undefined && [l1, l5, l15].every(Number.isFinite) ? { load: [l1, l5, l15] as [number, number, number] } : {}),
    ...(Number.isFinite(kb('MemTotal')) && Number.isFinite(kb('MemAvailable')) ? { memory: { totalKb: kb('MemTotal'), availableKb: kb('MemAvailable') } } : {}),
    disks,
  };
}

/**
 * The host's clock minus ours, taking its reading to be from the middle of the round trip
 * (`sentAt`, `gotAt`: our wall clock around it); off by at most half the round trip.
 */
export function clockOffset(clockNs: bigint, sentAt: number, gotAt: number): number {
  return Math.round(Number(clockNs / 1_000_000n) - (sentAt + gotAt) / 2);
}
