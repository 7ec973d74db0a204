// Store damage found while the daemon runs: the one sentence every surface says (status, /healthz,
// debug, the log, the notification, a refused command), and the note in the data directory that
// lets a CLI command tell it without reading the damaged store or reaching the API.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { PRIVATE_FILE } from '../lib/private.js';
import type { Damage } from '../store/watch.js';
import type { DataDirHolder } from './lock.js';

/** The daemon's latched verdict: which file, what is wrong, since when (wall time). */
export interface StoreDamage extends Damage {
  since: number;
}

/** What status, /healthz, debug, the log and a refused command say (ISO `since` for JSON). */
export interface DamageNote {
  pid: number;
  since: string;
  reason: string;
}

export const DAMAGE_FILE = 'store-damage.json';

/** The sentence, from this one place. */
export function damageText(d: Damage): string {
  return `store damaged: ${d.file}: ${d.what}; acting stopped; restore a backup or run warden store recover`;
}

const notePath = (dataDir: string): string => path.join(path.resolve(dataDir), DAMAGE_FILE);

/** Atomic (temp, fsync, rename): a reader sees the whole note or none. */
export function writeDamageNote(dataDir: string, note: DamageNote): void {
  const file = notePath(dataDir);
  const tmp = `${file}.tmp-${note.pid}`;
  const fd = openSync(tmp, 'w', PRIVATE_FILE);
  try {
    writeSync(fd, `${JSON.stringify(note)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Removes a note an earlier run left; returns what it said (null: there was none). */
export function clearDamageNote(dataDir: string): DamageNote | null {
  const note = readNote(dataDir);
  rmSync(notePath(dataDir), { force: true });
  return note;
}

function readNote(dataDir: string): DamageNote | null {
  try {
    const n = JSON.parse(readFileSync(notePath(dataDir), 'utf8')) as Partial<DamageNote>;
    return typeof n.pid === 'number' && typeof n.reason === 'string' ? { pid: n.pid, since: String(n.since ?? ''), reason: n.reason } : null;
  } catch {
    return null;
  }
}

/**
 * The note of the daemon running now (the data directory's lock holder); a note left by an
 * earlier run says nothing about the store that runs now, and is ignored.
 */
export function runningDamage(dataDir: string, holder: DataDirHolder | null): DamageNote | null {
  if (holder === null) return null;
  const note = readNote(dataDir);
  return note !== null && note.pid === holder.pid ? note : null;
}
