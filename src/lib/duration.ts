// Durations and sizes as people write them in configuration ("1m30s", "10MiB") and as they read
// them in output. Milliseconds and bytes are the only units the rest of the code sees.

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * The longest duration any setting may have: a week is more than any Warden wait needs, and it
 * keeps deadline arithmetic far from the limits of timers and floats.
 */
export const MAX_DURATION_MS = 7 * UNIT_MS.d;
export const MAX_DURATION = '7d';

/**
 * One or more `<number><unit>` parts, Go style: "250ms", "1.5s", "1m30s", "1h". Exported so the
 * config schema can publish the same pattern to editors. `ms` comes before `m` in the alternation
 * so a regex engine tries the longer unit first.
 */
export const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Parses "250ms", "2s", "10m", "1h", "7d", "1.5s", "1m30s" into milliseconds (rounded to whole ms). */
export function parseDuration(s: string): number {
  if (typeof s !== 'string' || !DURATION_PATTERN.test(s)) {
    throw new Error(
      `invalid duration ${JSON.stringify(s)}: expected a number with a unit (ms, s, m, h, d), e.g. 500ms, 2s, 1m30s`,
    );
  }
  let total = 0;
  for (const [, num, unit] of s.matchAll(DURATION_PART)) {
    total += Number(num) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Math.round(total);
}

/** Milliseconds for people: 250 → "250ms", 1500 → "1.5s", 90000 → "1m30s", 3600000 → "1h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest < 1_000) return `${rest}ms`;
  const h = Math.floor(rest / UNIT_MS.h);
  rest -= h * UNIT_MS.h;
  const m = Math.floor(rest / UNIT_MS.m);
  rest -= m * UNIT_MS.m;
  // Seconds keep their milliseconds as a decimal fraction ("1.5s"), which parseDuration reads back.
  const s = rest / 1_000;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}

// Binary units (KiB) are powers of 1024 and decimal units (KB) powers of 1000, as the IEC and SI
// define them, so "512KB" means what it says rather than what one tool or another assumed.
const UNIT_BYTES: Record<string, number> = {
  B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40,
};

/** A whole number of bytes, or a number with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB; case matters). */
export const BYTES_PATTERN = /^(\d+(?:\.\d+)?) ?([KMGT]i?B|B)?$/;

/** Parses 1048576, "1048576", "512KB" (512000) or "10MiB" (10485760) into a whole number of bytes. */
export function parseBytes(v: string | number): number {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return v;
    throw new Error(`invalid size ${v}: expected a whole, non-negative number of bytes`);
  }
  const m = typeof v === 'string' ? BYTES_PATTERN.exec(v) : null;
  const num = m?.[1];
  if (m === null || num === undefined) {
    throw new Error(
      `invalid size ${JSON.stringify(v)}: expected bytes or a number with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 10MiB`,
    );
  }
  const unit = UNIT_BYTES[m[2] ?? 'B'] ?? 1;
  const bytes = Math.round(Number(num) * unit);
  if (!Number.isSafeInteger(bytes)) throw new Error(`invalid size ${JSON.stringify(v)}: too large`);
  return bytes;
}

/** Bytes for people, in binary units to one decimal: 512 → "512 B", 1536 → "1.5 KiB", 10485760 → "10 MiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : Math.round(v * 10) / 10} ${units[i] ?? 'B'}`;
}
