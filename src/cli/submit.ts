// How a person's command reaches the one writer: with the daemon running, it is queued in the store
// and the daemon applies it in its next pass (woken by SIGUSR2 when we may signal it); with the
// daemon stopped, it is applied to the store directly. Either way through app/commands.ts.
import { applyCommand, type Command, type CommandResult } from '../app/commands.js';
import type { ResolvedConfig } from '../domain/types.js';
import { sleep } from '../lib/wait.js';
import type { Store } from '../store/store.js';
import { CliError, withStore } from './common.js';

/** How long the CLI waits for a running daemon to apply a queued command. */
const WAIT_MS = 10_000;

/** The pid of a live daemon on this data directory, from its heartbeat; null when none runs. */
export function runningDaemon(store: Store): number | null {
  const raw = store.getFlag('daemon');
  if (!raw) return null;
  try {
    const { pid } = JSON.parse(raw) as { pid?: number };
    if (typeof pid !== 'number' || pid === process.pid) return null;
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? Number((JSON.parse(raw) as { pid: number }).pid) : null;
  }
}

export async function submit(cfg: ResolvedConfig, cmd: Command): Promise<string> {
  const queued = withStore(cfg, 'write', (s): { id: number; pid: number } | CommandResult => {
    const pid = runningDaemon(s);
    if (pid === null) return applyCommand(s, cmd, Date.now());
    return { id: s.enqueueCommand(JSON.stringify(cmd), Date.now()), pid };
  });
  if ('ok' in queued) return outcome(queued);
  try {
    process.kill(queued.pid, 'SIGUSR2');
  } catch {
    // Not ours to signal: the daemon still applies it within one pass interval.
  }
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const r = withStore(cfg, 'read', (s) => s.commandResult(queued.id));
    if (r && r.state !== 'pending' && r.result) return outcome(JSON.parse(r.result) as CommandResult);
    if (Date.now() > deadline) {
      throw new CliError(`queued as command ${queued.id}, but the daemon (pid ${queued.pid}) has not applied it within ${WAIT_MS / 1000} s; it applies it on its next successful pass (see "warden status")`);
    }
    await sleep(20);
  }
}

function outcome(r: CommandResult): string {
  if (!r.ok) throw new CliError(r.message);
  return r.message;
}
