// What Warden can check of its own environment before it is trusted with a host: its data
// directory (there, writable, not full, not open to others), its store (SQLite quick_check,
// read-only), its API token file's permissions, and its clocks. Used by `warden doctor`.
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResolvedConfig } from '../domain/types.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { TOKEN_ENV } from '../lib/childenv.js';
import { errorText } from '../lib/errors.js';
import { octal } from '../lib/private.js';
import { dbPath } from '../store/store.js';
import { exposures } from './exposure.js';
import { findHierarchy } from '../kinds/process/cgroup.js';
import { instanceIdOf } from '../loop/shared.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface SelfCheck {
  check: string;
  status: CheckStatus;
  detail: string;
}

/** Below this the store cannot be trusted to take a pass's writes; below WARN_FREE it soon will not. */
const MIN_FREE = 64 * 1024 * 1024;
const WARN_FREE = 512 * 1024 * 1024;
/** A wall clock before this is unset (an RTC-less board at boot), not merely wrong. */
const SANE_AFTER = Date.UTC(2024, 0, 1);

export function selfChecks(cfg: ResolvedConfig, clock: Clock = systemClock): SelfCheck[] {
  const dir = cfg.agent.dataDir;
  const out: SelfCheck[] = [];
  // The data directory is created on first start; then its parent must take it.
  const existing = nearestExisting(dir);
  const writable = canWrite(existing);
  out.push(existing === dir
    ? { check: 'data directory', status: writable ? 'ok' : 'fail', detail: `${dir} ${writable ? 'is writable' : 'is not writable by this user'}` }
    : { check: 'data directory', status: writable ? 'ok' : 'fail', detail: `${dir} does not exist yet; ${existing} ${writable ? 'lets Warden create it' : 'is not writable, so Warden cannot create it'}` });
  out.push(freeSpace(existing));
  if (existing === dir) {
    const mode = statSync(dir).mode & 0o777;
    const open = mode & 0o022 ? '; others can write the store and the audit chain (chmod 700)' : mode & 0o077 ? '; others can read the store and the logs (warden run makes it 0700)' : '';
    out.push({ check: 'data directory permissions', status: mode & 0o002 ? 'fail' : mode & 0o077 ? 'warn' : 'ok', detail: `${dir} is mode ${octal(mode)}${open}` });
  }
  out.push(storeIntegrity(dbPath(dir)));
  if (cfg.agent.api !== null) out.push(tokenFileCheck(cfg.agent.api.tokenFile));
  out.push(secretFiles(cfg));
  out.push(cgroups(cfg));
  out.push(...clocks(clock));
  return out;
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function mib(bytes: number): string {
  return `${Math.floor(bytes / 1024 / 1024)} MiB`;
}

function freeSpace(path: string): SelfCheck {
  try {
    const s = statfsSync(path);
    const free = s.bavail * s.bsize;
    const status: CheckStatus = free < MIN_FREE ? 'fail' : free < WARN_FREE ? 'warn' : 'ok';
    return { check: 'free space', status, detail: `${mib(free)} free on the filesystem of ${path}${status === 'ok' ? '' : `; the store needs at least ${mib(MIN_FREE)}`}` };
  } catch (e) {
    return { check: 'free space', status: 'warn', detail: `cannot stat the filesystem of ${path}: ${errorText(e)}` };
  }
}

/** PRAGMA quick_check on a read-only connection: it never takes the write lock from a running daemon. */
function storeIntegrity(file: string): SelfCheck {
  if (!existsSync(file)) return { check: 'store integrity', status: 'ok', detail: `no store yet (${file} is created on first start)` };
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    const bad = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
    return bad.length === 0
      ? { check: 'store integrity', status: 'ok', detail: `${file}: quick_check ok` }
      : { check: 'store integrity', status: 'fail', detail: `${file}: ${bad.slice(0, 3).join('; ')} (recover it with "warden store recover")` };
  } catch (e) {
    return { check: 'store integrity', status: 'fail', detail: `${file}: ${errorText(e)}` };
  } finally {
    db?.close();
  }
}

/** Whether the API would find its token (readToken in runtime/api.ts), and only its owner can read it. */
export function tokenFileCheck(file: string | null, env: NodeJS.ProcessEnv = process.env): SelfCheck {
  if (file === null) {
    const set = (env[TOKEN_ENV] ?? '').trim() !== '';
    return { check: 'API token', status: set ? 'ok' : 'fail', detail: set ? 'from $WARDEN_API_TOKEN' : 'agent.api has no tokenFile and $WARDEN_API_TOKEN is not set' };
  }
  try {
    const st = statSync(file);
    const mode = st.mode & 0o777;
    if (!st.isFile()) return { check: 'API token', status: 'fail', detail: `${file} is not a file` };
    if (st.size === 0) return { check: 'API token', status: 'fail', detail: `${file} is empty; write a secret token into it` };
    return mode & 0o077
      ? { check: 'API token', status: 'warn', detail: `${file} is mode ${octal(mode)}: others can read the token (chmod 600)` }
      : { check: 'API token', status: 'ok', detail: `${file} is mode ${octal(mode)}` };
  } catch (e) {
    return { check: 'API token', status: 'fail', detail: `${file}: ${(e as NodeJS.ErrnoException).code ?? errorText(e)}` };
  }
}

/** The same rule `warden run` enforces: files holding secrets are readable by their owner only. */
function secretFiles(cfg: ResolvedConfig): SelfCheck {
  const found = exposures(cfg);
  return found.length === 0
    ? { check: 'secret files', status: 'ok', detail: 'no token file or config holding secrets is readable by other users' }
    : { check: 'secret files', status: 'fail', detail: `${found.join('; ')}; warden run refuses to start until then` };
}

/** Whether `kind: process` services get a cgroup each (a stop kills all they started) or only a process group. */
function cgroups(cfg: ResolvedConfig): SelfCheck {
  const found = findHierarchy(instanceIdOf(cfg));
  const used = cfg.services.some((s) => s.kind === 'process');
  // Without one, stops still work, minus setsid() escapees: worth a warning only where it matters.
  return { check: 'service cgroups', status: found.usable || !used ? 'ok' : 'warn', detail: found.detail };
}

function clocks(clock: Clock): SelfCheck[] {
  const a = clock.mono();
  const b = clock.mono();
  const mono: SelfCheck = Number.isFinite(a) && b >= a
    ? { check: 'monotonic clock', status: 'ok', detail: 'available; every duration, timeout and deadline runs on it' }
    : { check: 'monotonic clock', status: 'fail', detail: `went from ${a} to ${b}` };
  const now = clock.now();
  const wall: SelfCheck = now >= SANE_AFTER
    ? { check: 'wall clock', status: 'ok', detail: `${new Date(now).toISOString()} (stamps records only)` }
    : { check: 'wall clock', status: 'warn', detail: `${new Date(now).toISOString()} looks unset; records will carry that time (is NTP running?)` };
  return [mono, wall];
}
