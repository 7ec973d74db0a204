// What `warden validate` checks beyond the file itself: what a valid config would still fail at
// when run on this host. Programs that are not on PATH or not executable, working directories that
// do not exist, an API token file that is missing, empty or readable by others, and policy rules
// that match nothing or decide nothing. Each finding points at the path in the file it is about;
// they are warnings, since the host validate runs on may not be the one Warden will run on
// (`validate --strict` makes them errors, for a deploy step on the target host).
import { statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { describeRule, shadowedRules, unmatchedRules } from '../domain/policy.js';
import type { ResolvedConfig } from '../domain/types.js';
import { onPath } from '../plugins/prerequisites.js';
import { probeCommand } from '../probes/index.js';
import { tokenFileCheck } from '../runtime/selfcheck.js';
import { listNames, show } from './fields.js';
import { atPath, type PathIssue, type PathSeg } from './issues.js';

export function preflightIssues(cfg: ResolvedConfig, env: NodeJS.ProcessEnv = process.env): PathIssue[] {
  const out: PathIssue[] = [];
  const add = (path: PathSeg[], message: string): void => {
    out.push({ path, message: atPath(path, message) });
  };
  const dirs = new Set<string>(); // each missing directory once, at its first use

  cfg.services.forEach((s, i) => {
    const base: PathSeg[] = ['services', i];
    const cwdOk = directory(s.cwd, [...base, 'cwd'], `${s.name} would not start`, add, dirs);
    if (s.kind === 'process' && cwdOk) program(s.start, s.cwd, s.env.PATH ?? env.PATH, [...base, 'start', 0], `${s.name} would not start`, add);
    s.checks.forEach((c, j) => {
      const cmd = probeCommand(c.probe);
      if (cmd === null) return;
      const at: PathSeg[] = [...base, 'checks', j, c.probe.type];
      if (directory(cmd.cwd, [...at, 'cwd'], `check ${c.id} would fail every time`, add, dirs)) {
        program(cmd.argv, cmd.cwd, env.PATH, [...at, cmd.field, 0], `check ${c.id} would fail every time`, add);
      }
    });
    s.runbooks.forEach((r, j) => {
      const at: PathSeg[] = [...base, 'runbooks', j];
      if (directory(r.cwd, [...at, 'cwd'], `runbook ${r.name} would fail`, add, dirs)) {
        program(r.argv, r.cwd, r.env.PATH ?? env.PATH, [...at, 'run', 0], `runbook ${r.name} would fail`, add);
      }
    });
  });

  const api = cfg.agent.api;
  if (api !== null) {
    const t = tokenFileCheck(api.tokenFile, env);
    const what = t.status === 'fail' ? 'the API would not start' : 'anyone on this host could act as an operator';
    if (t.status !== 'ok') add(['agent', 'api', ...(api.tokenFile === null ? [] : ['tokenFile'])], `${t.detail.replace(/^agent\.api /, '')}; ${what}`);
  }

  // The messages name the rule themselves ("policy.rules[1] (service: wbe)"). With no services at
  // all, every rule matches nothing: that says nothing about the rules.
  if (cfg.services.length === 0) return out;
  for (const u of unmatchedRules(cfg)) {
    out.push({ path: ['policy', 'rules', u.index], message: `${describeRule(u.rule, u.index)} matches no service; it has no effect` });
  }
  for (const s of shadowedRules(cfg)) {
    const by = s.by === null ? 'the other rules already decide' : `${describeRule(cfg.policy.rules[s.by]!, s.by)} already decides`;
    out.push({
      path: ['policy', 'rules', s.index],
      message: `${describeRule(s.rule, s.index)} has no effect: on the services it matches (${listNames(s.services, 5)}) ${by} every action it allows the same way; remove it, or change what it allows`,
    });
  }
  return out;
}

/** Whether `dir` is a directory; reports it at `path` (once per directory) when it is not. */
function directory(dir: string, path: PathSeg[], consequence: string, add: (p: PathSeg[], m: string) => void, seen: Set<string>): boolean {
  let why: string | null = null;
  try {
    if (!statSync(dir).isDirectory()) why = 'is not a directory';
  } catch (e) {
    why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  if (why !== null && !seen.has(dir)) {
    seen.add(dir);
    add(path, `working directory ${dir} ${why}; ${consequence}`);
  }
  return why === null;
}

/**
 * Whether argv[0] would start, as spawn looks for it: a name with a slash relative to `cwd`,
 * otherwise on PATH (the service's own PATH if its env sets one).
 */
function program(argv: readonly string[], cwd: string, path: string | undefined, at: PathSeg[], consequence: string, add: (p: PathSeg[], m: string) => void): void {
  const file = argv[0];
  if (file === undefined) return;
  const candidates = file.includes('/') ? [resolve(cwd, file)] : (path ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(resolve(cwd, d), file));
  if (candidates.some((c) => onPath(c, '') !== null)) return;
  const there = candidates.find((c) => exists(c));
  if (there === undefined) {
    add(at, file.includes('/')
      ? `${show(file)} does not exist (${candidates[0]}); ${consequence}`
      : `${show(file)} is not found on PATH${path === undefined ? ' (PATH is not set)' : ''}; ${consequence} (install it, or give its full path)`);
  } else {
    add(at, `${there} ${statSync(there).isDirectory() ? 'is a directory' : 'is not executable'}; ${consequence}${statSync(there).isDirectory() ? '' : ` (chmod +x ${there})`}`);
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
