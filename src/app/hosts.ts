// A person's hand on a host: `warden reboot HOST` proposes a host.reboot (src/actions/host.ts),
// which the executor runs once, under policy. Rebooting a machine is never Warden's own idea and
// never goes unseen: it waits for a person's approval unless a policy rule allows host.reboot by
// name on that host, and a rule that denies it refuses the request. The person's tier on the host
// counts as for a service (domain/manual.ts): host.reboot needs repair-host.
import { proposeAction } from '../domain/action.js';
import type { AuditIntent } from '../domain/audit.js';
import type { Instant } from '../domain/elapsed.js';
import { HOST_BOOT_FLAG } from '../domain/hosts.js';
import { requesterOf } from '../domain/identity.js';
import { hostVerdict } from '../domain/manual.js';
import type { ResolvedConfig } from '../domain/types.js';
import type { Store } from '../store/store.js';
import { ControlError, refuse } from './control.js';

export type HostCommand = { kind: 'host'; op: 'reboot'; host: string; by: string; reason?: string | null };

export function applyHostControl(store: Store, cmd: HostCommand, instant: Instant, config: ResolvedConfig | null, audit: (intents: readonly AuditIntent[]) => void): string {
  if (!config) throw new ControlError('NO_INVENTORY', `reboot needs the inventory to know host ${cmd.host}`);
  if (!config.hosts.some((h) => h.name === cmd.host)) {
    throw new ControlError('NOT_FOUND', `no host "${cmd.host}" in the inventory; hosts are: ${config.hosts.map((h) => h.name).join(', ')}`);
  }
  const type = 'host.reboot';
  // No rule naming it: allowed, but only with a person's approval; the person's tier on the host counts too.
  const verdict = hostVerdict(config, requesterOf(config, cmd.by), type, cmd.host);
  if (!verdict.ok) refuse(verdict, type, cmd.host);
  const approval = verdict.approval;
  const ids = store.nextIds();
  const id = `A${ids.A}`;
  // The boot it is to leave, as Warden last read it: how the reboot is told from none.
  const bootId = store.getFlag(HOST_BOOT_FLAG + cmd.host);
  const state = approval === null ? 'validated' : 'awaiting_approval';
  const r = proposeAction({
    id, type, target: cmd.host, params: bootId === null ? {} : { bootId }, ticketId: null,
    idempotencyKey: `manual:${cmd.host}:${type}:${instant.wall}:${id}`, state,
    why: { reason: cmd.reason ?? 'reboot by hand', manual: true, host: cmd.host }, ...(approval !== null ? { approval } : {}),
  }, { now: instant.wall, actor: cmd.by, stamp: { mono: instant.mono, boot: instant.boot } });
  store.putAction(r.next);
  store.useIds({ T: ids.T, A: ids.A + 1 });
  audit(r.audit);
  const when = state === 'awaiting_approval' ? `awaits approval ("warden actions approve ${id}")${verdict.why ? `: ${verdict.why}` : ''}` : 'runs within one pass';
  const leaving = bootId === null ? '; its boot id is not known yet, so it is read first' : `; it is done when ${cmd.host} answers with a boot id other than ${bootId}`;
  return `action ${id} (${type} ${cmd.host}) ${when}${leaving}`;
}
