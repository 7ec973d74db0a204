// What every command shares: loading the config, opening the store, printing tables or --json,
// and the one error type commands throw to exit with a message.
import { InvalidArgumentError } from 'commander';
import { WardenError } from '../lib/errors.js';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { ConfigError, loadConfig } from '../config/load.js';
import { CONFIG_FLAG, dataDirOf } from '../config/last.js';
import type { ResolvedConfig } from '../domain/types.js';
import { asDamage, markerPath } from '../store/integrity.js';
import { dbPath, Store } from '../store/store.js';

/** A store was created in this data directory (its database, or its marker when the database is lost). */
export function storeCreated(dataDir: string): boolean {
  return existsSync(dbPath(dataDir)) || existsSync(markerPath(dataDir));
}

/** Thrown by commands to stop with a message and an exit code; the CLI entry maps it. */
export class CliError extends WardenError {
  constructor(message: string, readonly exitCode = 1) {
    super(exitCode === 2 ? 'USAGE' : 'COMMAND_FAILED', message);
  }
}

/**
 * The one parser of integer options (`--limit`, `--lines`, ...): plain decimal digits within
 * [min, max], so "abc", "-1" or "1e9" is a usage error (exit 2) rather than a store error.
 */
export function intOption(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`Expected an integer from ${min} to ${max}.`);
    return n;
  };
}

/** The most records a listing returns at once. */
export const LIMIT_MAX = 1_000_000;

export interface GlobalOpts {
  config: string;
}

export function config(opts: GlobalOpts): ResolvedConfig {
  return loadConfig(opts.config);
}

/** Why the config file on disk did not load, when a reading command fell back (else null). */
export let brokenConfig: string | null = null;

/**
 * The config for commands that read (or queue a command for the daemon): the file, or, when it is
 * broken, the config the daemon last loaded from its store, saying so on stderr.
 */
export function readConfig(opts: GlobalOpts): ResolvedConfig {
  try {
    return loadConfig(opts.config);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const dir = dataDirOf(opts.config);
    if (dir === null || !storeCreated(dir)) throw e;
    const s = Store.open(dir, { readonly: true });
    let last: string | null;
    try {
      last = s.getFlag(CONFIG_FLAG);
    } finally {
      s.close();
    }
    if (last === null) throw e;
    brokenConfig = `${opts.config} is broken (${e.message.split('\n')[0] ?? ''}); using the config the daemon last loaded`;
    process.stderr.write(`warden: ${brokenConfig}\n`);
    return JSON.parse(last) as ResolvedConfig;
  }
}

/** Opens the store for a command. Read-only commands never create a data directory. */
export function openStore(cfg: ResolvedConfig, mode: 'read' | 'write'): Store {
  if (!storeCreated(cfg.agent.dataDir)) {
    if (mode === 'read') throw new CliError(`no Warden data in ${cfg.agent.dataDir} yet: start the daemon with "warden run" (or look without it: "warden reconcile --once")`);
  }
  return Store.open(cfg.agent.dataDir, { readonly: mode === 'read' });
}

export function withStore<T>(cfg: ResolvedConfig, mode: 'read' | 'write', fn: (s: Store) => T): T {
  const s = openStore(cfg, mode);
  try {
    return fn(s);
  } catch (e) {
    // SQLite's SQLITE_CORRUPT names no file: say which, and what to do.
    throw asDamage(e, s.path);
  } finally {
    s.close();
  }
}

/** The Unix user running this process, as the operating system says. */
function runningUser(): { user: string; uid: number | undefined } {
  try {
    return { user: userInfo().username, uid: process.getuid?.() };
  } catch {
    return { user: 'unknown', uid: process.getuid?.() }; // no passwd entry: still someone, unnamed
  }
}

/**
 * Who runs this command, as the audit log and approvals know them: the Unix user running the CLI
 * (the operating system says who, not a flag), mapped to a person of the config by `people[].unix`.
 * `--as` names someone else: only root or a person with role `admin` may, and the override is
 * recorded beside the identity it claims.
 */
export function personIdentity(cfg: Pick<ResolvedConfig, 'people'>, as?: string, who: { user: string; uid: number | undefined } = runningUser()): { by: string; override?: string } {
  const { user } = who;
  const person = cfg.people.find((p) => p.unix === user);
  const me = `person:${person?.name ?? user}`;
  if (as === undefined || as === me) return { by: me };
  const admin = who.uid === 0 || (person?.roles.includes('admin') ?? false);
  if (!admin) throw new CliError(`--as is for admins: you are ${me}, who is neither root nor a person with role admin (people: in the config)`, 2);
  return { by: as.includes(':') ? as : `person:${as}`, override: me };
}

export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

/**
 * A plain aligned table; empty lists print a hint instead of an empty header. `paint` colours the
 * cells of some columns after padding, so escape codes never skew the alignment.
 */
export function printTable(rows: Record<string, string>[], empty: string, paint: Record<string, (v: string) => string> = {}): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[], painted: boolean): string => cells.map((c, i) => {
    const padded = i === cells.length - 1 ? c : c.padEnd(width[i]!);
    const p = painted ? paint[cols[i]!] : undefined;
    return p ? p(c) + padded.slice(c.length) : padded;
  }).join('  ').trimEnd();
  process.stdout.write(`${line(cols.map((c) => c.toUpperCase()), false)}\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => r[c] ?? ''), true)}\n`);
}

export function ago(ms: number | null | undefined, now = Date.now()): string {
  if (ms == null) return '-';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export { actionJson, ticketJson } from '../views/json.js';
