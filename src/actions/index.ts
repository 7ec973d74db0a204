// The action registry: one typed table of the catalog's actions, with the plugin facts (description,
// parameter schema, prerequisites) beside the effect in catalog.ts. Policy names come from here, so
// an action policy may name is one that exists. Its keys must be domain's ActionType, no more, no less.
import { z } from 'zod';
import type { ActionType } from '../domain/types.js';
import { registry, type Plugin } from '../plugins/plugin.js';
import { actionKinds, type ActionKind } from './catalog.js';

export interface ActionPlugin<N extends ActionType = ActionType, C extends z.ZodType = z.ZodType> extends Plugin<N, C, z.output<C>> {
  /** How it is performed and resumed (the catalog entry). */
  kind: ActionKind;
}

function defineAction<const N extends ActionType, C extends z.ZodType>(name: N, description: string, config: C): ActionPlugin<N, C> {
  return { name, description, config, compile: (p) => p, prerequisites: [], kind: actionKinds[name] };
}

const none = z.strictObject({});

export const actions = registry('action', {
  start: defineAction('start', 'starts a service that is not running (a no-op when it runs)', none),
  restart: defineAction('restart', 'stops a service (stopSignal, then SIGKILL after stopGrace) and starts it again', none),
  stop: defineAction('stop', 'stops a service', none),
  'run-runbook': defineAction('run-runbook', "runs one of the service's runbooks (params: runbook)", z.strictObject({ runbook: z.string().min(1) })),
}) satisfies { [T in ActionType]: ActionPlugin<T> };

export const ACTION_NAMES = Object.keys(actions) as ActionType[];
