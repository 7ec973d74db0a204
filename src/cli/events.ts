// warden events [-f] | warden logs SERVICE [-f]: what happens, as it happens. The following itself
// lives in views/events.ts (shared with the API's SSE stream) and kinds/process/logs.ts.
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import type { ResolvedConfig } from '../domain/types.js';
import { followFile, logFileOf, tailLines } from '../kinds/process/logs.js';
import { binary } from '../kinds/systemd/command.js';
import { childEnv } from '../lib/childenv.js';
import type { AuditRecord } from '../store/store.js';
import { eventFilterOf, eventJson, eventLine, followAudit, ReopeningStore, TimeArgError, type EventFilter } from '../views/events.js';
import { CliError, intOption, readConfig, LIMIT_MAX, storeCreated, type GlobalOpts } from './common.js';

interface EventOpts { follow?: boolean; json?: boolean; service?: string; kind?: string; since?: string; until?: string; after?: number; lines?: number }

export function registerEvents(program: Command, globals: () => GlobalOpts): void {
  program.command('events')
    .description('audit events, oldest first; -f keeps printing new ones as they happen (works with or without a running daemon)')
    .option('-f, --follow', 'keep printing new events until interrupted')
    .option('--json', 'one JSON object per line (NDJSON)')
    .option('--service <name>', 'only events about this service (its tickets and actions included)')
    .option('--kind <kind>', 'only this kind, or every kind under it ("ticket" matches ticket.opened)')
    .option('--since <time>', 'only events at or after this ISO time, or this long ago (10m, 1h)')
    .option('--until <time>', 'only events at or before this time')
    .option('--after <seq>', 'only events after this sequence number (to resume)', intOption(0, Number.MAX_SAFE_INTEGER))
    .option('-n, --lines <n>', 'how many past events to show first (default: 50, with -f 10; all with --since or --after)', intOption(0, LIMIT_MAX))
    .action(async (o: EventOpts) => {
      const cfg = readConfig(globals());
      await events(cfg, o);
    });

  program.command('logs <service>')
    .description('the service\'s log (process: its log file and rotated ones; systemd: the journal; container and pod: podman logs); -f follows it')
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('-n, --lines <n>', 'how many past lines to show first', intOption(0, LIMIT_MAX), 50)
    .action(async (name: string, o: { follow?: boolean; lines: number }) => {
      const cfg = readConfig(globals());
      await logs(cfg, name, { follow: o.follow === true, lines: o.lines });
    });
}

/** --service, --kind, --since and --until as a store filter; a bad time is a usage error. */
export function auditFilter(o: { service?: string; kind?: string; since?: string; until?: string }, now: number): EventFilter {
  try {
    return eventFilterOf(o, now, '--');
  } catch (e) {
    if (e instanceof TimeArgError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** Aborts on SIGINT/SIGTERM so a follower ends quietly, as `tail -f` does. */
function interrupted(): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const stop = (): void => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { signal: ctl.signal, dispose: () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); } };
}

async function events(cfg: ResolvedConfig, o: EventOpts): Promise<void> {
  const filter = auditFilter(o, Date.now());
  const after = o.after ?? 0;
  const fromStart = o.since !== undefined || o.after !== undefined;
  const limit = o.lines !== undefined ? o.lines : fromStart ? undefined : o.follow ? 10 : 50;
  const print = (r: AuditRecord): void => { process.stdout.write(`${o.json ? JSON.stringify(eventJson(r)) : eventLine(r)}\n`); };
  const store = new ReopeningStore(cfg.agent.dataDir);
  try {
    let cursor = after;
    if (storeCreated(cfg.agent.dataDir)) {
      for (const r of store.listAudit({ ...filter, afterSeq: after, ...(limit !== undefined ? { limit } : {}) })) print(r);
      cursor = Math.max(after, store.head());
    } else if (!o.follow) {
      throw new CliError(`no Warden data in ${cfg.agent.dataDir} yet: start the daemon with "warden run"`);
    } else {
      process.stderr.write(`warden: no Warden data in ${cfg.agent.dataDir} yet; waiting for it\n`);
    }
    if (!o.follow) return;
    const stop = interrupted();
    let lastError = '';
    try {
      const onError = (e: unknown): void => {
        const msg = (e as Error).message;
        // The store is missing until the daemon first runs: say so once, not every poll.
        if (msg !== lastError && !msg.includes('no Warden store')) process.stderr.write(`warden: reading the audit log: ${msg} (retrying)\n`);
        lastError = msg;
      };
      for await (const r of followAudit(store, { afterSeq: cursor, filter, signal: stop.signal, onError })) print(r);
    } finally {
      stop.dispose();
    }
  } finally {
    store.close();
  }
}

async function logs(cfg: ResolvedConfig, name: string, o: { follow: boolean; lines: number }): Promise<void> {
  const spec = cfg.services.find((s) => s.name === name);
  if (!spec) throw new CliError(`no service "${name}" in ${cfg.file}; known: ${cfg.services.map((s) => s.name).join(', ')}`);
  if (spec.kind === 'systemd') {
    // The journal stamps each line and follows its own rotation.
    return passThrough(binary('journalctl'), ['-u', spec.unit ?? name, '-n', String(o.lines), '-o', 'short-iso', '--no-pager', ...(o.follow ? ['-f'] : [])]);
  }
  if (spec.kind === 'container' || spec.kind === 'pod') {
    // Podman keeps the log (it outlives the container's runs); a pod's lines carry their container's name.
    const tail = ['--tail', String(o.lines), ...(o.follow ? ['--follow'] : [])];
    return passThrough('podman', spec.kind === 'container' ? ['logs', ...tail, spec.container.name] : ['pod', 'logs', '--names', ...tail, spec.pod.name]);
  }
  // Lines are printed as the service wrote them: its stdout goes straight to the file (no pipe
  // through Warden, so it keeps logging when Warden is down), and Warden's own lines carry a time.
  const file = logFileOf(cfg.agent.dataDir, name);
  for (const line of tailLines(file, o.lines, spec.logKeep)) process.stdout.write(`${line}\n`);
  if (!o.follow) return;
  const stop = interrupted();
  try {
    for await (const line of followFile(file, { signal: stop.signal })) process.stdout.write(`${line}\n`);
  } finally {
    stop.dispose();
  }
}

/** Runs the system's own log reader with our stdout and stderr, until it ends or we are interrupted. */
async function passThrough(file: string, args: string[]): Promise<void> {
  const code = await new Promise<number>((resolve) => {
    const child = spawn(file, args, { env: childEnv(), stdio: ['ignore', 'inherit', 'inherit'] });
    const stop = interrupted();
    child.on('error', (e) => { stop.dispose(); process.stderr.write(`warden: ${file}: ${e.message}\n`); resolve(1); });
    child.on('exit', (c) => { stop.dispose(); resolve(stop.signal.aborted ? 0 : c ?? 1); });
  });
  if (code !== 0) throw new CliError('', code);
}
