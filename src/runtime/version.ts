// Warden's own version, read once from the package.json shipped beside dist/ (one source of truth).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** The `version` of Warden's package.json, or "unknown" when the file cannot be read. */
export function wardenVersion(): string {
  if (cached !== null) return cached;
  try {
    // dist/src/runtime/version.js → the package root is three levels up.
    const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json');
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    cached = typeof v === 'string' ? v : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
