// How a person's command reaches the one writer: with the daemon running, it is queued in the store
// and the daemon applies it in its next pass (woken by SIGUSR2 when we may signal it); with the
// daemon stopped, it is applied to the store directly. Either way through app/commands.ts.
import { applyCommand, type Command, type CommandResult } from '../app/commands.js';
import type { ResolvedConfig } from '../domain/types.js';
import { sleep } from '../lib/wait.js';
import { runningDamage } from '../daemon/damage.js';
import { lockHolder } from '../daemon/lock.js';
import { systemClock } from '../lib/clock.js';
import { readBootId } from '../runtime/boot.js';
import { CliError, personIdentity, withStore } from './common.js';

/** How long the CLI waits for a running daemon to apply a queued command. */
const WAIT_MS = 10_000;

/** A command as a person types it: who they are is added here. */
export type PersonCommand = Command extends infer C ? C extends Command ? Omit<C, 'by' | 'override'> : never : never;

/** Submits a person's command as the Unix user running the CLI (or, for an admin, `as` someone). */
export async function submit(cfg: ResolvedConfig, command: PersonCommand, as?: string): Promise<string> {
  const cmd = { ...command, ...personIdentity(cfg, as) } as Command;
  // The data directory's lock says whether a daemon runs (not its heartbeat, which a dead one leaves).
  const holder = lockHolder(cfg.agent.dataDir);
  // A daemon that found its store damaged acts on nothing more: say so now, queue nothing.
  refuseIfDamaged(cfg, holder, 'nothing was queued');
  const queued = withStore(cfg, 'write', (s): { id: number; pid: number } | CommandResult => {
    if (holder === null) return applyCommand(s, cmd, { wall: Date.now(), mono: systemClock.mono(), boot: readBootId() }, cfg);
    return { id: s.enqueueCommand(JSON.stringify(cmd), Date.now()), pid: holder.pid };
  });
  if ('ok' in queued) return outcome(queued);
  try {
    if (queued.pid > 0) process.kill(queued.pid, 'SIGUSR2');
  } catch {
    // Not ours to signal: the daemon still applies it within one pass interval.
  }
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const r = withStore(cfg, 'read', (s) => s.commandResult(queued.id));
    if (r && r.state !== 'pending' && r.result) return outcome(JSON.parse(r.result) as CommandResult);
    const damaged = runningDamage(cfg.agent.dataDir, holder) !== null;
    if (damaged || Date.now() > deadline) {
      // Withdrawn, so that a command nobody waits for any more is never applied days later.
      const withdrawn = withStore(cfg, 'write', (s) => s.withdrawCommand(queued.id, JSON.stringify({ ok: false, code: 'WITHDRAWN', message: 'not applied in time; withdrawn by the CLI' })));
      if (!withdrawn) continue; // applied just now: read its result
      // Queued just before the daemon found the damage: it will never apply it.
      if (damaged) refuseIfDamaged(cfg, holder, 'it was withdrawn and nothing changed');
      throw new CliError(`the daemon (pid ${queued.pid}) did not apply the command within ${WAIT_MS / 1000} s, so it was withdrawn and nothing changed; see "warden status" (its passes may be failing)`);
    }
    await sleep(20);
  }
}

function refuseIfDamaged(cfg: ResolvedConfig, holder: { pid: number } | null, what: string): void {
  const note = runningDamage(cfg.agent.dataDir, holder);
  if (note) throw new CliError(`refused: the daemon (pid ${note.pid}) says ${note.reason}; ${what}`);
}

function outcome(r: CommandResult): string {
  if (!r.ok) throw new CliError(r.message);
  return r.message;
}
