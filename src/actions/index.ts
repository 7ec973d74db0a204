// The action registry: one typed table of the catalog's actions, with the plugin facts (description,
// parameter schema, prerequisites) beside the effect in catalog.ts. The kernel's own actions are
// keyed by their names; each subject adds its actions as `<subject type>.<name>` (etcd.defragment).
// Policy names come from here, so an action a policy may name is one that exists.
import { z } from 'zod';
import type { ActionType, CoreActionType, Tier } from '../domain/types.js';
import { registry, type Plugin } from '../plugins/plugin.js';
import { subjects } from '../subjects/index.js';
import type { SubjectActionPlugin } from '../subjects/subject.js';
import { actionKinds, type ActionKind } from './catalog.js';
import { hostReboot, type HostActionKind } from './host.js';
import { WardenError } from '../lib/errors.js';

export interface ActionPlugin<N extends string = ActionType, C extends z.ZodType = z.ZodType> extends Plugin<N, C, z.output<C>> {
  /** How it is performed and resumed (the catalog entry); a host action's acts on a host (./host.ts). */
  kind: ActionKind | HostActionKind;
  /** The authority it needs (docs/policy.md, tiers). */
  tier: Tier;
}

/** The kernel's actions act on one service: repair-service. */
function defineAction<const N extends CoreActionType, C extends z.ZodType>(name: N, description: string, config: C): ActionPlugin<N, C> {
  return { name, description, config, compile: (p) => p, prerequisites: [], kind: actionKinds[name], tier: 'repair-service' };
}

const none = z.strictObject({});

const core = {
  start: defineAction('start', 'starts a service that is not running (a no-op when it runs)', none),
  restart: defineAction('restart', 'stops a service (stopSignal, then SIGKILL after stopGrace) and starts it again; params recreate: "true" removes a container or pod and creates it from the config',
    z.strictObject({ recreate: z.enum(['true', 'false']).optional() })),
  stop: defineAction('stop', 'stops a service', none),
  'run-runbook': defineAction('run-runbook', "runs one of the service's runbooks (params: runbook)", z.strictObject({ runbook: z.string().min(1) })),
} satisfies { [T in CoreActionType]: ActionPlugin<T> };

/**
 * Actions on a host of the inventory (the target is the host's name). Warden never plans them on
 * its own: a person asks (`warden reboot HOST`), and they wait for approval unless a policy rule
 * allows them by name (docs/fleet.md).
 */
const hostActions: Record<string, ActionPlugin> = {
  'host.reboot': {
    name: 'host.reboot', description: "reboots a managed host (systemctl reboot, as root or through sudo) and waits for it to answer with a new boot id; params bootId: the boot it is to leave",
    config: z.strictObject({ bootId: z.string().regex(/^[0-9a-f-]{36}$/).optional() }), compile: (p) => p, prerequisites: [], kind: hostReboot, tier: 'repair-host',
  },
};

/** Whether an action acts on a host (its target is a host's name), not on a service. */
export function isHostAction(type: ActionType): boolean {
  return Object.hasOwn(hostActions, type);
}

/** Every subject's actions, under their qualified names. */
function subjectActions(): Record<string, ActionPlugin> {
  const out: Record<string, ActionPlugin> = {};
  for (const [type, plugin] of Object.entries(subjects)) {
    for (const [name, a] of Object.entries((plugin.actions ?? {}) as Record<string, SubjectActionPlugin>)) {
      if (a.name !== name) throw new WardenError('PLUGIN_NAME_MISMATCH', `subject ${type}'s action registered as "${name}" calls itself "${a.name}"`);
      const qualified = `${type}.${name}` as const;
      out[qualified] = { ...a, name: qualified };
    }
  }
  return out;
}

export const actions: Record<ActionType, ActionPlugin> & typeof core = registry('action', { ...core, ...hostActions, ...subjectActions() }) as Record<ActionType, ActionPlugin> & typeof core;

export const ACTION_NAMES = Object.keys(actions) as ActionType[];

/** How an action type is performed; an unknown type (a stored action whose subject is gone) is an error. */
export function actionKind(type: ActionType): ActionKind | HostActionKind {
  const a = Object.hasOwn(actions, type) ? actions[type] : undefined;
  if (!a) throw new WardenError('ACTION_UNKNOWN', `no action "${type}" in the catalog`, { retryable: false });
  return a.kind;
}
