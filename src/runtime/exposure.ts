// Files that hold Warden's secrets must be its owner's alone: the API token files, and the config
// when it holds secrets (config/secrets.ts says which). Checked when the daemon starts and on every
// reload; a file others can read refuses the start, or with --insecure only warns (for a lab, or
// while the operator fixes it).
import { statSync } from 'node:fs';
import { configSecrets } from '../config/secrets.js';
import type { ResolvedConfig } from '../domain/types.js';
import { WardenError } from '../lib/errors.js';
import { octal } from '../lib/private.js';

export class SecretExposedError extends WardenError {
  constructor(message: string) {
    super('SECRET_EXPOSED', message);
  }
}

/** Permission bits that let anyone but the owner read (or replace) a secret. */
const OTHERS = 0o077;

function modeOf(file: string): number | null {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return null; // missing or unreadable: reading it reports that, with its own message
  }
}

/** Each file holding a secret that others can read, as one sentence saying what to do. */
export function exposures(cfg: ResolvedConfig): string[] {
  const out: string[] = [];
  const tokenFile = cfg.agent.api?.tokenFile ?? null;
  const tokenMode = tokenFile === null ? null : modeOf(tokenFile);
  if (tokenFile !== null && tokenMode !== null && (tokenMode & OTHERS) !== 0) {
    out.push(`agent.api.tokenFile ${tokenFile} is mode ${octal(tokenMode)}: other users can read the API token; chmod 600 ${tokenFile}`);
  }
  for (const t of cfg.agent.api?.tokens ?? []) {
    const mode = modeOf(t.file);
    if (mode !== null && (mode & OTHERS) !== 0) out.push(`agent.api.tokens ${t.name}: ${t.file} is mode ${octal(mode)}: other users can read the token; chmod 600 ${t.file}`);
  }
  const secrets = configSecrets(cfg);
  const cfgMode = secrets.length > 0 ? modeOf(cfg.file) : null;
  if (cfgMode !== null && (cfgMode & OTHERS) !== 0) {
    out.push(`${cfg.file} holds secrets (${secrets.join(', ')}) and is mode ${octal(cfgMode)}: other users can read them; chmod 600 ${cfg.file}`);
  }
  return out;
}

/**
 * Throws SecretExposedError naming every exposed file, or with `insecure` logs each as a warning.
 * Never reads or prints a secret itself.
 */
export function guardSecrets(cfg: ResolvedConfig, opts: { insecure: boolean; log: (line: string) => void }): void {
  const found = exposures(cfg);
  if (found.length === 0) return;
  if (opts.insecure) {
    for (const f of found) opts.log(`warning: ${f} (running anyway: --insecure)`);
    return;
  }
  throw new SecretExposedError(`${found.join('; ')} (or run with --insecure to start anyway)`);
}
