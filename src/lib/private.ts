// Warden's own files are its owner's alone: the store, the audit chain and the service logs say
// what runs where and what went wrong, and logs carry whatever the services print (tokens too).
// New files are made private (modes here, and the daemon's umask); files an older Warden or a
// looser umask left open are tightened when the daemon starts.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;
/** What the daemon runs with (and the systemd unit sets): whatever it creates is private. */
export const PRIVATE_UMASK = 0o077;

/** mkdir -p, every directory it creates private; returns the first one created, as mkdirSync does. */
export function mkdirPrivate(dir: string): string | undefined {
  return mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
}

/**
 * Takes group and other permissions off `dir` and everything under it (symbolic links are not
 * followed). Returns what it changed, as "path: 0755 → 0700". A file someone else owns cannot be
 * changed (EPERM) and is left for `warden doctor` to report.
 */
export function tightenTree(dir: string): string[] {
  const changed: string[] = [];
  const visit = (path: string): void => {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return; // gone meanwhile
    }
    if (st.isSymbolicLink()) return;
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      const want = mode & 0o700;
      try {
        chmodSync(path, want);
        changed.push(`${path}: ${octal(mode)} → ${octal(want)}`);
      } catch {
        // Not ours to change.
      }
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return changed;
}

export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}
