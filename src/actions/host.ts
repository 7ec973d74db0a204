// Actions on a host rather than a service: `host.reboot`. The target is a host of the inventory,
// reached through its transport; what it does is judged by the host's boot id, which changes on
// every boot and on nothing else, so "did it happen?" is a comparison, never an estimate.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Action, HostFacts, HostSpec } from '../domain/types.js';
import { WardenError } from '../lib/errors.js';
import { asRoot, sudoRefused } from '../transport/root.js';
import type { Transport } from '../transport/transport.js';
import type { ActionKind } from './catalog.js';

export interface HostActionContext {
  host: HostSpec;
  action: Action;
  transport: Transport;
  /** What the host monitor last read of the host (its boot id), if it has read it. */
  facts: () => HostFacts | undefined;
}

export type HostActionKind = ActionKind<HostActionContext> & { on: 'host' };

/** How long a host may take to go down and come back before the attempt times out. */
export const REBOOT_TIMEOUT_MS = 10 * 60_000;
/** How often the host is asked for its boot id while it reboots. */
const POLL_MS = 1000;
const READ_TIMEOUT_MS = 5000;

/** The host's boot id now, or null when it does not answer (down, rebooting, unreachable). */
async function bootIdOf(t: Transport, signal?: AbortSignal): Promise<string | null> {
  const r = await t.run(['cat', '/proc/sys/kernel/random/boot_id'], { timeoutMs: READ_TIMEOUT_MS, ...(signal ? { signal } : {}) });
  const id = r.stdout.trim();
  return r.code === 0 && /^[0-9a-f-]{36}$/.test(id) ? id : null;
}

class HostActionError extends WardenError {
  constructor(code: string, message: string, retryable: boolean) {
    super(code, message, { retryable });
  }
}

/**
 * `systemctl reboot` on the host (as root: sudo for a restricted account), then wait until it
 * answers with another boot id. The boot id it is to leave comes with the action (`params.bootId`,
 * what Warden last read when it was asked for), so a host found already rebooted — after Warden
 * restarted mid-action — is not rebooted again.
 */
export const hostReboot: HostActionKind = {
  on: 'host',
  async run(ctx, signal) {
    const name = ctx.host.name;
    const now = await bootIdOf(ctx.transport, signal);
    const from = ctx.action.params.bootId ?? now;
    if (from === null) throw new HostActionError('HOST_UNREACHABLE', `${name} does not answer over ${ctx.transport.kind}: it cannot be rebooted from here (power-cycle it by hand if it hangs)`, true);
    if (now === null || now === from) {
      // Not answering with the boot id it is to leave: it is down already (Warden restarted while
      // it rebooted), and is waited for below; otherwise the reboot is asked for now.
      if (now !== null) await requestReboot(ctx, signal);
    } else {
      return `${name} had rebooted already: boot id ${from} → ${now}`;
    }
    for (;;) {
      await sleep(POLL_MS, undefined, { signal });
      const id = await bootIdOf(ctx.transport, signal);
      if (id !== null && id !== from) return `${name} rebooted: boot id ${from} → ${id}`;
    }
  },
  resume(ctx) {
    const from = ctx.action.params.bootId;
    const seen = ctx.facts()?.bootId;
    if (from === undefined) return { outcome: 'unknown', detail: `which boot ${ctx.host.name} was to leave is not recorded; not rebooted again` };
    if (seen !== undefined && seen !== from) return { outcome: 'completed', detail: `${ctx.host.name} runs boot ${seen}, not ${from}` };
    // Still on the boot it was to leave, or not read yet: the attempt asks it again (systemd
    // takes a second reboot request while one runs as the same job) and waits.
    return { outcome: 'continue', detail: `${ctx.host.name} ${seen === undefined ? 'has not been read yet' : `still runs boot ${from}`}` };
  },
  timeoutMs: () => REBOOT_TIMEOUT_MS,
};

async function requestReboot(ctx: HostActionContext, signal: AbortSignal): Promise<void> {
  const argv = asRoot(['systemctl', 'reboot']);
  const r = await ctx.transport.run(argv, { timeoutMs: 30_000, signal });
  if (r.code === 0) return;
  // The host going down under the command ends the connection: the request got there.
  if (r.unreachable !== undefined && r.unreachable.code === 'HOST_UNREACHABLE') return;
  const said = r.stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(-1)[0] ?? `exit ${r.code ?? 'none'}`;
  if (sudoRefused(r.stderr)) {
    throw new HostActionError('SUDO_REFUSED', `${ctx.host.name}: sudo refused systemctl reboot (${said}); add "/usr/bin/systemctl reboot" to the account's rule in /etc/sudoers.d/warden (docs/fleet.md)`, false);
  }
  throw new HostActionError('REBOOT_FAILED', `${ctx.host.name}: systemctl reboot failed: ${said}`, r.code === null);
}
